import { qs } from "../api.js";
import { href } from "../router.js";
import type { HostDetail } from "../types.js";
import { ErrorBox, Status, useApi } from "./common.js";

export function Host(props: { ip: string; port: string; snapshot: string | undefined }) {
  const r = useApi<HostDetail>(`/api/hosts/${encodeURIComponent(props.ip)}/${encodeURIComponent(props.port)}${qs({ snapshot: props.snapshot })}`);
  if (r.error) return <ErrorBox error={r.error} />;
  if (!r.data) return <p class="muted">Loading…</p>;
  const { host: h, explanation: x, history, triage } = r.data;
  const o = h.observation;
  const todo = h.cves.filter((c) => c.status === "vulnerable" || (c.status === "unknown" && c.remediation));
  return (
    <div>
      <h1 id="host-title">
        {h.ip}:{h.port}
      </h1>
      <dl class="facts">
        <dt>Triage</dt>
        <dd id="host-triage">
          {triage.length ? (
            <>
              <strong>{triage[0]!.verdict}</strong> (newest report, {triage[0]!.createdAt.slice(0, 10)}:{" "}
              <a href={href(`/triage/${triage[0]!.id}`)}>{triage[0]!.name}</a>)
            </>
          ) : (
            "no triage report attached to this address"
          )}
        </dd>
        <dt>Host name</dt>
        <dd>{h.hostname ?? "—"}</dd>
        <dt>Page title</dt>
        <dd id="page-title" class="text">{o.title ?? "—"}</dd>
        <dt>Product</dt>
        <dd>{h.isExchange ? [h.product, h.cu].filter(Boolean).join(" ") : "not Exchange"}</dd>
        <dt>End of support</dt>
        <dd id="host-support" class={h.outOfSupport ? "bad" : ""}>
          {!h.isExchange
            ? "—"
            : h.outOfSupport === true
              ? `out of support since ${h.endOfSupport ?? "?"} (on the snapshot's date): no security updates; migrate to a supported version`
              : h.outOfSupport === false
                ? h.endOfSupport
                  ? `supported on the snapshot's date; support ends ${h.endOfSupport}`
                  : "supported (no end date while kept current)"
                : "not known (product not told)"}
        </dd>
        <dt>Build</dt>
        <dd>
          {h.build ? <a href={href("/kb", { build: h.build })}>{h.build}</a> : "—"} (precision: {h.precision})
          {x?.releaseDate ? `, released ${x.releaseDate}` : ""}
          {x?.update ? `, ${x.update}` : ""}
        </dd>
        <dt>Network</dt>
        <dd>
          {h.country ?? "?"} · {h.asn !== null ? `AS${h.asn}` : "AS?"} {h.asOrg ?? ""}
        </dd>
        <dt>Observed</dt>
        <dd>
          {h.observedAt} ({o.source}, snapshot {r.data.snapshot})
        </dd>
      </dl>
      <h2>What to install</h2>
      {todo.length === 0 ? (
        <p>Nothing: no CVE of the knowledge base is known to affect this build.</p>
      ) : (
        <ul class="todo">
          {todo.map((c) => (
            <li>
              <strong>{c.id}</strong>: {c.remediation ?? c.reason}
            </li>
          ))}
        </ul>
      )}
      <h2>Verdicts</h2>
      <table id="verdicts">
        <thead>
          <tr>
            <th>CVE</th>
            <th>Status</th>
            <th>Fixed in</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {h.cves.map((c) => (
            <tr>
              <td>{c.id}</td>
              <td>
                <Status status={c.status} />
              </td>
              <td>{c.fixedIn ?? "—"}</td>
              <td class="text">{c.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Evidence</h2>
      <table id="evidence">
        <thead>
          <tr>
            <th>Probe</th>
            <th>Kind</th>
            <th>Where</th>
            <th>Value (as received)</th>
          </tr>
        </thead>
        <tbody>
          {o.evidence.map((e) => (
            <tr>
              <td>{e.probe}</td>
              <td>{e.kind}</td>
              <td class="text">{e.field}</td>
              <td class="text value">{e.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {o.certificate && (
        <>
          <h2>Certificate</h2>
          <dl class="facts">
            <dt>Subject</dt>
            <dd class="text">{o.certificate.subject}</dd>
            <dt>Issuer</dt>
            <dd class="text">{o.certificate.issuer}</dd>
            <dt>Names</dt>
            <dd class="text">{o.certificate.sans.join(", ")}</dd>
            <dt>Valid</dt>
            <dd>
              {o.certificate.validFrom} – {o.certificate.validTo}
              {o.certificate.selfSigned ? " (self-signed)" : ""}
            </dd>
          </dl>
        </>
      )}
      {o.ntlm && (
        <>
          <h2>NTLM</h2>
          <dl class="facts">
            {Object.entries(o.ntlm).map(([k, v]) => (
              <>
                <dt>{k}</dt>
                <dd class="text">{v}</dd>
              </>
            ))}
          </dl>
        </>
      )}
      {o.errors.length > 0 && (
        <>
          <h2>Errors</h2>
          <ul>
            {o.errors.map((e) => (
              <li class="text">{e}</li>
            ))}
          </ul>
        </>
      )}
      {triage.length > 1 && (
        <>
          <h2>Triage reports</h2>
          <ul>
            {triage.map((t) => (
              <li>
                {t.createdAt.slice(0, 10)} <strong>{t.verdict}</strong> — <a href={href(`/triage/${t.id}`)}>{t.name}</a> ({t.findings} findings, {t.source})
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>History</h2>
      <table>
        <thead>
          <tr>
            <th>Date</th>
            <th>Snapshot</th>
            <th>Build</th>
            <th>Vulnerable to</th>
          </tr>
        </thead>
        <tbody>
          {history.map((s) => (
            <tr>
              <td>{s.date}</td>
              <td>
                <a href={href(`/host/${encodeURIComponent(h.ip)}/${h.port}`, { snapshot: s.snapshot })}>{s.snapshot}</a>
              </td>
              <td>{s.build ?? "—"}</td>
              <td>{s.vulnerable.join(", ") || "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
