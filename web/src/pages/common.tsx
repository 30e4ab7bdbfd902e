import { useEffect, useState } from "preact/hooks";
import { ApiError, get } from "../api.js";

/** Load a JSON resource; re-load when the path changes. Data of an earlier path is never returned for a new one. */
export function useApi<T>(path: string | null): { data: T | undefined; error: string; loading: boolean } {
  const [state, setState] = useState<{ path: string | null; data: T | undefined; error: string }>({ path: null, data: undefined, error: "" });
  useEffect(() => {
    if (path === null) return;
    let live = true;
    get<T>(path)
      .then((data) => live && setState({ path, data, error: "" }))
      .catch((e: unknown) => live && setState({ path, data: undefined, error: e instanceof ApiError ? `${e.status}: ${e.message}` : String(e) }));
    return () => {
      live = false;
    };
  }, [path]);
  const current = state.path === path;
  return { data: current ? state.data : undefined, error: current ? state.error : "", loading: !current };
}

export function Status(props: { status: string }) {
  return <span class={`status status-${props.status.replace(/[^a-z_]/g, "")}`}>{props.status}</span>;
}

export function ErrorBox(props: { error: string }) {
  return props.error ? <p class="error">{props.error}</p> : null;
}
