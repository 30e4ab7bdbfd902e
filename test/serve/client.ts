// A small HTTP client for the serve tests that can choose its source address (127.13.0.x: every address of
// 127.0.0.0/8 is on the loopback interface), to stand for callers on different machines.
import { request } from "node:http";

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function call(base: string, p: string, o: { method?: string; from?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(base + p, { method: o.method ?? "GET", headers: o.headers ?? {}, ...(o.from ? { localAddress: o.from } : {}), agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(o.body);
  });
}

export const login = (base: string, user: string, password: string, from?: string): Promise<Answer> =>
  call(base, "/api/session", { method: "POST", ...(from ? { from } : {}), headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user, password }) });
