import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { syncStores } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { FIXTURES, fixtureThread } from "@sessionvault/testing/codex-fixtures";
import { startTestServer, type TestServer } from "./support/server.js";

const ARTIFACTS = join(import.meta.dirname, "../test-artifacts");
const VERSION = "0.169.0";

let t: TestServer;
let token: string;
let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  t = await startTestServer();
  const from = new FsStore({ root: join(FIXTURES, VERSION) });
  try {
    const summary = await syncStores(from, t.server.orgStore("acme"));
    expect(summary.errors).toEqual([]);
  } finally {
    await from.close();
  }
  token = await t.token("acme", ["read"]);
  await mkdir(ARTIFACTS, { recursive: true });
  profile = await mkdtemp(join(tmpdir(), "sv-chromium-"));
  // A fresh user-data dir per run: no state leaks between runs.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
});

afterAll(async () => {
  await context?.close();
  await t?.stop();
  if (profile) await rm(profile, { recursive: true, force: true });
});

async function login(page: Page): Promise<void> {
  await page.goto(`${t.url}/`);
  // Not logged in: the list redirects to the login form.
  await expect.poll(() => new URL(page.url()).pathname).toBe("/login");
  await page.fill("#token", "sv_not-a-real-token");
  await page.click("button[type=submit]");
  await expect.poll(() => page.textContent(".error")).toContain("not valid");
  await page.screenshot({ path: join(ARTIFACTS, "00-login.png") });
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForURL(`${t.url}/`);
}

test("log in, list, search, open a session, see commands and diffs, download actions", async () => {
  const page = await context.newPage();
  try {
    await login(page);
    const cookie = (await context.cookies()).find((c) => c.name === "sv_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    expect(cookie?.value).not.toContain(token);

    // The list: newest first, every active fixture session.
    const rows = page.locator("tr.session-row");
    await expect.poll(() => rows.count()).toBe(15);
    const times = await page.locator("tr.session-row time").evaluateAll((els) => els.map((e) => e.getAttribute("datetime") ?? ""));
    expect(times).toEqual([...times].sort().reverse());
    await page.screenshot({ path: join(ARTIFACTS, "01-sessions.png"), fullPage: true });

    // Paging: pages of 6 cover the 15 sessions once, in the same order.
    const paged: string[] = [];
    await page.goto(`${t.url}/?limit=6`);
    for (;;) {
      paged.push(...(await page.locator("tr.session-row .title a").evaluateAll((els) => els.map((e) => e.getAttribute("href") ?? ""))));
      const older = page.locator('a[rel="next"]');
      if ((await older.count()) === 0) break;
      const before = page.url();
      await older.click();
      await page.waitForURL((u) => u.href !== before);
    }
    expect(paged).toHaveLength(15);
    expect(new Set(paged).size).toBe(15);
    await page.goto(`${t.url}/`);
    const unpaged = await page.locator("tr.session-row .title a").evaluateAll((els) => els.map((e) => e.getAttribute("href") ?? ""));
    expect(paged).toEqual(unpaged);

    // Filters: a directory facet, then a date range that ends before the fixtures were made.
    const shellCwd = (await page.locator("tr.session-row .cwd").allTextContents()).find((c) => c.endsWith("/work/shell"))!;
    const shellFacet = page.locator(`.facet[data-facet="cwd"] a.facet-value[data-value="${shellCwd}"]`);
    if (!(await shellFacet.isVisible())) await page.click('.facet[data-facet="cwd"] details > summary');
    await shellFacet.click();
    await page.waitForURL(/cwd=/);
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().locator(".title a").textContent()).toContain("hello.txt");
    await page.goto(`${t.url}/?until=2026-11-20`);
    expect(await page.locator(".empty").textContent()).toContain("No sessions match");
    await page.goto(`${t.url}/?since=2026-11-21&model_provider=mock`);
    await expect.poll(() => rows.count()).toBe(15);
    await page.goto(`${t.url}/`);

    // Search a command line: only the failing-commands session has it.
    await page.fill('input[name="q"]', "does-not-exist");
    await page.click(".search-row button");
    await page.waitForURL(/q=does-not-exist/);
    await expect.poll(() => rows.count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, "02-search.png"), fullPage: true });
    await rows.first().locator("a").click();
    await page.waitForURL(new RegExp(`/sessions/${fixtureThread(VERSION, "04-fail")}`));
    const failing = page.locator(".item.command", { hasText: "ls does-not-exist; exit 3" });
    await expect.poll(() => failing.count()).toBe(1);
    expect(await failing.locator(".exit").textContent()).toBe("exit 3");
    expect(await failing.locator(".exit").getAttribute("class")).toContain("fail");
    await page.screenshot({ path: join(ARTIFACTS, "03-session-commands.png"), fullPage: true });

    // The API error that ended a turn is shown with its text, and the session is marked failed.
    await page.goto(`${t.url}/sessions/${fixtureThread(VERSION, "14-apierror")}`);
    const apiError = page.locator(".item.error", { hasText: "the model backend is unavailable" });
    await expect.poll(() => apiError.count()).toBe(1);
    expect(await page.locator(".status.failed").count()).toBeGreaterThan(0);

    // A session with file changes shows them as diffs; a changed path is searchable.
    await page.goto(`${t.url}/?q=${encodeURIComponent("notes.md")}`);
    await page.locator("tr.session-row a", { hasText: "hello.txt" }).first().click();
    await page.waitForURL(new RegExp(`/sessions/${fixtureThread(VERSION, "03-patch")}`));
    const added = page.locator(".diff .dl.add", { hasText: "+hello, patched world" });
    await expect.poll(() => added.count()).toBe(1);
    expect(await page.locator(".diff .dl.del", { hasText: "-hello" }).count()).toBeGreaterThan(0);
    expect(await page.locator(".diff-file code", { hasText: "notes.md" }).count()).toBe(1);
    expect(await page.locator(".turn .tokens").first().textContent()).toMatch(/tokens/);
    await page.screenshot({ path: join(ARTIFACTS, "04-session-diff.png"), fullPage: true });

    // Download the actions v1 export.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=Download actions v1")]);
    expect(download.suggestedFilename()).toBe(`${fixtureThread(VERSION, "03-patch")}.actions.v1.ndjson`);
    const file = join(profile, "actions.ndjson");
    await download.saveAs(file);
    const actions = (await readFile(file, "utf8"))
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { action_type: string; changed_paths: string[] | null });
    expect(actions.filter((a) => a.action_type === "file_change").length).toBe(2);
    expect(actions.some((a) => a.action_type === "command_execution")).toBe(true);

    // Logging out ends the cookie session.
    await page.click(".logout button");
    await page.waitForURL(`${t.url}/login`);
    await page.goto(`${t.url}/sessions/${fixtureThread(VERSION, "03-patch")}`);
    expect(new URL(page.url()).pathname).toBe("/login");
  } finally {
    await page.close();
  }
});

