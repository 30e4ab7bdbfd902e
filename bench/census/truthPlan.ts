/**
 * The census bench's own facts, written by hand and independent of the code under test: which Exchange builds the
 * generator puts on its servers with the verdict of every CVE the census counts, and which address blocks it draws
 * each country's servers from. Nothing here is computed by src/ (no explainer, no geo lookup), so a wrong fact in
 * the knowledge base or a geo bug shows up as a census that differs from the truth.
 *
 * Verdicts: one letter per CVE in CVE_ORDER (spaces only group them): P patched, V vulnerable, U unknown,
 * N not affected (left out of the census counts). Derived from Microsoft's build numbers (the Get-ExchangeBuildNumber
 * CSV, mirror of https://learn.microsoft.com/exchange/new-features/build-numbers-and-release-dates) and, per CVE,
 * the update that first fixed it (MSRC advisory / SU KB named in FIXES below):
 * - an SU is cumulative for its CU; a CU released after a fix includes it; the March 2021 SUs "for older CUs"
 *   (KB5000871, blog ba-p/2192020) carry only the March 2021 fixes, so their CU's base decides the older CVEs;
 * - a product out of support when a CVE was published was never assessed: U (2010 ended 2020-10-13, 2013 ended
 *   2023-04-11: Microsoft Lifecycle pages); a product Microsoft assessed and left out of an advisory: N (2010 for
 *   CVE-2021-26855/26858/27065, 2013 for CVE-2021-42321, 2013+ for CVE-2020-17144);
 * - CVE-2024-21410 is fixed only by Extended Protection: V before the August 2022 SU (EP cannot exist), U from it
 *   on (a setting the build cannot show), P on 2019 CU14 and later (EP on at setup);
 * - a 3-part build (CU precision) is P only if every update of that CU is, V only if every one is, else U.
 */

export const CVE_ORDER = [
  "CVE-2018-8581", "CVE-2020-0688", "CVE-2020-17144",
  "CVE-2021-26855", "CVE-2021-26857", "CVE-2021-26858", "CVE-2021-27065",
  "CVE-2021-31196", "CVE-2021-31207", "CVE-2021-33766", "CVE-2021-34473", "CVE-2021-34523",
  "CVE-2021-42321",
  "CVE-2022-41040", "CVE-2022-41080", "CVE-2022-41082",
  "CVE-2024-21410",
  "CVE-2026-42897",
] as const;

/** The first fix per CVE and product line, as the letters below apply it (MSRC advisories, Microsoft SU KBs). */
export const FIXES: Record<(typeof CVE_ORDER)[number], string> = {
  "CVE-2018-8581": "Feb 2019 CUs (2013 CU22, 2016 CU12, 2019 CU1) and 2010 SP3 RU26 14.3.442.0 (KB4487052)",
  "CVE-2020-0688": "Feb 2020 SUs (2013 CU23 KB4536988, 2016 CU14/CU15, 2019 CU3/CU4), 2010 SP3 RU30 14.3.496.0 (KB4536989); included from 2016 CU16 / 2019 CU5 (Mar 2020)",
  "CVE-2020-17144": "2010 SP3 RU31 14.3.509.0 (KB4593467); Microsoft lists 2010 only",
  "CVE-2021-26855": "Mar 2021 SUs (KB5000871); included from 2016 CU20 / 2019 CU9 (Mar 16 2021); 2010 not affected",
  "CVE-2021-26857": "Mar 2021 SUs (KB5000871), 2010 SP3 RU32 14.3.513.0 (KB5000978); included from 2016 CU20 / 2019 CU9",
  "CVE-2021-26858": "as CVE-2021-26855",
  "CVE-2021-27065": "as CVE-2021-26855",
  "CVE-2021-31196": "Jul 2021 SUs (KB5004778); included from 2016 CU22 / 2019 CU11 (Sep 2021)",
  "CVE-2021-31207": "May 2021 SUs (KB5003435); included from 2016 CU21 / 2019 CU10 (Jun 2021)",
  "CVE-2021-33766": "Apr 2021 SUs (KB5001779: the Microsoft CNA CVE record lists affected below 15.0.1497.15, 15.1.2176.12, 15.1.2242.8, 15.2.792.13, 15.2.858.10) although published in July 2021; included from 2016 CU21 / 2019 CU10",
  "CVE-2021-34473": "Apr 2021 SUs (KB5001779); included from 2016 CU21 / 2019 CU10",
  "CVE-2021-34523": "Apr 2021 SUs (KB5001779); included from 2016 CU21 / 2019 CU10",
  "CVE-2021-42321": "Nov 2021 SUs (KB5007409), 2016/2019 only; included from 2016 CU23 / 2019 CU12 (Apr 2022)",
  "CVE-2022-41040": "Nov 2022 SUs (KB5019758); included from 2019 CU13 (May 2023)",
  "CVE-2022-41080": "Nov 2022 SUs (KB5019758); included from 2019 CU13",
  "CVE-2022-41082": "Nov 2022 SUs (KB5019758); included from 2019 CU13",
  "CVE-2024-21410": "Extended Protection (from the Aug 2022 SU KB5015321; on at setup from 2019 CU14 KB5035606); 2013 out of support",
  "CVE-2026-42897": "Jun 2026 SUs (2016 CU23 15.1.2507.69 KB5094144, 2019 CU14 15.2.1544.41 KB5094142, CU15, SE); 2013 out of support",
};

