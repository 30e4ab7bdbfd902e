// The dashboard in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): log in, the
// map, filtering hosts, a host page, the knowledge base, and a stored host whose title is a script tag shown as
// text with nothing run. Screenshots of the map and a host page go to bench/out/serve/.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/serve/app.js";
import { openSqliteStore } from "../../src/store/sqliteStore.js";
import { buildBundle } from "../triage/bundleFixture.js";
import { buildFixture, CVE, HOSTILE_IP, HOSTILE_TITLE, obs, type Fixture, VULN } from "../serve/fixture.js";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { assessObservation } from "../../src/pipeline/assessObservation.js";

const CHROMIUM = "/usr/bin/chromium";
const WEB = path.resolve("dist/web");
const SHOTS = path.resolve("bench/out/serve");

let fx: Fixture;
let srv: RunningServer;
let browser: BrowserContext;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (Debian's package; .ci/run installs it)`);
  if (!existsSync(path.join(WEB, "index.html"))) execFileSync("npm", ["run", "build:web"], { stdio: "inherit" });
  fx = await buildFixture();
  srv = await startServer({ store: await openSqliteStore(fx.db), kb: fx.kb, port: 0, webDir: WEB });
  browser = await chromium.launchPersistentContext(mkdtempSync(path.join(tmpdir(), "vigie-chromium-")), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    viewport: { width: 1280, height: 900 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  mkdirSync(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe("dashboard in Chromium", () => {
  it("shows a log-in form and nothing else to a stranger; logs in", async () => {
    await page.goto(srv.url + "/");
    await page.waitForSelector("form.login");
    expect(await page.locator("header").count()).toBe(0);
    await page.fill("input[name=user]", "viewer");
    await page.fill("input[name=password]", "wrong-password");
    await page.click("button[type=submit]");
    await page.waitForSelector(".login .error");
    await page.fill("input[name=password]", "viewer-password");
    await page.click("button[type=submit]");
    await page.waitForSelector("header .who");
    expect(await page.textContent("header .who")).toContain("viewer");
  });

  it("opens the overview with the world map and the trend", async () => {
    await page.goto(srv.url + "/#/");
    const map = page.locator("img#map");
    await map.waitFor();
    // (No string expressions: the page's CSP forbids eval, which is how Playwright runs them.)
    const loaded = (sel: string) => page.locator(sel).evaluate((i) => (i as unknown as { complete: boolean; naturalWidth: number }).complete && (i as unknown as { naturalWidth: number }).naturalWidth > 0);
    await expect.poll(() => loaded("img#map"), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => loaded("img#trend"), { timeout: 30_000 }).toBe(true);
    expect(await page.locator("select[name=cve]").inputValue()).toMatch(/^CVE-/);
    await page.screenshot({ path: path.join(SHOTS, "map.png"), fullPage: true });
  }, 60_000);

  it("filters and sorts the host table", async () => {
    await page.goto(srv.url + "/#/hosts?snapshot=b");
    await page.waitForSelector("#host-count");
    expect(await page.locator("#hosts tbody tr").count()).toBe(8);
    await page.fill("#host-filters input[name=country]", "FR");
    await page.click("#host-filters button[type=submit]");
    await expect.poll(() => page.locator("#hosts tbody tr").count()).toBe(3);
    expect(await page.textContent("#host-count")).toMatch(/^3 hosts/);
    const csv = await page.request.get(srv.url + ((await page.getAttribute("#export", "href")) ?? ""));
    expect(csv.status()).toBe(200);
    expect((await csv.text()).trim().split("\n").length).toBe(4); // header + the 3 FR hosts, with the session cookie
    await page.click("button.sort[data-sort=ip]");
    await page.click("button.sort[data-sort=ip]");
    await expect.poll(() => page.url()).toContain("order=desc");
    await expect.poll(() => page.locator("#hosts tbody tr a.host-link").first().textContent()).toBe("212.27.48.10:443");
  });

  it("opens a host page: evidence, build, verdicts, what to install", async () => {
    await page.goto(srv.url + "/#/hosts?snapshot=b&country=FR&sort=ip");
    await expect.poll(() => page.locator("#hosts tbody tr a.host-link").first().textContent()).toBe("193.51.224.1:443");
    await page.click("text=193.51.224.1:443");
    await page.waitForSelector("#verdicts");
    expect(await page.textContent("#host-title")).toBe("193.51.224.1:443");
    const verdict = page.locator("#verdicts tr", { hasText: CVE });
    expect(await verdict.locator(".status").textContent()).toBe("vulnerable");
    expect(await page.locator("#evidence").textContent()).toContain(VULN);
    expect(await page.locator("ul.todo").textContent()).toContain(CVE);
    // Exchange 2016 (end of support 2025-10-14) in a 2021 snapshot: supported then.
    expect(await page.textContent("#host-support")).toBe("supported on the snapshot's date; support ends 2025-10-14");
    await page.screenshot({ path: path.join(SHOTS, "host.png"), fullPage: true });
  });

  it("shows a stored host whose title is a script tag as text, and runs nothing", async () => {
    await page.goto(srv.url + `/#/host/${HOSTILE_IP}/443?snapshot=b`);
    await page.waitForSelector("#page-title");
    expect(await page.textContent("#page-title")).toBe(HOSTILE_TITLE);
    expect(await page.locator("main script, main img[src=x], main svg[onload]").count()).toBe(0);
    expect(await page.locator("main").textContent()).toContain("CN=<script>alert(1)</script>");
    await page.goto(srv.url + "/#/hosts?snapshot=b&ip=203.0.113.");
    await expect.poll(() => page.locator("#hosts tbody tr").count()).toBe(1);
    expect(await page.locator("#hosts .title").first().textContent()).toBe(HOSTILE_TITLE);
    await page.waitForTimeout(300);
    expect(await page.evaluate("typeof window.__vigiePwned")).toBe("undefined");
    expect(problems).toEqual([]);
  });

  it("explains a build on the knowledge-base page", async () => {
    await page.goto(srv.url + "/#/kb");
    await page.fill("#kb-form input[name=build]", VULN);
    await page.click("#kb-form button[type=submit]");
    await page.waitForSelector("#explanation");
    const row = page.locator("#explanation tr", { hasText: CVE });
    expect(await row.locator(".status").textContent()).toBe("vulnerable");
  });

  it("logs out; an analyst uploads a bundle on the triage page (with the CSRF token) and reads its timeline", async () => {
    const root = path.join(fx.dir, "bundle");
    mkdirSync(root);
    buildBundle(root, true);
    const tgz = path.join(fx.dir, "ex01.tar.gz");
    execFileSync("tar", ["-czf", tgz, "-C", root, "."]);
    await page.click("header .who button");
    await page.waitForSelector("form.login");
    await page.fill("input[name=user]", "analyst");
    await page.fill("input[name=password]", "analyst-password");
    await page.click("button[type=submit]");
    await page.waitForSelector("header .who");
    await page.goto(srv.url + "/#/triage");
    await page.setInputFiles("#triage-form input[name=bundle]", { name: "ex01.tar.gz", mimeType: "application/gzip", buffer: readFileSync(tgz) });
    await page.click("#triage-form button[type=submit]");
    await page.waitForSelector("#timeline li", { timeout: 60_000 });
    expect(await page.textContent("h1")).toContain("compromised");
    expect(await page.locator("#timeline li").count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SHOTS, "triage.png"), fullPage: true });
    expect(problems).toEqual([]);
  }, 90_000);

  it("shows end of support on the host page and the host list, judged on the snapshot's date", async () => {
    // A snapshot of 2024-06-11 holding an Exchange 2013 CU23 server: 2013's support ended 2023-04-11.
    const store = await openSqliteStore(fx.db);
    try {
      await store.createSnapshot({ id: "y2024", kind: "import", date: "2024-06-11", spec: {}, status: "done" });
      const rec = assessObservation(new BuildExplainer(fx.kb), "y2024", obs("193.51.224.9", "15.0.1497.2"), { country: "FR", asn: 2200, asOrg: "Renater" });
      await store.saveBatch("y2024", [rec], []);
    } finally {
      await store.close();
    }
    await page.goto(srv.url + "/#/host/193.51.224.9/443?snapshot=y2024");
    await page.waitForSelector("#host-support");
    expect(await page.textContent("#host-support")).toBe("out of support since 2023-04-11 (on the snapshot's date): no security updates; migrate to a supported version");
    expect(await page.getAttribute("#host-support", "class")).toBe("bad");
    await page.goto(srv.url + "/#/hosts?snapshot=y2024");
    await expect.poll(() => page.locator("#hosts tbody tr").count()).toBe(1);
    expect(await page.locator("#hosts td.eos").first().textContent()).toBe("out since 2023-04-11");
    expect(problems).toEqual([]);
  });
});
