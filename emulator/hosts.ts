/**
 * Fleet plan: which host runs what, and the ground truth an honest scanner should reach.
 *
 * Everything here is derived from (seed, host index) so a fleet is reproducible and host i is the same
 * whatever the fleet size. Facts about what real servers expose are cited where they are used
 * (emulator/exchange.ts, others.ts, hostile.ts, smtp.ts) and summarised in emulator/README.md.
 */
import type { BuildCatalogue, EmuBuild, Product } from "./builds.js";
import { compareBuild, threeParts } from "./builds.js";
import type { Rng } from "./rng.js";
import { hostRng, pick, pickWeighted } from "./rng.js";

export type HostKind = "exchange" | "lookalike" | "web" | "hostile";
export type HostileKind =
  | "tarpit"
  | "reset"
  | "tls-garbage"
  | "slowloris"
  | "endless-headers"
  | "gzip-bomb"
  | "huge-body"
  | "binary-garbage";
export const HOSTILE_KINDS: readonly HostileKind[] = [
  "tarpit",
  "reset",
  "tls-garbage",
  "slowloris",
  "endless-headers",
  "gzip-bomb",
  "huge-body",
  "binary-garbage",
];
export type WebFlavor = "nginx" | "apache" | "iis" | "citrix";
export type LookalikeFlavor = "joda32" | "vinsiic";

/** Keys of `mix`: Exchange products, plus the non-Exchange kinds. */
export type MixKey = `exchange${Product}` | "web" | "lookalike" | "hostile";
export const DEFAULT_MIX: Record<MixKey, number> = {
  exchange2010: 4,
  exchange2013: 8,
  exchange2016: 26,
  exchange2019: 26,
  exchangeSE: 4,
  web: 14,
  lookalike: 5,
  hostile: 13,
};

export type LogonPage = "4-part" | "3-part" | "none";
export type Precision = "exact" | "cu" | "major" | "none";

export interface Exposes {
  /** X-OWA-Version answer header (2010: on OWA pages; 2013+: on /owa/service and the autodiscover.json 401). */
  owaVersionHeader: boolean;
  /** Build in the logon page's resource paths. */
  logonPage: LogonPage;
  /** /ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application answers the 4-part build. */
  exportTool: boolean;
  /** /ecp/<build>/exporttool/ answers 200 for the installed build only. */
  ecpCandidate: boolean;
  /** /EWS/Exchange.asmx answers 401 Negotiate/NTLM. */
  ews: boolean;
  /** An NTLM CHALLENGE with domain/computer names and OS version is given to an anonymous NEGOTIATE. */
  ntlm: boolean;
  /** SMTP banner on 25/587. */
  smtp: boolean;
  /** The CVE-2021-26855 defender check sees `X-CalculatedBETarget: localhost` (vulnerable and not hidden by a proxy). */
  anonResourceTell: boolean;
}

export interface HostNames {
  netbiosDomain: string;
  dnsDomain: string;
  computer: string;
  fqdn: string;
}

export interface HostTruth {
  ip: string;
  ports: number[];
  kind: HostKind;
  hostile?: HostileKind;
  /** web / lookalike flavour, or the Exchange exposure variant. */
  variant?: string;
  product: Product | null;
  build: string | null;
  line?: string | null;
  update?: string | null;
  releaseDate?: string | null;
  exposes: Exposes;
  knowablePrecision: Precision;
  knowableBuild: string | null;
  vulnerable26855: boolean | null;
  names?: HostNames;
  os?: { name: string; version: string; iis: string };
}

export type EcpMode = "open" | "403" | "404";

/** Behaviour knobs that are not part of the truth. */
export interface HostPlan {
  truth: HostTruth;
  web?: WebFlavor;
  lookalike?: LookalikeFlavor;
  /** Exchange only. */
  ecp?: EcpMode;
  currentAlias?: boolean;
  proxy?: boolean;
  owaPublished?: boolean;
  /** TLS certificate profile. */
  cert: CertProfile;
}

export type CertProfile = "exchange" | "corporate" | "web" | "citrix";