test("an org admin creates a token on the Tokens page, sees it once, and revokes it; a read-only login has no Tokens page", async () => {
  const admin = await t.token("acme", ["admin"]);
  const page = await context.newPage();
  const apiStatus = async (bearer: string) => (await fetch(`${t.url}/v1/sessions`, { headers: { authorization: `Bearer ${bearer}` } })).status;
  try {
    await page.goto(`${t.url}/login`);
    await page.fill("#token", admin);
    await page.click("button[type=submit]");
    await page.waitForURL(`${t.url}/`);
    await page.click(".top a.tokens-link");
    await page.waitForURL(`${t.url}/tokens`);
    const rows = page.locator("tr.token-row");
    const before = await rows.count();
    expect(before).toBeGreaterThanOrEqual(2);
    expect(await page.locator("tr.token-row", { hasText: "this login" }).count()).toBe(1);
    expect(await page.content()).not.toContain(admin);

    await page.selectOption('select[name="scope"]', "write");
    await page.click(".create-token button");
    const secret = (await page.locator("#new-token").textContent())!.trim();
    expect(secret).toMatch(/^sv_/);
    await expect.poll(() => rows.count()).toBe(before + 1);
    await page.screenshot({ path: join(ARTIFACTS, "05-tokens.png"), fullPage: true });
    expect(await apiStatus(secret)).toBe(200);

    // Shown once: the page itself no longer has it.
    await page.goto(`${t.url}/tokens`);
    expect(await page.locator("#new-token").count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    const newId = (await page.locator("tr.token-row").last().getAttribute("data-id"))!;
    await page.locator(`tr.token-row[data-id="${newId}"] button`).click();
    await page.waitForURL(`${t.url}/tokens`);
    await expect.poll(() => page.locator(`tr.token-row[data-id="${newId}"]`).count()).toBe(0);
    expect(await apiStatus(secret)).toBe(401);

    await page.click(".logout button");
    await page.waitForURL(`${t.url}/login`);
    await page.fill("#token", token);
    await page.click("button[type=submit]");
    await page.waitForURL(`${t.url}/`);
    expect(await page.locator(".top a.tokens-link").count()).toBe(0);
    const denied = await page.goto(`${t.url}/tokens`);
    expect(denied?.status()).toBe(403);
    expect(await page.locator(".error-page").textContent()).toContain("admin");
  } finally {
    await page.close();
  }
});