export interface TruthBuild {
  build: string;
  name: string;
  /** Relative share of the Exchange servers given this build (March 2021 mix). */
  weight: number;
  status: string;
  source: string;
}

const GEBN = "Get-ExchangeBuildNumber CSV (microsoft/Get-ExchangeBuildNumber@1102552)";

/**
 * 4-part builds. Weighted like March 2021 (2016 CU18/CU19, 2019 CU7/CU8, 2013 CU23 unpatched or with the March
 * SU, 2010 SP3); a few later builds at low weight so every CVE's patched and unknown paths are exercised.
 */
export const BUILDS: TruthBuild[] = [
  { build: "14.3.435.0", name: "Exchange 2010 SP3 RU25", weight: 2, status: "VVV NVNN UUUUU U UUU U U", source: `${GEBN}: RU25 KB4468742 (Jan 2019), before RU26` },
  { build: "14.3.468.0", name: "Exchange 2010 SP3 RU29", weight: 3, status: "PVV NVNN UUUUU U UUU U U", source: `${GEBN}: RU29 KB4509410 (Jul 2019)` },
  { build: "14.3.496.0", name: "Exchange 2010 SP3 RU30", weight: 3, status: "PPV NVNN UUUUU U UUU U U", source: `${GEBN}: RU30 KB4536989 (Feb 2020, CVE-2020-0688)` },
  { build: "14.3.509.0", name: "Exchange 2010 SP3 RU31", weight: 3, status: "PPP NVNN UUUUU U UUU U U", source: `${GEBN}: RU31 KB4593467 (Dec 2020, CVE-2020-17144)` },
  { build: "14.3.513.0", name: "Exchange 2010 SP3 RU32", weight: 2, status: "PPP NPNN UUUUU U UUU U U", source: `${GEBN}: RU32 KB5000978 (Mar 2 2021, CVE-2021-26857)` },
  { build: "15.0.1395.4", name: "Exchange 2013 CU21", weight: 1, status: "VVN VVVV VVVVV N VVV U U", source: `${GEBN}: CU21 KB4099855 (Jun 2018)` },
  { build: "15.0.1473.3", name: "Exchange 2013 CU22", weight: 1, status: "PVN VVVV VVVVV N VVV U U", source: `${GEBN}: CU22 KB4345836 (Feb 2019)` },
  { build: "15.0.1473.6", name: "Exchange 2013 CU22 Mar21SU", weight: 1, status: "PVN PPPP VVVVV N VVV U U", source: `${GEBN}: KB5000871 for older CUs (March 2021 fixes only)` },
  { build: "15.0.1497.2", name: "Exchange 2013 CU23", weight: 8, status: "PVN VVVV VVVVV N VVV U U", source: `${GEBN}: CU23 KB4489622 (Jun 2019)` },
  { build: "15.0.1497.12", name: "Exchange 2013 CU23 Mar21SU", weight: 4, status: "PPN PPPP VVVVV N VVV U U", source: `${GEBN}: KB5000871 (Mar 2 2021; cumulative over CU23's Feb 2020 SU)` },
  { build: "15.0.1497.15", name: "Exchange 2013 CU23 Apr21SU", weight: 1, status: "PPN PPPP VVPPP N VVV U U", source: `${GEBN}: KB5001779 (Apr 2021)` },
  { build: "15.0.1497.23", name: "Exchange 2013 CU23 Jul21SU", weight: 1, status: "PPN PPPP PPPPP N VVV U U", source: `${GEBN}: KB5004778 (Jul 2021)` },
  { build: "15.1.1847.3", name: "Exchange 2016 CU14", weight: 1, status: "PVN VVVV VVVVV V VVV V V", source: `${GEBN}: CU14 KB4514140 (Sep 2019)` },
  { build: "15.1.1979.3", name: "Exchange 2016 CU16", weight: 2, status: "PPN VVVV VVVVV V VVV V V", source: `${GEBN}: CU16 KB4537678 (Mar 2020, includes Feb 2020 SU)` },
  { build: "15.1.1979.8", name: "Exchange 2016 CU16 Mar21SU", weight: 1, status: "PPN PPPP VVVVV V VVV V V", source: `${GEBN}: KB5000871 for older CUs; CU16 base carries the CVE-2020-0688 fix` },
  { build: "15.1.2044.4", name: "Exchange 2016 CU17", weight: 3, status: "PPN VVVV VVVVV V VVV V V", source: `${GEBN}: CU17 KB4556414 (Jun 2020)` },
  { build: "15.1.2106.2", name: "Exchange 2016 CU18", weight: 9, status: "PPN VVVV VVVVV V VVV V V", source: `${GEBN}: CU18 KB4571788 (Sep 2020)` },
  { build: "15.1.2106.13", name: "Exchange 2016 CU18 Mar21SU", weight: 4, status: "PPN PPPP VVVVV V VVV V V", source: `${GEBN}: KB5000871 (Mar 2 2021)` },
  { build: "15.1.2176.2", name: "Exchange 2016 CU19", weight: 9, status: "PPN VVVV VVVVV V VVV V V", source: `${GEBN}: CU19 KB4588884 (Dec 2020)` },
  { build: "15.1.2176.9", name: "Exchange 2016 CU19 Mar21SU", weight: 5, status: "PPN PPPP VVVVV V VVV V V", source: `${GEBN}: KB5000871 (Mar 2 2021)` },
  { build: "15.1.2176.12", name: "Exchange 2016 CU19 Apr21SU", weight: 1, status: "PPN PPPP VVPPP V VVV V V", source: `${GEBN}: KB5001779 (Apr 2021)` },
  { build: "15.1.2176.14", name: "Exchange 2016 CU19 May21SU", weight: 1, status: "PPN PPPP VPPPP V VVV V V", source: `${GEBN}: KB5003435 (May 2021)` },
  { build: "15.1.2242.4", name: "Exchange 2016 CU20", weight: 1, status: "PPN PPPP VVVVV V VVV V V", source: `${GEBN}: CU20 KB4602569 (Mar 16 2021, includes the March SU)` },
  { build: "15.1.2375.7", name: "Exchange 2016 CU22", weight: 1, status: "PPN PPPP PPPPP V VVV V V", source: `${GEBN}: CU22 KB5005333 (Sep 2021, includes Jul 2021 SU)` },
  { build: "15.1.2507.6", name: "Exchange 2016 CU23", weight: 1, status: "PPN PPPP PPPPP P VVV V V", source: `${GEBN}: CU23 KB5011155 (Apr 2022), before the Aug 2022 SU` },
  { build: "15.1.2507.16", name: "Exchange 2016 CU23 Nov22SU", weight: 1, status: "PPN PPPP PPPPP P PPP U V", source: `${GEBN}: KB5019758 (Nov 2022)` },
  { build: "15.2.330.11", name: "Exchange 2019 CU1 Mar21SU", weight: 1, status: "PVN PPPP VVVVV V VVV V V", source: `${GEBN}: KB5000871 for older CUs; CU1 (Feb 2019) carries the CVE-2018-8581 fix, not CVE-2020-0688's` },
  { build: "15.2.595.3", name: "Exchange 2019 CU5", weight: 1, status: "PPN VVVV VVVVV V VVV V V", source: `${GEBN}: CU5 KB4537677 (Mar 2020)` },
  { build: "15.2.595.8", name: "Exchange 2019 CU5 Mar21SU", weight: 1, status: "PPN PPPP VVVVV V VVV V V", source: `${GEBN}: KB5000871 for older CUs; CU5 base carries the CVE-2020-0688 fix` },
  { build: "15.2.721.2", name: "Exchange 2019 CU7", weight: 7, status: "PPN VVVV VVVVV V VVV V V", source: `${GEBN}: CU7 KB4571787 (Sep 2020)` },
  { build: "15.2.721.13", name: "Exchange 2019 CU7 Mar21SU", weight: 3, status: "PPN PPPP VVVVV V VVV V V", source: `${GEBN}: KB5000871 (Mar 2 2021)` },
  { build: "15.2.792.3", name: "Exchange 2019 CU8", weight: 7, status: "PPN VVVV VVVVV V VVV V V", source: `${GEBN}: CU8 KB4588885 (Dec 2020)` },
  { build: "15.2.792.10", name: "Exchange 2019 CU8 Mar21SU", weight: 4, status: "PPN PPPP VVVVV V VVV V V", source: `${GEBN}: KB5000871 (Mar 2 2021)` },
  { build: "15.2.792.13", name: "Exchange 2019 CU8 Apr21SU", weight: 1, status: "PPN PPPP VVPPP V VVV V V", source: `${GEBN}: KB5001779 (Apr 2021)` },
  { build: "15.2.858.5", name: "Exchange 2019 CU9", weight: 1, status: "PPN PPPP VVVVV V VVV V V", source: `${GEBN}: CU9 KB4602570 (Mar 16 2021, includes the March SU)` },
  { build: "15.2.858.15", name: "Exchange 2019 CU9 Jul21SU", weight: 1, status: "PPN PPPP PPPPP V VVV V V", source: `${GEBN}: KB5004778 (Jul 2021)` },
  { build: "15.2.986.14", name: "Exchange 2019 CU11 Nov21SU", weight: 1, status: "PPN PPPP PPPPP P VVV V V", source: `${GEBN}: KB5007409 (Nov 2021), before the Aug 2022 SU` },
  { build: "15.2.1544.4", name: "Exchange 2019 CU14", weight: 1, status: "PPN PPPP PPPPP P PPP P V", source: `${GEBN}: CU14 KB5035606 (Feb 2024, Extended Protection on at setup)` },
];

