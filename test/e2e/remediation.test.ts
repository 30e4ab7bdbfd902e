// The Remediation page in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core), on a
// store whose notices were sent by the real `vigie notify` to a loopback SMTP server (test/serve/notices.ts):
// the chart and the groups, the overdue list, the notices and one message as sent, then the analyst's dry run on an
// uploaded contacts file; hostile host and organisation names are shown as text; a constituency-limited viewer
// sees only its own servers and no dry run. Screenshots: bench/out/serve/remediation.png and remediation-chart.png.
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/serve/app.js";
import { openStore } from "../../src/store/open.js";
import type { Store } from "../../src/store/store.js";
import { buildFixture, HOSTILE_IP, type Fixture } from "../serve/fixture.js";
import { CONTACTS, EVIL_ORG, recordNotices, type Received } from "../serve/notices.js";
import { execFileSync } from "node:child_process";

const CHROMIUM = "/usr/bin/chromium";
const WEB = path.resolve("dist/web");
const SHOTS = path.resolve("bench/out/serve");

let fx: Fixture;
let store: Store | undefined;
let srv: RunningServer;
let browser: BrowserContext;
let page: Page;
let received: Received[];
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (Debian's package; npm test's set-up installs it as root)`);
  if (!existsSync(path.join(WEB, "index.html"))) execFileSync("npm", ["run", "build:web"], { stdio: "inherit" });
  fx = await buildFixture();
  received = await recordNotices(fx);
  srv = await startServer({ store: (store = await openStore(fx.db)), kb: fx.kb, port: 0, webDir: WEB });
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
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  await store?.close();
  await fx?.cleanup();
});

async function logIn(user: string): Promise<void> {
  await page.goto(srv.url + "/");
  // Either the log-in form or, when a session is still open, the header with its log-out button.
  await page.waitForSelector("form.login, header .who");
  if ((await page.locator("header .who button").count()) > 0) await page.click("header .who button");
  await page.waitForSelector("form.login");
  await page.fill("input[name=user]", user);
  await page.fill("input[name=password]", `${user}-password`);
  await page.click("button[type=submit]");
  await page.waitForSelector("header .who");
}

const overdueIps = async (): Promise<string[]> => (await page.locator("#overdue tbody tr a.host-link").allTextContents()).sort();

describe("the Remediation page in Chromium", () => {
  it("shows the chart, the groups and the overdue list", async () => {
    await logIn("analyst");
    await page.click("header nav a:text('Remediation')");
    await page.waitForSelector("#remediation-groups tbody tr");
    const loaded = () => page.locator("img#remediation-chart").evaluate((i) => (i as unknown as { complete: boolean; naturalWidth: number }).complete && (i as unknown as { naturalWidth: number }).naturalWidth > 0);
    await expect.poll(loaded, { timeout: 30_000 }).toBe(true);
    await page.locator("img#remediation-chart").screenshot({ path: path.join(SHOTS, "remediation-chart.png") });
    // The groups, by hand: Renater Lab 2 notified, 1 fixed in 6 days; the organisation with markup in its name is text.
    const lab = page.locator("#remediation-groups tbody tr", { hasText: "Renater Lab" });
    expect(await lab.locator("td").allTextContents()).toEqual(["Renater Lab", "2", "1", "1", "0", "0", "6", "6"]);
    expect(await page.locator("#remediation-groups td.key").allTextContents()).toContain(EVIL_ORG);
    expect(await page.locator("main b").count()).toBe(0);
    // Overdue (14 days by default; the notices are of March 2021): the five servers still vulnerable in b.
    await expect.poll(overdueIps).toEqual(["193.51.224.1:443", "203.0.113.66:443", "212.27.48.10:443", "8.8.8.8:443", "81.169.145.1:443"]);
    const hostile = page.locator("#overdue tbody tr", { hasText: HOSTILE_IP });
    expect(await hostile.locator("td.hostname").textContent()).toBe('=HYPERLINK("http://evil.example/","click")');
    expect(await page.textContent("#overdue-count")).toMatch(/^5 \(server, CVE\) still vulnerable 14 days/);
    // The timeline of the notified CVE lists the out-of-band patch of 2 March 2021, with its sources.
    await page.click("#events summary");
    expect(await page.locator("#events li", { hasText: "2021-03-02" }).count()).toBeGreaterThan(0);
    // By country: the table's first column changes.
    await page.selectOption("#remediation-filters select[name=by]", "country");
    await expect.poll(() => page.locator("#remediation-groups td.key").allTextContents()).toEqual(["FR", "DE", "US"]);
  }, 90_000);

  it("lists the notices sent and shows one message exactly as sent, as text", async () => {
    await page.goto(srv.url + "/#/remediation");
    await page.waitForSelector("#notices tbody tr");
    expect(await page.locator("#notices tbody tr").count()).toBe(received.length);
    const row = page.locator("#notices tbody tr", { hasText: EVIL_ORG });
    expect(await row.locator("td.org").textContent()).toBe(EVIL_ORG);
    expect(await row.locator(".delivery").textContent()).toBe("sent");
    await row.locator("button.read-notice").click();
    await page.waitForSelector("#notice-raw");
    const shown = (await page.textContent("#notice-raw")) ?? "";
    const sent = received.find((r) => r.to.includes("abuse@evil.example"))!;
    expect(shown.replace(/\r\n/g, "\n").trim()).toBe(sent.raw.replace(/\r\n/g, "\n").trim());
    expect(shown).toContain("Content-Language: en");
    expect(await page.locator("#notice-raw *").count()).toBe(0); // text only, no element parsed out of it
  });

  it("runs a dry run on an uploaded contacts file and reads a generated notice; nothing is sent or recorded", async () => {
    const before = received.length;
    const noticesBefore = (await store!.notices.list()).length;
    await page.setInputFiles("#dry-run-form input[name=file]", { name: "contacts.csv", mimeType: "text/csv", buffer: Buffer.from(CONTACTS + "nope,Bad Row,x@y.example,en\n") });
    await expect.poll(() => page.locator("#dry-run-form textarea[name=contacts]").inputValue()).toContain("Renater Lab");
    await page.fill("#dry-run-form input[name=from]", "CERT Example <cert@cert.example>");
    await page.selectOption("#dry-run-form select[name=cve]", "CVE-2021-26855");
    await page.click("#dry-run-form button[type=submit]");
    await page.waitForSelector("#dry-run article.dry-notice");
    expect(await page.textContent("#dry-run-summary")).toMatch(/^Snapshot b: 5 messages would be sent \(dry run: nothing sent, nothing recorded\)/);
    expect(await page.textContent("#dry-run-bad")).toContain("line 8: skipped: ");
    const lab = page.locator("article.dry-notice", { hasText: "Renater Lab" });
    expect(await lab.locator(".subject").textContent()).toBe("[Vigie] Serveur Microsoft Exchange vulnérable dans votre réseau (1)");
    expect(await lab.locator(".recipients").textContent()).toBe("cert@lab.renater.example");
    expect(await lab.locator(".language").textContent()).toBe("fr");
    const body = (await lab.locator(".notice-body").textContent()) ?? "";
    expect(body).toContain("Bonjour,");
    expect(body).toContain("193.51.224.1 port 443");
    await lab.locator("details.attachment summary").click();
    expect(await lab.locator("details.attachment pre").textContent()).toContain("193.51.224.1");
    const evil = page.locator("article.dry-notice", { hasText: "abuse@evil.example" });
    expect(await evil.locator("h3.org").textContent()).toBe(EVIL_ORG);
    expect(await evil.locator(".notice-body").textContent()).toContain('=HYPERLINK("http://evil.example/","click")');
    await page.screenshot({ path: path.join(SHOTS, "remediation.png"), fullPage: true });
    expect(received.length).toBe(before);
    expect((await store!.notices.list()).length).toBe(noticesBefore);
    expect(await page.evaluate("typeof window.__vigiePwned")).toBe("undefined");
    expect(problems).toEqual([]);
  }, 90_000);

  it("a constituency-limited viewer sees only its own servers and notices, and no dry run", async () => {
    await logIn("fr");
    await page.goto(srv.url + "/#/remediation");
    await page.waitForSelector("#remediation-groups tbody tr");
    expect((await page.locator("#remediation-groups td.key").allTextContents()).sort()).toEqual(["Free", "Renater Lab"]);
    await expect.poll(overdueIps).toEqual(["193.51.224.1:443", "212.27.48.10:443"]);
    expect((await page.locator("#notices td.org").allTextContents()).sort()).toEqual(["Free", "Renater Lab"]);
    expect(await page.locator("#dry-run-panel").count()).toBe(0);
    expect(await page.locator("button.read-notice").count()).toBe(0);
    expect(problems).toEqual([]);
  }, 60_000);
});
