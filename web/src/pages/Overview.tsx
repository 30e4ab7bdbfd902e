import { qs } from "../api.js";
import { href } from "../router.js";
import type { Census, Snapshot } from "../types.js";
import { ErrorBox, useApi } from "./common.js";

export function Overview(props: { query: URLSearchParams }) {
  const snapshots = useApi<{ snapshots: Snapshot[] }>("/api/snapshots");
  const list = snapshots.data?.snapshots ?? [];
  const snapshot = props.query.get("snapshot") ?? list[list.length - 1]?.id;
  const byCve = useApi<Census>(snapshot ? `/api/census${qs({ by: "cve", snapshot })}` : null);
  const byCountry = useApi<Census>(snapshot ? `/api/census${qs({ by: "country", snapshot })}` : null);
  const cves = (byCve.data?.groups ?? []).slice().sort((a, b) => (b.cves[b.key]?.vulnerable ?? 0) - (a.cves[a.key]?.vulnerable ?? 0));
  const cve = props.query.get("cve") ?? cves[0]?.key;
  if (snapshots.data && list.length === 0) return <p>The store holds no snapshot yet: run <code>vigie import</code>, <code>vigie scan</code> or <code>vigie demo</code>.</p>;
  const exposed = byCve.data?.groups[0]?.exposed ?? 0;
  const outOfSupport = byCve.data?.groups[0]?.endOfSupport?.outOfSupport ?? 0;
  return (
    <div>
      <h1>Overview</h1>
      <ErrorBox error={snapshots.error || byCve.error || byCountry.error} />
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Snapshot{" "}
          <select name="snapshot" value={snapshot} onChange={(e) => (location.hash = href("/", { snapshot: e.currentTarget.value }))}>
            {list.map((s) => (
              <option value={s.id}>{`${s.id} (${s.date})`}</option>
            ))}
          </select>
        </label>
        <label>
          CVE{" "}
          <select name="cve" value={cve} onChange={(e) => (location.hash = href("/", { snapshot, cve: e.currentTarget.value }))}>
            {cves.map((c) => (
              <option value={c.key}>{`${c.key} (${c.cves[c.key]?.vulnerable ?? 0} vulnerable)`}</option>
            ))}
          </select>
        </label>
      </form>
      <p>
        <strong>{exposed}</strong> Exchange servers exposed in snapshot {snapshot}, <strong id="out-of-support">{outOfSupport}</strong> of them out of support on its
        date.
      </p>
      {snapshot && cve && (
        <figure>
          <img id="map" class="chart" alt={`World map of servers vulnerable to ${cve}`} src={`/api/census/map.svg${qs({ snapshot, cve })}`} />
        </figure>
      )}
      <h2>Trend{cve ? ` of ${cve}` : ""}</h2>
      {cve && <img id="trend" class="chart" alt={`Trend of ${cve}`} src={`/api/census/trend.svg${qs({ cve })}`} />}
      <h2>Per country{cve ? `, ${cve}` : ""}</h2>
      <table>
        <thead>
          <tr>
            <th>Country</th>
            <th>Exposed</th>
            <th>Out of support</th>
            <th>Vulnerable</th>
            <th>Patched</th>
            <th>Unknown</th>
          </tr>
        </thead>
        <tbody>
          {(byCountry.data?.groups ?? []).slice(0, 30).map((g) => (
            <tr>
              <td>
                <a href={href("/hosts", { snapshot, country: g.key.length === 2 ? g.key : undefined, cve, status: "vulnerable" })}>{g.key}</a>
              </td>
              <td class="num">{g.exposed}</td>
              <td class="num">{g.endOfSupport?.outOfSupport ?? 0}</td>
              <td class="num">{cve ? (g.cves[cve]?.vulnerable ?? 0) : ""}</td>
              <td class="num">{cve ? (g.cves[cve]?.patched ?? 0) : ""}</td>
              <td class="num">{cve ? (g.cves[cve]?.unknown ?? 0) : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
