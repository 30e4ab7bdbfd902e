// Hash routes: #/ overview, #/hosts?…, #/host/<ip>/<port>?snapshot=, #/remediation?by=&cve=&overdue=, #/triage, #/triage/<id>, #/kb?build=
import { useEffect, useState } from "preact/hooks";

export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function current(): Route {
  const h = location.hash.replace(/^#/, "") || "/";
  const [p = "/", q = ""] = h.split("?", 2);
  return { parts: p.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
}

export function useRoute(): Route {
  const [r, setR] = useState(current());
  useEffect(() => {
    const on = (): void => setR(current());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return r;
}

export function href(path: string, query: Record<string, string | number | undefined> = {}): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") u.set(k, String(v));
  const s = u.toString();
  return `#${path}${s ? `?${s}` : ""}`;
}
