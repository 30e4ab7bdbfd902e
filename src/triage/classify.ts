/** What a bundle entry is, from its path: which log, an event log, a listing, or a plain file. Pure. */
import type { LogType } from "./types.js";

export type EntryKind =
  | { kind: "log"; logType: Exclude<LogType, "eventlog"> }
  | { kind: "evtx" }
  | { kind: "eventxml" }
  | { kind: "listing" }
  | { kind: "file" };

export function classifyEntry(bundlePath: string): EntryKind {
  const p = `/${bundlePath.toLowerCase()}`;
  const name = p.slice(p.lastIndexOf("/") + 1);
  if (name.endsWith(".evtx")) return { kind: "evtx" };
  if (name.endsWith(".xml") && /(eventlog|events?|application)/.test(p)) return { kind: "eventxml" };
  if (name.endsWith(".csv") && p.includes("/listings/")) return { kind: "listing" };
  if (/\.(log|txt)$/.test(name)) {
    if (p.includes("/httpproxy/") || name.startsWith("httpproxy_")) return { kind: "log", logType: "httpproxy" };
    if (p.includes("/ecp/server/") || name.startsWith("ecpserver")) return { kind: "log", logType: "ecp" };
    if (p.includes("/oabgeneratorlog/") || name.startsWith("oabgenerator")) return { kind: "log", logType: "oabgen" };
    if (/\/w3svc\d+\//.test(p) || /^u_ex\d+/.test(name) || p.includes("/iis/")) return { kind: "log", logType: "iis" };
  }
  return { kind: "file" };
}

/**
 * The server path a bundle file stands for: the collector stores copies under files/<drive letter>/...,
 * so "files/C/inetpub/wwwroot/aspnet_client/x.aspx" is "c:/inetpub/wwwroot/aspnet_client/x.aspx".
 */
export function serverPathOf(bundlePath: string): string {
  const m = /^(?:.*\/)?files\/([a-z])\/(.*)$/i.exec(bundlePath);
  const p = m ? `${m[1]}:/${m[2]}` : bundlePath;
  return p.replace(/\\/g, "/").toLowerCase();
}
