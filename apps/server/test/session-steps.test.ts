import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { readSessionEvents, syncStores, type SessionEvent } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { FIXTURES, fixtureRollouts, fixtureThread } from "@sessionvault/testing/codex-fixtures";
import { startTestServer, type TestServer } from "./support/server.js";

// The session page's steps: the time each one took, copy buttons, and a link to every step.
const ARTIFACTS = join(import.meta.dirname, "../test-artifacts");
const VERSION = "0.169.0";
const PATCH = fixtureThread(VERSION, "03-patch");

let t: TestServer;
let token: string;
/** The screenshot's login (its header shows every link). */
let adminToken: string;
let browser: Browser;

beforeAll(async () => {
  t = await startTestServer();
  const from = new FsStore({ root: join(FIXTURES, VERSION) });
  try {
    expect((await syncStores(from, t.server.orgStore("acme"))).errors).toEqual([]);
  } finally {
    await from.close();
  }
  token = await t.token("acme", ["read"]);
  adminToken = await t.token("acme", ["admin"]);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

async function loggedIn(options: { clipboard?: boolean; height?: number; admin?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: options.height ?? 900 } });
  if (options.clipboard) await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: t.url });
  const page = await context.newPage();
  await page.goto(`${t.url}/login`);
  await page.fill("#token", options.admin ? adminToken : token);
  await page.click("button[type=submit]");
  await page.waitForURL(`${t.url}/`);
  return { context, page };
}

function rolloutLines(id: string): string[] {
  const file = fixtureRollouts(VERSION).find((r) => r.id === id)!;
  return readFileSync(file.path, "utf8").split("\n").filter(Boolean);
}

/** The session model's events of a fixture rollout (what the page's steps are made of). */
async function eventsOf(id: string): Promise<SessionEvent[]> {
  const out: SessionEvent[] = [];
  async function* lines() {
    yield* rolloutLines(id);
  }
  for await (const e of readSessionEvents(lines(), "codex", { text: true })) out.push(e);
  return out;
}

async function commandsOf(id: string): Promise<{ command: string; durationMs: number | null }[]> {
  return (await eventsOf(id)).flatMap((e) => (e.type === "command" ? [{ command: e.command ?? "", durationMs: e.durationMs }] : []));
}

test("every step shows the time since the step before it, and a command the time it ran", async () => {
  const { context, page } = await loggedIn({ admin: true });
  try {
    await page.goto(`${t.url}/sessions/${PATCH}`);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "session-steps.png") });
    const turns = await page.locator("section.turn").evaluateAll((sections) =>
      sections.map((s) => ({
        started: s.getAttribute("data-started") ?? "",
        steps: Array.from(s.querySelectorAll(".item")).map((i) => ({
          at: i.querySelector(".step-meta")?.getAttribute("data-at") ?? "",
          gap: i.querySelector(".step-gap")?.getAttribute("data-gap-ms") ?? null,
          text: i.querySelector(".step-gap")?.textContent ?? null,
        })),
      })),
    );
    const stamps = new Set(rolloutLines(PATCH).map((l) => (JSON.parse(l) as { timestamp: string }).timestamp));
    let gaps = 0;
    for (const turn of turns) {
      let previous = turn.started;
      for (const step of turn.steps) {
        // Each step's time is one of its rollout lines' times, and its gap is measured from the step before.
        expect(stamps.has(step.at)).toBe(true);
        const want = Date.parse(step.at) - Date.parse(previous);
        expect(Number(step.gap)).toBe(want);
        expect(step.text).toBe(want < 1000 ? `+${want} ms` : `+${(want / 1000).toFixed(1)} s`);
        previous = step.at;
        gaps++;
      }
    }
    expect(gaps).toBeGreaterThan(4);
    // Commands show how long they ran, as the rollout recorded it.
    const expected = (await commandsOf(PATCH)).filter((c) => c.durationMs !== null);
    expect(expected.length).toBeGreaterThan(0);
    const shown = await page.locator(".item.command .dur").allTextContents();
    expect(shown).toEqual(expected.map((c) => `ran ${c.durationMs! < 1000 ? `${c.durationMs} ms` : `${(c.durationMs! / 1000).toFixed(1)} s`}`));
  } finally {
    await context.close();
  }
});

test("copy buttons put the exact command, message and diff on the clipboard", async () => {
  const { context, page } = await loggedIn({ clipboard: true });
  try {
    await page.goto(`${t.url}/sessions/${PATCH}`);
    const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
    const events = await eventsOf(PATCH);
    const messages = (role: string) => events.flatMap((e) => (e.type === "message" && e.role === role ? [e.text] : []));
    // A command.
    const command = page.locator(".item.command").first();
    await command.locator("button.copy").click();
    await expect.poll(clipboard).toBe((await commandsOf(PATCH))[0]!.command);
    await expect.poll(() => command.locator("button.copy").textContent()).toBe("Copied");
    // The user's message, as typed.
    await page.locator(".item.msg.user button.copy").first().click();
    await expect.poll(clipboard).toBe(messages("user")[0]);
    // The agent's message: its Markdown source, not the rendered text.
    await page.locator(".item.msg.agent button.copy").last().click();
    await expect.poll(clipboard).toBe(messages("agent").at(-1));
    // A diff: the file's change as the session recorded it.
    const diffs = events.flatMap((e) => (e.type === "file_change" ? e.files.map((f) => f.diff) : []));
    expect(diffs[0]).toBeTruthy();
    await page.locator(".item.file-change .diff button.copy").first().click();
    await expect.poll(clipboard).toBe(diffs[0]);
  } finally {
    await context.close();
  }
});