/**
 * OS per product, from Microsoft's "Exchange Server supportability matrix"
 * (https://learn.microsoft.com/en-us/exchange/plan-and-deploy/supportability-matrix): 2010 SP3 on
 * 2008 R2/2012, 2013 on 2012/2012 R2, 2016 on 2012 R2/2016, 2019 on 2019 (2022 from CU12), SE on 2019/2022/2025.
 * IIS version per Windows release: 2008 R2 IIS 7.5, 2012 IIS 8.0, 2012 R2 IIS 8.5, 2016+ IIS 10.0
 * (https://learn.microsoft.com/en-us/lifecycle/products/internet-information-services-iis).
 */
const OS = {
  "2008R2": { name: "Windows Server 2008 R2", version: "6.1.7601", iis: "7.5" },
  "2012": { name: "Windows Server 2012", version: "6.2.9200", iis: "8.0" },
  "2012R2": { name: "Windows Server 2012 R2", version: "6.3.9600", iis: "8.5" },
  "2016": { name: "Windows Server 2016", version: "10.0.14393", iis: "10.0" },
  "2019": { name: "Windows Server 2019", version: "10.0.17763", iis: "10.0" },
  "2022": { name: "Windows Server 2022", version: "10.0.20348", iis: "10.0" },
  "2025": { name: "Windows Server 2025", version: "10.0.26100", iis: "10.0" },
} as const;

function osFor(rng: Rng, b: EmuBuild): { name: string; version: string; iis: string } {
  switch (b.product) {
    case "2010":
      return rng() < 0.75 ? OS["2008R2"] : OS["2012"];
    case "2013":
      return rng() < 0.8 ? OS["2012R2"] : OS["2012"];
    case "2016":
      return rng() < 0.5 ? OS["2012R2"] : OS["2016"];
    case "2019":
      return compareBuild(b.build, "15.2.1118.0") >= 0 && rng() < 0.4 ? OS["2022"] : OS["2019"];
    case "SE":
      return pick(rng, [OS["2019"], OS["2022"], OS["2025"]]);
  }
}

const DOMAIN_STEMS = ["CONTOSO", "FABRIKAM", "NORTHWIND", "ADATUM", "TAILSPIN", "WOODGROVE", "LITWARE", "PROSEWARE"];
const DOMAIN_TLDS = ["local", "lan", "corp", "internal", "intra"];
const COMPUTER_PREFIXES = ["EX", "EXCH", "MAIL", "EXCAS", "MBX", "SRV-EX"];

function namesFor(rng: Rng, index: number): HostNames {
  const stem = pick(rng, DOMAIN_STEMS);
  const netbiosDomain = `${stem}${index % 7 === 0 ? "" : String(1 + (index % 50))}`.slice(0, 15);
  const dnsDomain = `${netbiosDomain.toLowerCase()}.${pick(rng, DOMAIN_TLDS)}`;
  const computer = `${pick(rng, COMPUTER_PREFIXES)}${String(1 + Math.floor(rng() * 20)).padStart(2, "0")}`;
  return { netbiosDomain, dnsDomain, computer, fqdn: `${computer.toLowerCase()}.${dnsDomain}` };
}

function releaseYear(b: EmuBuild): number {
  return Number.parseInt(b.releaseDate.slice(0, 4), 10);
}

/** Weight builds of 2020-2022 higher so the fleet has many vulnerable and many patched hosts. */
function buildWeight(b: EmuBuild): number {
  const y = releaseYear(b);
  if (y >= 2020 && y <= 2022) return 6;
  if (y === 2019 || y === 2023) return 2;
  return 1;
}

export interface PlanOptions {
  seed: number;
  mix: Record<MixKey, number>;
  catalogue: BuildCatalogue;
}

const MIX_KEYS = Object.keys(DEFAULT_MIX) as MixKey[];

