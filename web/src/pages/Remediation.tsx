// Remediation: notified servers still vulnerable over time (chart with the campaign's events), the groups by
// organisation, country or ASN, the overdue list, the notices sent (analysts: each message as sent), and the
// analyst's dry run: upload or paste a contacts file, read the notices Vigie would send — nothing is sent.
// Everything from the API (host names, organisation names, message bodies) is rendered as text nodes.
import { useState } from "preact/hooks";
import { ApiError, getText, postJson, qs } from "../api.js";
import { href } from "../router.js";
import type { DryRunResult, NoticeSummary, OverdueServer, RemediationGroup, RemediationSeries, Session, Snapshot } from "../types.js";
import { ErrorBox, useApi } from "./common.js";

const BY = ["org", "country", "asn"] as const;
const BY_LABEL: Record<string, string> = { org: "Organisation", country: "Country", asn: "ASN" };
const days = (n: number | null): string => (n === null ? "–" : String(Math.round(n * 10) / 10));
const isWebUrl = (u: string): boolean => /^https?:\/\//i.test(u);

function Events(props: { series: RemediationSeries | undefined }) {
  const s = props.series;
  if (!s || s.events.length === 0) return null;
  return (
    <details id="events">
      <summary>{`Timeline: ${s.events.length} events of ${s.cves.join(", ")}`}</summary>
      <ul class="timeline">
        {s.events.map((e) => (
          <li>
            <strong>{e.date}</strong> {e.title} <span class="muted">({e.kind})</span>{" "}
            {e.sources.map((id) => {
              const src = s.sources[id];
              return src && isWebUrl(src.url) ? (
                <a href={src.url} rel="noreferrer noopener" target="_blank" class="source">
                  {src.title ?? id}
                </a>
              ) : (
                <span class="muted">{src?.title ?? id}</span>
              );
            })}
          </li>
        ))}
      </ul>
    </details>
  );
}

