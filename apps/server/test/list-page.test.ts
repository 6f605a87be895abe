import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { syncStores } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { FIXTURES } from "@sessionvault/testing/codex-fixtures";
import { startTestServer, type TestServer } from "./support/server.js";

let t: TestServer;
let browser: Browser;
let token: string;

beforeAll(async () => {
  t = await startTestServer();
  const from = new FsStore({ root: join(FIXTURES, "0.169.0") });
  try {
    expect((await syncStores(from, t.server.orgStore("acme"))).errors).toEqual([]);
  } finally {
    await from.close();
  }
  token = await t.token("acme", ["read"]);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

async function loggedIn(width: number): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${t.url}/login`);
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForURL(`${t.url}/`);
  return { context, page };
}

test("the list shows agent, model, outcome badge, relative start with seconds on hover, duration, tokens and files", async () => {
  const { context, page } = await loggedIn(1400);
  try {
    const heads = await page.locator(".session-table thead th").allInnerTexts();
    expect(heads).toEqual(["Started", "Title", "Agent", "Model", "Outcome", "Duration", "Tokens", "Files", "Repository / directory"]);
    const rows = page.locator("tr.session-row");
    await expect.poll(() => rows.count()).toBe(15);
    // Each row's facts are the API's facts for that session.
    const api = (await (await fetch(`${t.url}/v1/sessions?limit=50`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      sessions: { id: string; agent: string; model: string | null; outcome: string; files_changed: number }[];
    };
    for (let i = 0; i < 15; i++) {
      const row = rows.nth(i);
      const href = (await row.locator(".title a").getAttribute("href"))!;
      const s = api.sessions.find((x) => href.endsWith(x.id))!;
      expect(await row.locator(".agent").innerText()).toBe(s.agent);
      if (s.model) expect(await row.locator(".model").innerText()).toBe(s.model);
      const badge = row.locator(".outcome");
      expect(await badge.getAttribute("class")).toContain(`outcome-${s.outcome}`);
      expect(await badge.innerText()).toBe(s.outcome.replace("_", " "));
      expect(await row.locator(".files").innerText()).toBe(String(s.files_changed));
      expect(await row.locator(".duration").innerText()).toMatch(/^(—|\d+ ms|[\d.]+ s|\d+ min \d+ s|\d+ h \d+ min)$/);
      expect(await row.locator(".tokens").innerText()).toMatch(/^(—|\d+|[\d.]+[kM])$/);
      const when = row.locator("time.rel");
      expect(await when.innerText()).toMatch(/ago$|^just now$|^\d{4}-\d\d-\d\d$/);
      expect(await when.getAttribute("title")).toMatch(/\d{1,2}:\d\d:\d\d/);
    }
    expect(new Set(api.sessions.map((s) => s.outcome)).size).toBeGreaterThan(1);
  } finally {
    await context.close();
  }
});

test("j/k pick a row and Enter opens it", async () => {
  const { context, page } = await loggedIn(1400);
  try {
    const second = (await page.locator("tr.session-row .title a").nth(1).getAttribute("href"))!;
    await page.keyboard.press("j");
    await page.keyboard.press("j");
    await page.keyboard.press("j");
    await page.keyboard.press("k");
    expect(await page.locator("tr.session-row.selected .title a").getAttribute("href")).toBe(second);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${t.url}${second}`);
  } finally {
    await context.close();
  }
});

test("at 390 px neither the list nor a session page scrolls sideways", async () => {
  const { context, page } = await loggedIn(390);
  try {
    const noSideScroll = () => page.evaluate(() => document.scrollingElement!.scrollWidth <= window.innerWidth);
    expect(await noSideScroll()).toBe(true);
    const hrefs = await page.locator("tr.session-row .title a").evaluateAll((as) => as.map((a) => a.getAttribute("href")!));
    for (const href of hrefs) {
      await page.goto(`${t.url}${href}`);
      expect(await noSideScroll(), href).toBe(true);
    }
  } finally {
    await context.close();
  }
});

test("the usage page's totals are the sums of the sessions' facts, and its Chart.js charts draw them", async () => {
  const { context, page } = await loggedIn(1400);
  try {
    const all = (await (await fetch(`${t.url}/v1/sessions?limit=200&archived=all`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      sessions: { outcome: string; model: string | null; files_changed: number; tokens: { input: number; output: number } | null }[];
    };
    await page.click(".top a.usage-link");
    await page.waitForURL(`${t.url}/usage`);
    expect(await page.locator("#total-sessions").innerText()).toBe(String(all.sessions.length));
    const sum = (f: (s: (typeof all.sessions)[number]) => number) => all.sessions.reduce((n, s) => n + f(s), 0);
    expect(await page.locator("#total-tokens-in").innerText()).toBe(sum((s) => s.tokens?.input ?? 0).toLocaleString("en"));
    expect(await page.locator("#total-tokens-out").innerText()).toBe(sum((s) => s.tokens?.output ?? 0).toLocaleString("en"));
    expect(await page.locator("#total-files").innerText()).toBe(String(sum((s) => s.files_changed)));
    await page.waitForFunction(() => (window as unknown as { usageCharts?: unknown[] }).usageCharts?.length === 6);
    const charts = await page.evaluate(() =>
      (window as unknown as { usageCharts: { canvas: HTMLCanvasElement; data: { labels: string[]; datasets: { data: number[] }[] } }[] }).usageCharts.map(
        (c) => ({
          id: c.canvas.id,
          labels: c.data.labels,
          total: c.data.datasets[0]!.data.reduce((a, b) => a + b, 0),
          drawn: c.canvas.width > 0 && c.canvas.height > 0,
        }),
      ),
    );
    for (const id of ["chart-sessions-day", "chart-model", "chart-outcome", "chart-repo"])
      expect(charts.find((c) => c.id === id)?.total, id).toBe(all.sessions.length);
    expect(charts.find((c) => c.id === "chart-tokens-day")?.total).toBe(sum((s) => (s.tokens?.input ?? 0) + (s.tokens?.output ?? 0)));
    expect(charts.find((c) => c.id === "chart-outcome")?.labels.sort()).toEqual([...new Set(all.sessions.map((s) => s.outcome))].sort());
    expect(charts.every((c) => c.drawn)).toBe(true);
  } finally {
    await context.close();
  }
});