/** 3-part builds (a logon-page path only): every update of the CU, per the same CSV (plus pre-2021 SUs it omits). */
export const CU_BUILDS: TruthBuild[] = [
  { build: "15.0.1395", name: "Exchange 2013 CU21 (.4, Mar21SU .12)", weight: 0, status: "VVN UUUU VVVVV N VVV U U", source: GEBN },
  { build: "15.0.1473", name: "Exchange 2013 CU22 (.3, Mar21SU .6)", weight: 0, status: "PVN UUUU VVVVV N VVV U U", source: GEBN },
  { build: "15.0.1497", name: "Exchange 2013 CU23 (.2 to Mar23SU .48)", weight: 0, status: "PUN UUUU UUUUU N UUU U U", source: GEBN },
  { build: "15.1.1847", name: "Exchange 2016 CU14 (.3, Feb20SU .7, Mar21SU .12)", weight: 0, status: "PUN UUUU VVVVV V VVV V V", source: `${GEBN}; Feb 2020 SU KB4536987` },
  { build: "15.1.1979", name: "Exchange 2016 CU16 (.3 to Mar21SU .8)", weight: 0, status: "PPN UUUU VVVVV V VVV V V", source: GEBN },
  { build: "15.1.2044", name: "Exchange 2016 CU17 (.4 to Mar21SU .13)", weight: 0, status: "PPN UUUU VVVVV V VVV V V", source: GEBN },
  { build: "15.1.2106", name: "Exchange 2016 CU18 (.2 to Mar21SU .13)", weight: 0, status: "PPN UUUU VVVVV V VVV V V", source: GEBN },
  { build: "15.1.2176", name: "Exchange 2016 CU19 (.2 to May21SU .14)", weight: 0, status: "PPN UUUU VUUUU V VVV V V", source: GEBN },
  { build: "15.1.2242", name: "Exchange 2016 CU20 (.4 to Jul21SU .12)", weight: 0, status: "PPN PPPP UUUUU V VVV V V", source: GEBN },
  { build: "15.1.2375", name: "Exchange 2016 CU22 (.7 to Nov22SU .37)", weight: 0, status: "PPN PPPP PPPPP U UUU U V", source: GEBN },
  { build: "15.1.2507", name: "Exchange 2016 CU23 (.6 to Jun26SU .69 and later)", weight: 0, status: "PPN PPPP PPPPP P UUU U U", source: GEBN },
  { build: "15.2.330", name: "Exchange 2019 CU1 (.5, Mar21SU .11)", weight: 0, status: "PVN UUUU VVVVV V VVV V V", source: GEBN },
  { build: "15.2.595", name: "Exchange 2019 CU5 (.3 to Mar21SU .8)", weight: 0, status: "PPN UUUU VVVVV V VVV V V", source: GEBN },
  { build: "15.2.721", name: "Exchange 2019 CU7 (.2 to Mar21SU .13)", weight: 0, status: "PPN UUUU VVVVV V VVV V V", source: GEBN },
  { build: "15.2.792", name: "Exchange 2019 CU8 (.3 to May21SU .15)", weight: 0, status: "PPN UUUU VUUUU V VVV V V", source: GEBN },
  { build: "15.2.858", name: "Exchange 2019 CU9 (.5, reported .2, to Jul21SU .15)", weight: 0, status: "PPN PPPP UUUUU V VVV V V", source: `${GEBN}; CSS-Exchange #396 (CU9 reports 15.2.858.2)` },
  { build: "15.2.986", name: "Exchange 2019 CU11 (.5 to Mar23SU .42)", weight: 0, status: "PPN PPPP PPPPP U UUU U V", source: GEBN },
  { build: "15.2.1544", name: "Exchange 2019 CU14 (.4 to Jun26SU .41 and later)", weight: 0, status: "PPN PPPP PPPPP P PPP P U", source: GEBN },
];

