// The Vigie dashboard: log-in, overview (map, trend), hosts, host page, remediation, triage, knowledge base.
// Every string from the API is rendered as text by Preact (never as HTML).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, del, get, setCsrf } from "./api.js";
import { Host } from "./pages/Host.js";
import { Hosts } from "./pages/Hosts.js";
import { Kb } from "./pages/Kb.js";
import { Login } from "./pages/Login.js";
import { Overview } from "./pages/Overview.js";
import { Remediation } from "./pages/Remediation.js";
import { Triage, TriageReportPage } from "./pages/Triage.js";
import { href, useRoute } from "./router.js";
import type { Session } from "./types.js";
import "./style.css";

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const route = useRoute();
  useEffect(() => {
    get<Session>("/api/session")
      .then((s) => {
        setCsrf(s.csrf ?? "");
        setSession(s);
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401) setSession(null);
        else setSession(null);
      });
  }, []);
  if (session === undefined) return <p class="muted">Loading…</p>;
  if (session === null)
    return (
      <Login
        onLogin={(s) => {
          setCsrf(s.csrf ?? "");
          setSession(s);
        }}
      />
    );
  const [page = "", a, b] = route.parts;
  let body;
  if (page === "hosts") body = <Hosts query={route.query} />;
  else if (page === "host" && a !== undefined && b !== undefined) body = <Host ip={a} port={b} snapshot={route.query.get("snapshot") ?? undefined} />;
  else if (page === "triage" && a !== undefined) body = <TriageReportPage id={a} />;
  else if (page === "triage") body = <Triage role={session.role} />;
  else if (page === "remediation") body = <Remediation query={route.query} session={session} />;
  else if (page === "kb") body = <Kb build={route.query.get("build") ?? ""} />;
  else body = <Overview query={route.query} />;
  const logout = (): void => {
    void del("/api/session").finally(() => setSession(null));
  };
  return (
    <div>
      <header>
        <strong class="brand">Vigie</strong>
        <nav>
          <a href={href("/")} class={page === "" ? "active" : ""}>Overview</a>
          <a href={href("/hosts")} class={page === "hosts" || page === "host" ? "active" : ""}>Hosts</a>
          <a href={href("/remediation")} class={page === "remediation" ? "active" : ""}>Remediation</a>
          <a href={href("/triage")} class={page === "triage" ? "active" : ""}>Triage</a>
          <a href={href("/kb")} class={page === "kb" ? "active" : ""}>Knowledge base</a>
        </nav>
        <span class="who">
          {session.user} ({session.role}
          {session.constituency.length > 0 ? `, limited to ${session.constituency.join(", ")}` : ""})
          <button type="button" onClick={logout}>Log out</button>
        </span>
      </header>
      <main>{body}</main>
    </div>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
