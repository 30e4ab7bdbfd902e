import { useState } from "preact/hooks";
import { ApiError, postJson } from "../api.js";
import type { Session } from "../types.js";

export function Login(props: { onLogin: (s: Session) => void }) {
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const submit = (e: Event): void => {
    e.preventDefault();
    setError("");
    postJson<Session>("/api/session", { user, password })
      .then(props.onLogin)
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : "log-in failed"));
  };
  return (
    <form class="login" onSubmit={submit}>
      <h1>Vigie</h1>
      <label>
        User <input name="user" autocomplete="username" value={user} onInput={(e) => setUser(e.currentTarget.value)} />
      </label>
      <label>
        Password <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      </label>
      <button type="submit">Log in</button>
      {error && <p class="error">{error}</p>}
      <p class="muted">No account? An admin creates one with <code>vigie user add &lt;name&gt; --role viewer</code>.</p>
    </form>
  );
}
