// Calls to the Vigie API with the session cookie; state-changing calls carry the CSRF token.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrf = "";
export const setCsrf = (t: string): void => {
  csrf = t;
};

async function call<T>(method: string, path: string, body?: BodyInit, type?: string): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (type) headers["Content-Type"] = type;
  const res = await fetch(path, { method, headers, body: body ?? null, credentials: "same-origin" });
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const msg = data !== null && typeof data === "object" && "error" in data ? String((data as { error: unknown }).error) : `HTTP ${res.status}`;
    throw new ApiError(res.status, msg);
  }
  return data as T;
}

export const get = <T>(path: string): Promise<T> => call<T>("GET", path);

/** A text answer (a message as sent): returned as a string, to be shown as a text node, never parsed as markup. */
export async function getText(path: string): Promise<string> {
  const res = await fetch(path, { headers: { Accept: "text/plain" }, credentials: "same-origin" });
  const text = await res.text();
  if (!res.ok) {
    let msg = `HTTP ${res.status}`;
    try {
      const data = JSON.parse(text) as { error?: unknown };
      if (typeof data.error === "string") msg = data.error;
    } catch {
      // not JSON: keep the status
    }
    throw new ApiError(res.status, msg);
  }
  return text;
}
export const postJson = <T>(path: string, body: unknown): Promise<T> => call<T>("POST", path, JSON.stringify(body), "application/json");
export const postBytes = <T>(path: string, body: Blob): Promise<T> => call<T>("POST", path, body, "application/octet-stream");
export const del = <T>(path: string): Promise<T> => call<T>("DELETE", path);

export function qs(params: Record<string, string | number | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
}
