import { useState } from "preact/hooks";
import { ApiError, postBytes, qs } from "../api.js";
import { href } from "../router.js";
import type { TriageReport, TriageSummary } from "../types.js";
import { ErrorBox, useApi } from "./common.js";

export function Triage(props: { role: string }) {
  const [reload, setReload] = useState(0);
  const list = useApi<{ reports: TriageSummary[] }>(`/api/triage?r=${reload}`.replace("?r=0", ""));
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = (e: Event): void => {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem("bundle") as HTMLInputElement | null;
    const file = input?.files?.[0];
    if (!file) return;
    const hostInput = (e.currentTarget as HTMLFormElement).elements.namedItem("host") as HTMLInputElement | null;
    const host = hostInput?.value.trim() || undefined;
    setBusy(true);
    setError("");
    postBytes<{ id: string }>(`/api/triage${qs({ name: file.name.replace(/[^A-Za-z0-9._ -]/g, "_").slice(0, 100), host })}`, file)
      .then((r) => {
        location.hash = href(`/triage/${r.id}`);
      })
      .catch((err: unknown) => setError(err instanceof ApiError ? `${err.status}: ${err.message}` : String(err)))
      .finally(() => {
        setBusy(false);
        setReload((n) => n + 1);
      });
  };
  return (
    <div>
      <h1>Triage</h1>
      {props.role !== "viewer" && (
        <form class="filters" id="triage-form" onSubmit={submit}>
          <label>
            Bundle (.zip or .tar.gz from Collect-VigieBundle.ps1) <input type="file" name="bundle" accept=".zip,.gz,.tgz" />
          </label>
          <label>
            Server address (if the bundle has no manifest) <input type="text" name="host" placeholder="192.0.2.10" maxLength={45} />
          </label>
          <button type="submit" disabled={busy}>
            {busy ? "Checking…" : "Upload and check"}
          </button>
        </form>
      )}
      <ErrorBox error={error || list.error} />
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Bundle</th>
            <th>By</th>
            <th>Verdict</th>
            <th>Findings</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.reports ?? []).map((r) => (
            <tr>
              <td>
                <a href={href(`/triage/${r.id}`)}>{r.createdAt}</a>
              </td>
              <td class="text">{r.name}</td>
              <td>{r.user}</td>
              <td class={`verdict-${r.verdict}`}>{r.verdict}</td>
              <td class="num">{r.findings}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function TriageReportPage(props: { id: string }) {
  const r = useApi<TriageReport>(`/api/triage/${encodeURIComponent(props.id)}`);
  if (r.error) return <ErrorBox error={r.error} />;
  if (!r.data) return <p class="muted">Loading…</p>;
  const rep = r.data.report;
  return (
    <div>
      <h1>
        Triage of <span class="text">{r.data.name}</span>: <span class={`verdict-${rep.verdict}`}>{rep.verdict}</span>
      </h1>
      <p class="muted">
        Uploaded by {r.data.user} at {r.data.createdAt}; {rep.findings.length} findings.
      </p>
      <p id="triage-server">
        Server: <span class="text">{[r.data.hostname, r.data.fqdn].filter(Boolean).join(" / ") || "not named"}</span>;
        attached to {r.data.addresses.length ? <span class="text">{r.data.addresses.join(", ")}</span> : "no address (the bundle names none)"}
      </p>
      <h2>Timeline</h2>
      <ol class="timeline" id="timeline">
        {rep.findings.map((f) => (
          <li class={`sev-${f.severity}`}>
            <div>
              <strong>{f.timestamp ?? "undated"}</strong> · {f.severity} · {f.effect} {f.cve ? `· ${f.cve}` : ""}
            </div>
            <div>{f.title}</div>
            <div class="muted text">
              {f.file}
              {f.line !== null ? `:${f.line}` : ""}
              {f.sourceIp ? ` from ${f.sourceIp}` : ""}
            </div>
            <pre class="text">{f.excerpt}</pre>
          </li>
        ))}
      </ol>
      {rep.coverage.length > 0 && (
        <>
          <h2>Coverage</h2>
          <table>
            <thead>
              <tr>
                <th>Log</th>
                <th>Files</th>
                <th>Lines</th>
                <th>From</th>
                <th>To</th>
              </tr>
            </thead>
            <tbody>
              {rep.coverage.map((c) => (
                <tr>
                  <td>{c.logType}</td>
                  <td class="num">{c.files}</td>
                  <td class="num">{c.lines}</td>
                  <td>{c.first ?? "—"}</td>
                  <td>{c.last ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {rep.problems.length > 0 && (
        <>
          <h2>Problems</h2>
          <ul>
            {rep.problems.map((p) => (
              <li class="text">
                {p.file}: {p.message}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