export function planHost(index: number, ip: string, ports: number[], o: PlanOptions): HostPlan {
  const rng = hostRng(o.seed, index);
  const key = pickWeighted(rng, MIX_KEYS, (k) => o.mix[k]);
  const none: Exposes = {
    owaVersionHeader: false,
    logonPage: "none",
    exportTool: false,
    ecpCandidate: false,
    ews: false,
    ntlm: false,
    smtp: false,
    anonResourceTell: false,
  };
  const webPorts = ports.filter((p) => p !== 25 && p !== 587);
  const base = { ip, ports: webPorts, product: null, build: null, knowablePrecision: "none", knowableBuild: null, vulnerable26855: null } as const;
  if (key === "web") {
    const web = pickWeighted(rng, ["nginx", "apache", "iis", "citrix"] as const, (w) => (w === "citrix" ? 1 : 3));
    return { truth: { ...base, kind: "web", variant: web, exposes: { ...none } }, web, cert: web === "citrix" ? "citrix" : "web" };
  }
  if (key === "lookalike") {
    const lookalike = pick(rng, ["joda32", "vinsiic"] as const);
    return {
      truth: { ...base, kind: "lookalike", variant: lookalike, exposes: { ...none, logonPage: "3-part" } },
      lookalike,
      cert: "web",
    };
  }
  if (key === "hostile") {
    const hostile = pick(rng, HOSTILE_KINDS);
    return { truth: { ...base, kind: "hostile", hostile, exposes: { ...none } }, cert: "web" };
  }
  const product = key.slice("exchange".length) as Product;
  const builds = o.catalogue.byProduct[product];
  const b = pickWeighted(rng, builds, buildWeight);
  const os = osFor(rng, b);
  const names = namesFor(rng, index);
  const vulnerable = o.catalogue.vulnerable26855(b);

  // Exposure variants. Not sourced as frequencies (nobody publishes these); chosen so every scanner
  // path (header, logon page, exporttool, candidate probing, nothing) is exercised.
  const owaPublished = rng() >= 0.07;
  const proxy = owaPublished && rng() < 0.15;
  const ecpRoll = rng();
  const ecp: EcpMode = !owaPublished ? "404" : ecpRoll < 0.55 ? "open" : ecpRoll < 0.8 ? "403" : "404";
  const currentAlias = rng() >= 0.15;
  const headerRoll = rng();
  const smtp = ports.includes(25) || ports.includes(587) ? rng() < 0.7 : false;
  const is2010 = product === "2010";

  const owaVersionHeader = owaPublished && !proxy && (is2010 ? true : headerRoll < 0.5);
  const logonPage: LogonPage = !owaPublished ? "none" : is2010 ? "4-part" : "3-part";
  const exportTool = !is2010 && ecp === "open" && currentAlias;
  const ecpCandidate = !is2010 && ecp === "open" && logonPage === "3-part";
  const anonResourceTell = vulnerable === true && owaPublished && !proxy;

  let knowablePrecision: Precision = "none";
  let knowableBuild: string | null = null;
  if (owaVersionHeader || logonPage === "4-part" || exportTool || ecpCandidate) {
    knowablePrecision = "exact";
    knowableBuild = b.build;
  } else if (logonPage === "3-part") {
    knowablePrecision = "cu";
    knowableBuild = threeParts(b.build);
  }
  const variant = !owaPublished ? "no-owa" : proxy ? "reverse-proxy" : ecp !== "open" ? `ecp-${ecp}` : currentAlias ? "full" : "no-current-alias";
  const truth: HostTruth = {
    ip,
    ports: smtp ? ports : ports.filter((p) => p !== 25 && p !== 587),
    kind: "exchange",
    variant,
    product,
    build: b.build,
    line: b.line,
    update: b.update,
    releaseDate: b.releaseDate,
    exposes: { owaVersionHeader, logonPage, exportTool, ecpCandidate, ews: true, ntlm: true, smtp, anonResourceTell },
    knowablePrecision,
    knowableBuild,
    vulnerable26855: vulnerable,
    names,
    os: { ...os },
  };
  return { truth, ecp, currentAlias, proxy, owaPublished, cert: rng() < 0.6 ? "exchange" : "corporate" };
}

export function defaultPorts(smtp: boolean): number[] {
  return smtp ? [443, 80, 25, 587] : [443, 80];
}

