import { qs } from "../api.js";
import { href } from "../router.js";
import type { Explanation, KbCve } from "../types.js";
import { ErrorBox, Status, useApi } from "./common.js";

export function Kb(props: { build: string }) {
  const cves = useApi<{ cves: KbCve[] }>("/api/kb/cves");
  const x = useApi<Explanation>(props.build ? `/api/kb/explain${qs({ build: props.build })}` : null);
  const submit = (e: Event): void => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    location.hash = href("/kb", { build: String(f.get("build") ?? "").trim() });
  };
  return (
    <div>
      <h1>Knowledge base</h1>
      <form class="filters" id="kb-form" key={props.build} onSubmit={submit}>
        <label>
          Build <input name="build" placeholder="15.1.2176.2" defaultValue={props.build} />
        </label>
        <button type="submit">Explain</button>
      </form>
      {props.build && <ErrorBox error={x.error} />}
      {props.build && x.data && (
        <div id="explanation">
          <p>
            <strong>{x.data.build}</strong>: {x.data.product ?? "unknown product"} {x.data.cu ?? ""} {x.data.update && x.data.update !== x.data.cu ? x.data.update : ""}
            {x.data.releaseDate ? `, released ${x.data.releaseDate}` : ""} (precision {x.data.precision}
            {x.data.precision !== "exact" && x.data.candidates.length ? `, ${x.data.candidates.length} candidate builds` : ""})
          </p>
          <table>
            <thead>
              <tr>
                <th>CVE</th>
                <th>Status</th>
                <th>Fixed in</th>
                <th>Why / what to do</th>
              </tr>
            </thead>
            <tbody>
              {x.data.cves.map((c) => (
                <tr>
                  <td>{c.id}</td>
                  <td>
                    <Status status={c.status} />
                  </td>
                  <td>{c.fixedIn ?? "—"}</td>
                  <td class="text">{c.remediation ? `${c.reason}. ${c.remediation}` : c.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>CVEs</h2>
      <ErrorBox error={cves.error} />
      <table>
        <thead>
          <tr>
            <th>CVE</th>
            <th>Name</th>
            <th>Published</th>
            <th>CVSS</th>
            <th>KEV</th>
            <th>Summary</th>
          </tr>
        </thead>
        <tbody>
          {(cves.data?.cves ?? []).map((c) => (
            <tr>
              <td>{c.id}</td>
              <td>{c.campaign ?? ""}</td>
              <td>{c.published}</td>
              <td>{c.cvss ?? ""}</td>
              <td>{c.kev ? "yes" : ""}</td>
              <td class="text">{c.summary}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