export type Status = "vulnerable" | "patched" | "unknown" | "not_affected";
const LETTER: Record<string, Status> = { V: "vulnerable", P: "patched", U: "unknown", N: "not_affected" };

/** The hand verdicts of a table row, CVE by CVE; throws on a malformed row. */
export function verdicts(row: TruthBuild): Array<{ id: string; status: Status }> {
  const letters = row.status.replace(/ /g, "");
  if (letters.length !== CVE_ORDER.length) throw new Error(`${row.build}: ${letters.length} verdicts, want ${CVE_ORDER.length}`);
  return CVE_ORDER.map((id, i) => {
    const s = LETTER[letters[i]!];
    if (s === undefined) throw new Error(`${row.build}: bad verdict letter ${letters[i]}`);
    return { id, status: s };
  });
}

export interface CountryPlan {
  cc: string;
  /** Share of the servers (the quota countries shaped like March 2021). */
  share: number;
  /** CIDR blocks, each with its holder (AS and name in the shipped @ip-location-db/asn CSV) and registry. */
  blocks: Array<[cidr: string, holder: string]>;
}

/**
 * The address plan: real allocations per country (RIR: ARIN, RIPE NCC, APNIC, LACNIC, AFRINIC by the IANA /8
 * registry; holder as the shipped @ip-location-db/asn CSV names it). Verified once, every address, against the
 * shipped geo-whois-asn-country MMDB with bench/census/checkPlan.ts (blocks where it disagreed were replaced,
 * e.g. 90.0.0.0/9, 126.0.0.0/8, 177.0.0.0/12, 62.178.0.0/15).
 */
