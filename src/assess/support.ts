/**
 * Microsoft support of a server's product on a given day, from the knowledge base's sourced end-of-support
 * dates (knowledge/lifecycle.json). Pure. Judged at the snapshot's date, not today: an Exchange 2013 server
 * seen on 2021-03-09 was supported then; seen on 2024-01-10 it was not.
 *
 * Computed from the stored product name when read, never stored per host: a lifecycle change in the knowledge
 * base shows at once in every census, host list and report.
 */
import type { KnowledgeBase, ProductInfo } from "../knowledge/knowledgeBase.js";

export interface SupportState {
  /** Last day of Microsoft's support for the product; null when it has none (SE) or it is not known. */
  endOfSupport: string | null;
  /** true: the day is after the last day of support; false: supported that day; null: product or date not known. */
  outOfSupport: boolean | null;
}

const UNKNOWN: SupportState = Object.freeze({ endOfSupport: null, outOfSupport: null });
const ISO_DAY = /^\d{4}-\d{2}-\d{2}/;

/** Support of one product on one day (YYYY-MM-DD; a longer ISO time is cut to its day). */
export function supportOfProduct(product: ProductInfo | undefined, day: string): SupportState {
  if (!product || !ISO_DAY.test(day)) return UNKNOWN;
  const d = day.slice(0, 10);
  if (product.endOfSupport !== null) return { endOfSupport: product.endOfSupport, outOfSupport: d > product.endOfSupport };
  // No end date: supported only where the lifecycle data says so (a source behind the null), else not known.
  return { endOfSupport: null, outOfSupport: product.endOfSupportSources.length > 0 ? false : null };
}

/**
 * Looks products up by the name host records carry ("Exchange Server 2013"); a name the knowledge base does not
 * know ("Microsoft Exchange (version unknown)", or null) gives an unknown state.
 */
export class SupportJudge {
  private readonly byName = new Map<string, ProductInfo>();

  constructor(kb: KnowledgeBase) {
    for (const p of kb.products.values()) this.byName.set(p.name, p);
  }

  /** Support of the product named `productName` on `day`. */
  at(productName: string | null, day: string): SupportState {
    return supportOfProduct(productName === null ? undefined : this.byName.get(productName), day);
  }

  /** A function of the product name alone, for one snapshot's day. */
  on(day: string): (productName: string | null) => SupportState {
    return (name) => this.at(name, day);
  }
}