test("without clipboard permission a copy button fails silently: no error, the page stays usable", async () => {
  const { context, page } = await loggedIn();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  try {
    await page.goto(`${t.url}/sessions/${PATCH}`);
    // Neither the clipboard API nor the copy command is allowed here.
    await page.evaluate(() => {
      Object.defineProperty(navigator, "clipboard", { value: { writeText: () => Promise.reject(new DOMException("denied", "NotAllowedError")) } });
      document.execCommand = () => false;
    });
    const button = page.locator(".item.command button.copy").first();
    await button.click();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    expect(await button.textContent()).toBe("Copy");
    expect(errors).toEqual([]);
    // The page still answers: a step link still works.
    await page.locator(".item.command .step-link").first().click();
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#step-\d+-\d+$/);
  } finally {
    await context.close();
  }
});

test("every step has a link to itself; opening it scrolls to the step and highlights it", async () => {
  const { context, page } = await loggedIn({ height: 500 });
  try {
    await page.goto(`${t.url}/sessions/${PATCH}`);
    const links = await page
      .locator(".item")
      .evaluateAll((items) =>
        items.map((i) => ({ id: i.id, href: i.querySelector(":scope > .step-meta .step-link, :scope > summary .step-link")?.getAttribute("href") ?? "" })),
      );
    expect(links.length).toBeGreaterThan(4);
    for (const l of links) {
      expect(l.id).toMatch(/^step-\d+-\d+$/);
      expect(l.href).toBe(`/sessions/${PATCH}#${l.id}`);
    }
    expect(new Set(links.map((l) => l.id)).size).toBe(links.length);
    // Opened from the link (a new page, as a colleague would), the last step is scrolled into view and highlighted.
    const last = links[links.length - 1]!;
    const other = await context.newPage();
    await other.goto(`${t.url}${last.href}`);
    const step = other.locator(`#${last.id}`);
    await expect.poll(() => step.evaluate((e) => e.classList.contains("step-highlight"))).toBe(true);
    await expect
      .poll(() =>
        step.evaluate((e) => {
          const r = e.getBoundingClientRect();
          return r.top >= 0 && r.bottom <= window.innerHeight;
        }),
      )
      .toBe(true);
    expect(await other.evaluate(() => window.scrollY)).toBeGreaterThan(0);
    const outline = await step.evaluate((e) => getComputedStyle(e).outlineStyle);
    expect(outline).toBe("solid");
    // Only that step is highlighted; following another step's link moves the highlight.
    expect(await other.locator(".step-highlight").count()).toBe(1);
    await other.locator(`#${links[0]!.id} .step-link`).first().click();
    await expect.poll(() => other.locator(`#${links[0]!.id}`).evaluate((e) => e.classList.contains("step-highlight"))).toBe(true);
    expect(await other.locator(".step-highlight").count()).toBe(1);
  } finally {
    await context.close();
  }
});

test("a link to a folded reasoning step opens it", async () => {
  const { context, page } = await loggedIn({ height: 500 });
  try {
    await page.goto(`${t.url}/sessions/${PATCH}`);
    const id = await page.locator("details.item.reasoning").first().getAttribute("id");
    expect(id).toMatch(/^step-/);
    expect(await page.locator(`#${id}`).evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    const opened = await context.newPage();
    await opened.goto(`${t.url}/sessions/${PATCH}#${id}`);
    await expect.poll(() => opened.locator(`#${id}`).evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    expect(await opened.locator(`#${id}`).evaluate((d) => d.classList.contains("step-highlight"))).toBe(true);
  } finally {
    await context.close();
  }
});

test("a shared session's step links stay on the share link, which needs no login", async () => {
  const { context, page } = await loggedIn();
  const outsider = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    await page.goto(`${t.url}/sessions/${PATCH}`);
    await page.click(".share-form button[type=submit]");
    const url = (await page.locator("#new-share-link").textContent())!;
    const secretPath = new URL(url).pathname;
    const shared = await outsider.newPage();
    await shared.goto(url);
    await shared.screenshot({ path: join(ARTIFACTS, "session-steps-shared.png") });
    const hrefs = await shared.locator(".item .step-link").evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""));
    expect(hrefs.length).toBeGreaterThan(4);
    for (const h of hrefs) expect(h).toMatch(new RegExp(`^${secretPath}#step-\\d+-\\d+$`));
    // Logged out, a step link opens the step on the shared page.
    await shared.goto(`${t.url}${hrefs.at(-1)}`);
    await expect.poll(() => shared.locator(".step-highlight").count()).toBe(1);
    expect(new URL(shared.url()).pathname).toBe(secretPath);
  } finally {
    await outsider.close();
    await context.close();
  }
});
