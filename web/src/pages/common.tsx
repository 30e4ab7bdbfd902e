import { useEffect, useState } from "preact/hooks";
import { ApiError, get } from "../api.js";

/** Load a JSON resource; re-load when the path changes. */
export function useApi<T>(path: string | null): { data: T | undefined; error: string; loading: boolean } {
  const [state, setState] = useState<{ data: T | undefined; error: string; loading: boolean }>({ data: undefined, error: "", loading: true });
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: "" }));
    get<T>(path)
      .then((data) => live && setState({ data, error: "", loading: false }))
      .catch((e: unknown) => live && setState({ data: undefined, error: e instanceof ApiError ? `${e.status}: ${e.message}` : String(e), loading: false }));
    return () => {
      live = false;
    };
  }, [path]);
  return state;
}

export function Status(props: { status: string }) {
  return <span class={`status status-${props.status.replace(/[^a-z_]/g, "")}`}>{props.status}</span>;
}

export function ErrorBox(props: { error: string }) {
  return props.error ? <p class="error">{props.error}</p> : null;
}
