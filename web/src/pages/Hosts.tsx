import { qs } from "../api.js";
import { href } from "../router.js";
import type { HostList } from "../types.js";
import { ErrorBox, useApi } from "./common.js";

const FILTERS = ["snapshot", "country", "asn", "cve", "status", "exchange", "ip"] as const;
const PAGE = 50;

export function Hosts(props: { query: URLSearchParams }) {
  const q = Object.fromEntries(FILTERS.map((k) => [k, props.query.get(k) ?? ""])) as Record<(typeof FILTERS)[number], string>;
  const sort = props.query.get("sort") ?? "id";
  const order = props.query.get("order") === "desc" ? "desc" : "asc";
  const offset = Number(props.query.get("offset") ?? 0) || 0;
  const list = useApi<HostList>(`/api/hosts${qs({ ...q, sort, order, offset, limit: PAGE })}`);
  const go = (extra: Record<string, string | number | undefined>): void => {
    location.hash = href("/hosts", { ...q, sort, order, offset, ...extra });
  };
  const submit = (e: Event): void => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const next: Record<string, string> = {};
    for (const k of FILTERS) next[k] = String(f.get(k) ?? "").trim();
    location.hash = href("/hosts", { ...next, sort, order });
  };
  const header = (key: string, label: string) => (
    <th>
      <button type="button" class="sort" data-sort={key} onClick={() => go({ sort: key, order: sort === key && order === "asc" ? "desc" : "asc", offset: 0 })}>
        {label}
        {sort === key ? (order === "asc" ? " ▲" : " ▼") : ""}
      </button>
    </th>
  );
  const d = list.data;
  return (
    <div>
      <h1>Hosts</h1>
      <form class="filters" id="host-filters" key={FILTERS.map((k) => q[k]).join("|")} onSubmit={submit}>
        <input type="hidden" name="snapshot" value={q.snapshot} />
        <label>
          Country <input name="country" size={3} placeholder="FR" defaultValue={q.country} />
        </label>
        <label>
          ASN <input name="asn" size={8} placeholder="AS3215" defaultValue={q.asn} />
        </label>
        <label>
          CVE <input name="cve" size={16} placeholder="CVE-2021-26855" defaultValue={q.cve} />
        </label>
        <label>
          Status{" "}
          <select name="status">
            <option value="" selected={q.status === ""}>any</option>
            <option value="vulnerable" selected={q.status === "vulnerable"}>vulnerable</option>
            <option value="patched" selected={q.status === "patched"}>patched</option>
            <option value="unknown" selected={q.status === "unknown"}>unknown</option>
            <option value="not_affected" selected={q.status === "not_affected"}>not affected</option>
          </select>
        </label>
        <label>
          Exchange{" "}
          <select name="exchange">
            <option value="" selected={q.exchange === ""}>any</option>
            <option value="true" selected={q.exchange === "true"}>yes</option>
            <option value="false" selected={q.exchange === "false"}>no</option>
          </select>
        </label>
        <label>
          Address prefix <input name="ip" size={14} defaultValue={q.ip} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorBox error={list.error} />
      {d && (
        <p class="muted" id="host-count">
          {d.total} hosts in snapshot {d.snapshot}
          {d.total > 0 ? `; ${d.offset + 1}–${Math.min(d.offset + d.hosts.length, d.total)} shown` : ""}{" "}
          <a id="export" href={`/api/hosts.csv${qs({ ...q, sort, order })}`} download>
            Export CSV
          </a>
        </p>
      )}
      <table id="hosts">
        <thead>
          <tr>
            {header("ip", "Address")}
            <th>Host name / title</th>
            {header("product", "Product")}
            {header("build", "Build")}
            <th>End of support</th>
            {header("country", "Country")}
            {header("asn", "ASN")}
            <th>Vulnerable to</th>
          </tr>
        </thead>
        <tbody>
          {(d?.hosts ?? []).map((h) => (
            <tr key={`${h.ip}|${h.port}`}>
              <td>
                <a class="host-link" href={href(`/host/${encodeURIComponent(h.ip)}/${h.port}`, { snapshot: d?.snapshot })}>{`${h.ip}:${h.port}`}</a>
              </td>
              <td class="text">
                <div>{h.hostname ?? ""}</div>
                <div class="muted title">{h.title ?? ""}</div>
              </td>
              <td>{h.isExchange ? [h.product, h.cu].filter(Boolean).join(" ") : "not Exchange"}</td>
              <td>{h.build ?? ""}</td>
              <td class={h.outOfSupport ? "bad eos" : "eos"} title={h.outOfSupport ? "out of support on the snapshot's date" : ""}>
                {h.outOfSupport ? `out since ${h.endOfSupport ?? "?"}` : (h.endOfSupport ?? "")}
              </td>
              <td>{h.country ?? ""}</td>
              <td title={h.asOrg ?? ""}>{h.asn !== null ? `AS${h.asn}` : ""}</td>
              <td class={h.vulnerable.length ? "bad" : ""}>{h.vulnerable.length ? `${h.vulnerable.length}: ${h.vulnerable.slice(0, 3).join(", ")}${h.vulnerable.length > 3 ? "…" : ""}` : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {d && (
        <p class="pager">
          <button type="button" disabled={offset === 0} onClick={() => go({ offset: Math.max(0, offset - PAGE) })}>
            Previous
          </button>
          <button type="button" disabled={offset + PAGE >= d.total} onClick={() => go({ offset: offset + PAGE })}>
            Next
          </button>
        </p>
      )}
    </div>
  );
}
