/**
 * From a decoded event's XML tree to what triage reads: the System fields (provider, event id, level, time,
 * record id, channel, computer) and the named values of EventData (Sysmon's Image, ParentImage, CommandLine…) or
 * UserData. Also a compact one-line text of the event that rules match and excerpts quote. Pure.
 */
import { textOf, type XmlElement, type XmlPart } from "./binxml.js";

export interface EventView {
  provider: string | null;
  eventId: string | null;
  level: string | null;
  timeCreated: string | null;
  recordId: string | null;
  channel: string | null;
  computer: string | null;
  /** EventData/Data by Name (or UserData's leaf elements by name), in order. Unnamed Data are "Data1", "Data2"… */
  data: Array<[string, string]>;
}

const isEl = (p: XmlPart): p is XmlElement => typeof p !== "string";
const child = (el: XmlElement | undefined, name: string): XmlElement | undefined => el?.children.find((c): c is XmlElement => isEl(c) && c.name === name);
const attr = (el: XmlElement | undefined, name: string): string | null => el?.attrs.find((a) => a.name === name)?.value ?? null;

function leafValues(el: XmlElement, out: Array<[string, string]>, depth = 0): void {
  if (depth > 8) return;
  for (const c of el.children) {
    if (!isEl(c)) continue;
    if (c.children.some(isEl)) leafValues(c, out, depth + 1);
    else out.push([c.name, textOf(c.children)]);
  }
}

export function eventView(parts: readonly XmlPart[]): EventView {
  const event = parts.find((p): p is XmlElement => isEl(p) && p.name === "Event");
  const system = child(event, "System");
  const text = (name: string): string | null => {
    const el = child(system, name);
    return el ? textOf(el.children) : null;
  };
  const data: Array<[string, string]> = [];
  const eventData = child(event, "EventData");
  if (eventData) {
    let unnamed = 0;
    for (const c of eventData.children) {
      if (!isEl(c)) continue;
      const name = c.name === "Data" ? (attr(c, "Name") ?? `Data${++unnamed}`) : c.name;
      data.push([name, textOf(c.children)]);
    }
  }
  const userData = child(event, "UserData");
  if (userData) leafValues(userData, data);
  return {
    provider: attr(child(system, "Provider"), "Name"),
    eventId: text("EventID"),
    level: text("Level"),
    timeCreated: attr(child(system, "TimeCreated"), "SystemTime"),
    recordId: text("EventRecordID"),
    channel: text("Channel"),
    computer: text("Computer"),
    data,
  };
}

/** Process-creation values first, so that a shortened excerpt still shows who started what. */
const FIRST = ["Image", "CommandLine", "ParentImage", "ParentCommandLine", "User"];

/** One line: "Channel | Provider | EventID n | Computer | Name: value | …" (control characters kept for the excerpt escaper). */
export function eventLine(v: EventView): string {
  const head = [v.channel ?? "(no channel)", v.provider ?? "(no provider)", `EventID ${v.eventId ?? "?"}`, v.computer ?? ""].filter(Boolean);
  const rank = (k: string): number => {
    const i = FIRST.indexOf(k);
    return i === -1 ? FIRST.length : i;
  };
  const data = v.data.map((d, i) => ({ d, i })).sort((a, b) => rank(a.d[0]) - rank(b.d[0]) || a.i - b.i);
  return [...head, ...data.map(({ d: [k, val] }) => `${k}: ${val}`)].join(" | ");
}

/** Column-style lookup for rules: system fields by their names, event data by its names, all lower-cased. */
export function eventFields(v: EventView): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, val] of v.data) if (!m.has(k.toLowerCase())) m.set(k.toLowerCase(), val);
  const sys: Array<[string, string | null]> = [
    ["provider", v.provider],
    ["eventid", v.eventId],
    ["level", v.level],
    ["channel", v.channel],
    ["computer", v.computer],
  ];
  for (const [k, val] of sys) if (val !== null) m.set(k, val);
  return m;
}
