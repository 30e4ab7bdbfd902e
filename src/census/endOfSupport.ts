/**
 * A census's end-of-support counts from a store: the servers' stored product names, judged on the snapshot's
 * date against the knowledge base's lifecycle dates (src/assess/support.ts). Shared by `vigie census` and the API.
 */
import { SupportJudge } from "../assess/support.js";
import type { KnowledgeBase } from "../knowledge/knowledgeBase.js";
import type { CensusFilter, GroupColumn, Store } from "../store/store.js";
import { withEndOfSupport, type Census } from "./census.js";

const judges = new WeakMap<KnowledgeBase, SupportJudge>();

export function supportJudge(kb: KnowledgeBase): SupportJudge {
  let j = judges.get(kb);
  if (!j) judges.set(kb, (j = new SupportJudge(kb)));
  return j;
}

export async function withStoreEndOfSupport(store: Store, kb: KnowledgeBase, c: Census, filter: CensusFilter = {}): Promise<Census> {
  const snapshot = await store.getSnapshot(c.snapshot);
  if (!snapshot) throw new Error(`snapshot ${c.snapshot} not found`);
  const column: GroupColumn = c.by === "cve" ? "none" : c.by;
  const rows = await store.census.productCounts(c.snapshot, column, filter);
  const judge = supportJudge(kb).on(snapshot.date);
  return withEndOfSupport(c, rows, (product) => judge(product).outOfSupport);
}