function Groups(props: { by: string; groups: RemediationGroup[] | undefined }) {
  return (
    <table id="remediation-groups">
      <thead>
        <tr>
          <th>{BY_LABEL[props.by]}</th>
          <th>Notified</th>
          <th>Remediated</th>
          <th>Still vulnerable</th>
          <th>Unknown</th>
          <th>Gone</th>
          <th>Median days to fix</th>
          <th>p90 days to fix</th>
        </tr>
      </thead>
      <tbody>
        {(props.groups ?? []).map((g) => (
          <tr>
            <td class="key">{g.key}</td>
            <td class="num">{g.notified}</td>
            <td class="num">{g.remediated}</td>
            <td class="num">{g.stillVulnerable}</td>
            <td class="num">{g.unknown}</td>
            <td class="num">{g.gone}</td>
            <td class="num">{days(g.medianDaysToFix)}</td>
            <td class="num">{days(g.p90DaysToFix)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Overdue(props: { servers: OverdueServer[] | undefined; overdueDays: number }) {
  const list = props.servers ?? [];
  return (
    <div>
      <p id="overdue-count">{props.servers ? `${list.length} (server, CVE) still vulnerable ${props.overdueDays} days or more after their notice` : "Loading…"}</p>
      <table id="overdue">
        <thead>
          <tr>
            <th>Organisation</th>
            <th>Server</th>
            <th>Host name</th>
            <th>CVE</th>
            <th>Notified</th>
            <th>Days</th>
            <th>Still vulnerable in</th>
          </tr>
        </thead>
        <tbody>
          {list.map((s) => (
            <tr>
              <td>{s.organisation}</td>
              <td>
                <a class="host-link" href={href(`/host/${s.ip}/${s.port}`, { snapshot: s.snapshot })}>{`${s.ip}:${s.port}`}</a>
              </td>
              <td class="hostname value">{s.hostname ?? ""}</td>
              <td>{s.cve}</td>
              <td>{s.notifiedAt.slice(0, 10)}</td>
              <td class="num">{s.daysSinceNotice}</td>
              <td>{`${s.snapshot} (${s.snapshotDate})`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Notices(props: { notices: NoticeSummary[] | undefined; canRead: boolean }) {
  const [raw, setRaw] = useState<{ id: string; text: string; error: string } | null>(null);
  const read = (id: string): void => {
    setRaw({ id, text: "", error: "" });
    getText(`/api/notices/${encodeURIComponent(id)}/raw`)
      .then((text) => setRaw({ id, text, error: "" }))
      .catch((e: unknown) => setRaw({ id, text: "", error: e instanceof ApiError ? `${e.status}: ${e.message}` : String(e) }));
  };
  return (
    <div>
      <table id="notices">
        <thead>
          <tr>
            <th>Notice time</th>
            <th>Kind</th>
            <th>Organisation</th>
            <th>Language</th>
            <th>Snapshot</th>
            <th>Recipients</th>
            <th>Servers</th>
            {props.canRead && <th>Message</th>}
          </tr>
        </thead>
        <tbody>
          {(props.notices ?? []).map((n) => (
            <tr data-id={n.id}>
              <td>{n.notifiedAt.replace("T", " ").slice(0, 16)}</td>
              <td>{n.kind}</td>
              <td class="org">{n.organisation}</td>
              <td>{n.language}</td>
              <td>{n.snapshotId}</td>
              <td>
                {n.recipients.map((r) => (
                  <div title={r.reply ?? ""}>
                    {r.address} <span class={`delivery delivery-${r.status.replace(/[^a-z]/g, "")}`}>{r.status}</span>
                  </div>
                ))}
              </td>
              <td class="num">{new Set(n.items.map((i) => i.ip)).size}</td>
              {props.canRead && (
                <td>
                  <button type="button" class="read-notice" onClick={() => read(n.id)}>
                    Read
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {raw && (
        <section id="notice-raw-box">
          <h3>Message as sent</h3>
          <ErrorBox error={raw.error} />
          {raw.text === "" && raw.error === "" ? <p class="muted">Loading…</p> : <pre id="notice-raw" class="message">{raw.text}</pre>}
        </section>
      )}
    </div>
  );
}

function DryRun(props: { snapshots: Snapshot[]; cves: string[] }) {
  const [contacts, setContacts] = useState("");
  const [result, setResult] = useState<DryRunResult | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [asked, setAsked] = useState<Record<string, unknown> | null>(null);
  const run = (request: Record<string, unknown>, keep?: DryRunResult): void => {
    setBusy(true);
    setError("");
    postJson<DryRunResult>("/api/notices/dry-run", request)
      .then((r) => setResult(keep ? { ...keep, messages: r.messages } : r))
      .catch((err: unknown) => setError(err instanceof ApiError ? `${err.status}: ${err.message}` : String(err)))
      .finally(() => setBusy(false));
  };
  const load = (e: Event): void => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    if (file.size > 1024 * 1024) {
      setError(`${file.name}: larger than 1 MiB`);
      return;
    }
    void file.text().then(setContacts);
  };
  const submit = (e: Event): void => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const field = (name: string): string => ((form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null)?.value ?? "").trim();
    const unknown = (form.elements.namedItem("unknown") as HTMLInputElement | null)?.checked === true;
    const snapshot = field("snapshot");
    const cve = field("cve");
    const request = { contacts, from: field("from"), ...(snapshot ? { snapshot } : {}), ...(cve ? { cves: [cve] } : {}), unknown };
    setResult(null);
    setAsked(request);
    run(request);
  };
  return (
    <section id="dry-run-panel">
      <h2>Dry run</h2>
      <p class="muted">Read the notices Vigie would send for a contacts file (header scope,organisation,email,language; at most 1 MiB). Nothing is sent and nothing is recorded.</p>
      <form id="dry-run-form" class="stack" onSubmit={submit}>
        <label>
          Contacts file <input type="file" name="file" accept=".csv,text/csv,text/plain" onChange={load} />
        </label>
        <label>
          or paste it
          <textarea name="contacts" rows={6} value={contacts} onInput={(e) => setContacts(e.currentTarget.value)} placeholder={"scope,organisation,email,language\n192.0.2.0/24,Example Org,cert@example.org,fr"} />
        </label>
        <div class="filters">
          <label>
            From <input type="text" name="from" required maxLength={320} placeholder="CERT Example <cert@example.org>" />
          </label>
          <label>
            Snapshot{" "}
            <select name="snapshot">
              <option value="">newest</option>
              {props.snapshots.map((s) => (
                <option value={s.id}>{`${s.id} (${s.date})`}</option>
              ))}
            </select>
          </label>
          <label>
            CVE{" "}
            <select name="cve">
              <option value="">every vulnerable CVE</option>
              {props.cves.map((c) => (
                <option value={c}>{c}</option>
              ))}
            </select>
          </label>
          <label class="inline">
            <input type="checkbox" name="unknown" /> also unknown verdicts
          </label>
          <button type="submit" disabled={busy || contacts.trim() === ""}>
            {busy ? "Composing…" : "Compose the notices"}
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {result && (
        <div id="dry-run">
          <p id="dry-run-summary">
            {`Snapshot ${result.snapshot}: ${result.messages.length} messages would be sent (dry run: nothing sent, nothing recorded). ` +
              `${result.contacts.organisations} organisations in the file; ${result.unowned} servers without an owner; ${result.alreadyNotified} (server, CVE) already notified for this snapshot.`}
          </p>
          {result.contacts.badRows.length > 0 && (
            <ul id="dry-run-bad" class="error">
              {result.contacts.badRows.map((b) => (
                <li>{`line ${b.line}: skipped: ${b.reason}`}</li>
              ))}
            </ul>
          )}
          {result.total > result.messages.length && (
            <details id="dry-run-all" open>
              <summary>{`${result.messages.length} of ${result.total} messages shown in full; every organisation:`}</summary>
              <table>
                <tbody>
                  {result.organisations.map((o) => (
                    <tr>
                      <td class="org">{o.organisation}</td>
                      <td>{o.recipients.join(", ")}</td>
                      <td>{o.language}</td>
                      <td class="num">{`${o.servers} servers`}</td>
                      <td>
                        <button type="button" disabled={busy || !asked} onClick={() => asked && run({ ...asked, organisation: o.organisation }, result)}>
                          Show
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          )}
          {result.messages.map((m) => (
            <article class="dry-notice">
              <h3 class="org">{m.organisation}</h3>
              <dl class="facts">
                <dt>Subject</dt>
                <dd class="subject">{m.subject}</dd>
                <dt>To</dt>
                <dd class="recipients">{m.recipients.join(", ")}</dd>
                <dt>Language</dt>
                <dd class="language">{m.language}</dd>
                <dt>Servers</dt>
                <dd>{`${m.servers} (${m.items.length} server, CVE pairs)`}</dd>
              </dl>
              <pre class="message notice-body">{m.text}</pre>
              <details class="attachment">
                <summary>{`Attachment ${m.attachment.filename} (${m.attachment.contentType})`}</summary>
                <pre class="message">{m.attachment.content}</pre>
              </details>
            </article>
          ))}
        </div>
      )}
    </section>
  );
}

export function Remediation(props: { query: URLSearchParams; session: Session }) {
  const byParam = props.query.get("by") ?? "org";
  const by = (BY as readonly string[]).includes(byParam) ? byParam : "org";
  const cve = props.query.get("cve") ?? undefined;
  const overdueParam = Number(props.query.get("overdue") ?? "14");
  const overdueDays = Number.isInteger(overdueParam) && overdueParam >= 0 ? overdueParam : 14;
  const canRead = props.session.role !== "viewer";
  const groups = useApi<{ by: string; groups: RemediationGroup[] }>(`/api/remediation${qs({ by, cve })}`);
  const series = useApi<RemediationSeries>(`/api/remediation/series${qs({ by, cve })}`);
  const overdue = useApi<{ overdueDays: number; servers: OverdueServer[] }>(`/api/remediation/overdue${qs({ overdueDays, cve })}`);
  const notices = useApi<{ notices: NoticeSummary[] }>("/api/notices");
  const snapshots = useApi<{ snapshots: Snapshot[] }>(canRead ? "/api/snapshots" : null);
  const kbCves = useApi<{ cves: Array<{ id: string }> }>(canRead ? "/api/kb/cves" : null);
  const go = (q: Record<string, string | number | undefined>): void => {
    location.hash = href("/remediation", { by, cve, overdue: overdueDays, ...q });
  };
  const nothing = notices.data !== undefined && notices.data.notices.length === 0;
  return (
    <div>
      <h1>Remediation</h1>
      {props.session.constituency.length > 0 && <p class="muted">{`Limited to ${props.session.constituency.join(", ")}: only the notified servers inside are counted.`}</p>}
      <ErrorBox error={groups.error || series.error || overdue.error || notices.error} />
      <form class="filters" id="remediation-filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Group by{" "}
          <select name="by" value={by} onChange={(e) => go({ by: e.currentTarget.value })}>
            {BY.map((b) => (
              <option value={b}>{BY_LABEL[b]}</option>
            ))}
          </select>
        </label>
        <label>
          CVE{" "}
          <select name="cve" value={cve ?? ""} onChange={(e) => go({ cve: e.currentTarget.value || undefined })}>
            <option value="">every notified CVE</option>
            {(series.data?.cves ?? (cve ? [cve] : [])).map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          Overdue after (days){" "}
          <input type="number" name="overdue" min={0} value={overdueDays} onChange={(e) => go({ overdue: e.currentTarget.value })} />
        </label>
      </form>
      {nothing && (
        <p>
          No notice recorded yet: <code>vigie notify</code> sends them{canRead ? ", and the dry run below shows what it would send" : ""}.
        </p>
      )}
      <h2>Still vulnerable after the notice</h2>
      <img id="remediation-chart" class="chart" alt="Notified servers still vulnerable per snapshot" src={`/api/remediation/series.svg${qs({ by, cve })}`} />
      <Events series={series.data} />
      <h2>{`Per ${BY_LABEL[by]!.toLowerCase()}`}</h2>
      <Groups by={by} groups={groups.data?.groups} />
      <h2>Overdue</h2>
      <Overdue servers={overdue.data?.servers} overdueDays={overdueDays} />
      <h2>Notices sent</h2>
      <Notices notices={notices.data?.notices} canRead={canRead} />
      {canRead && <DryRun snapshots={snapshots.data?.snapshots ?? []} cves={(kbCves.data?.cves ?? []).map((c) => c.id).sort()} />}
    </div>
  );
}