export const COUNTRY_PLAN: CountryPlan[] = [
  { cc: "US", share: 0.28, blocks: [["12.0.0.0/10", "AS7018 AT&T, ARIN"], ["4.0.0.0/9", "AS3356 Level 3, ARIN"], ["24.0.0.0/12", "AS7922 Comcast, ARIN"]] },
  { cc: "DE", share: 0.16, blocks: [["84.128.0.0/10", "AS3320 Deutsche Telekom, RIPE NCC"], ["91.0.0.0/10", "AS3320 Deutsche Telekom, RIPE NCC"], ["87.128.0.0/10", "AS3320 Deutsche Telekom, RIPE NCC"]] },
  { cc: "FR", share: 0.0375, blocks: [["86.192.0.0/11", "AS3215 Orange, RIPE NCC"], ["193.51.0.0/16", "AS2200 RENATER, RIPE NCC"]] },
  { cc: "GB", share: 0.019, blocks: [["86.128.0.0/10", "AS2856 British Telecommunications, RIPE NCC"], ["62.30.0.0/15", "AS5089 Virgin Media, RIPE NCC"]] },
  { cc: "IT", share: 0.04, blocks: [["79.0.0.0/10", "AS3269 Telecom Italia, RIPE NCC"], ["93.32.0.0/12", "AS12874 Fastweb, RIPE NCC"]] },
  { cc: "NL", share: 0.03, blocks: [["77.160.0.0/12", "AS1136 KPN, RIPE NCC"], ["62.194.0.0/15", "AS33915 Vodafone Libertel, RIPE NCC"]] },
  { cc: "JP", share: 0.03, blocks: [["126.64.0.0/10", "AS17676 SoftBank, APNIC/JPNIC"], ["60.64.0.0/13", "AS17676 SoftBank, APNIC/JPNIC"], ["133.1.0.0/16", "AS4730 Osaka University, JPNIC"]] },
  { cc: "RU", share: 0.025, blocks: [["95.24.0.0/13", "AS8402 Vimpelcom, RIPE NCC"], ["95.52.0.0/14", "AS12389 Rostelecom, RIPE NCC"]] },
  { cc: "CN", share: 0.02, blocks: [["58.32.0.0/13", "AS4812 China Telecom, APNIC"], ["116.224.0.0/12", "AS4812 China Telecom, APNIC"]] },
  { cc: "BR", share: 0.02, blocks: [["191.176.0.0/12", "AS28573 Claro NXT, LACNIC"], ["200.160.0.0/16", "Telefonica Brasil / V tal, LACNIC"]] },
  { cc: "ES", share: 0.02, blocks: [["88.0.0.0/11", "AS3352 Telefonica de Espana, RIPE NCC"], ["83.32.0.0/12", "AS3352 Telefonica de Espana, RIPE NCC"]] },
  { cc: "CA", share: 0.02, blocks: [["70.48.0.0/13", "AS577 Bell Canada, ARIN"], ["99.224.0.0/11", "AS812 Rogers, ARIN"]] },
  { cc: "AU", share: 0.02, blocks: [["1.120.0.0/13", "AS1221 Telstra, APNIC"], ["58.160.0.0/12", "AS1221 Telstra, APNIC"]] },
  { cc: "PL", share: 0.02, blocks: [["83.0.0.0/11", "AS5617 Orange Polska, RIPE NCC"], ["89.64.0.0/12", "AS9141 P4, RIPE NCC"]] },
  { cc: "CH", share: 0.02, blocks: [["85.0.0.0/13", "AS3303 Swisscom, RIPE NCC"], ["178.192.0.0/13", "AS3303 Swisscom, RIPE NCC"]] },
  { cc: "AT", share: 0.02, blocks: [["91.112.0.0/14", "AS8447 A1 Telekom Austria, RIPE NCC"], ["193.170.0.0/15", "AS1853 ACOnet, RIPE NCC"]] },
  { cc: "SE", share: 0.045, blocks: [["78.64.0.0/12", "AS3301 Telia, RIPE NCC"]] },
  { cc: "BE", share: 0.035, blocks: [["81.240.0.0/13", "AS5432 Proximus, RIPE NCC"], ["91.176.0.0/13", "AS5432 Proximus, RIPE NCC"]] },
  { cc: "KR", share: 0.045, blocks: [["211.32.0.0/11", "AS4766 Korea Telecom / AS3786 LG DACOM, APNIC/KRNIC"]] },
  { cc: "IN", share: 0.045, blocks: [["117.192.0.0/10", "AS9829 BSNL, APNIC"]] },
  { cc: "ZA", share: 0.03, blocks: [["41.0.0.0/11", "AS29975 Vodacom, AFRINIC"]] },
  { cc: "MX", share: 0.0385, blocks: [["187.128.0.0/11", "AS8151 Uninet (Telmex), LACNIC"], ["189.128.0.0/11", "AS8151 Uninet (Telmex), LACNIC"]] },
];

/** A CIDR as [first address, size] in numbers. */
export function cidrRange(cidr: string): [number, number] {
  const [ip, len] = cidr.split("/");
  const n = ip!.split(".").reduce((a, x) => a * 256 + Number(x), 0);
  return [n, 2 ** (32 - Number(len))];
}
