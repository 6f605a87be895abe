import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { syncStores } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { FIXTURES, fixtureThread } from "@sessionvault/testing/codex-fixtures";
import { startTestServer, type TestServer } from "./support/server.js";

const VERSION = "0.169.0";
const HOSTILE_ID = "0f0f0f0f-0000-7000-8000-0000000fac01";
const SECRET_ID = "0f0f0f0f-0000-7000-8000-0000000fac02";
const SECRET = "sk-proj-abcdefghijklmnopqrstuvwx";

interface ApiSession {
  id: string;
  agent: string;
  model: string | null;
  outcome: string;
  cwd: string | null;
  parent_id: string | null;
  git: { repository_url: string | null; branch: string | null } | null;
}

let t: TestServer;
let browser: Browser;
let token: string;
let active: ApiSession[];

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** A session whose only user message is `text`. */
async function putSession(writer: string, id: string, text: string): Promise<void> {
  const h = { authorization: `Bearer ${writer}` };
  const put = await fetch(`${t.url}/v1/sessions/${id}`, {
    method: "PUT",
    headers: { ...h, "content-type": "application/json" },
    body: JSON.stringify({ created_at: "2026-01-01T00:00:00.000Z", title: "hostile" }),
  });
  expect(put.status).toBe(200);
  const lines = [
    {
      timestamp: "2026-01-01T00:00:00.000Z",
      type: "session_meta",
      payload: { id, timestamp: "2026-01-01T00:00:00.000Z", cwd: "/w", originator: "t", cli_version: "0" },
    },
    { timestamp: "2026-01-01T00:00:00.100Z", type: "event_msg", payload: { type: "task_started", turn_id: "t1" } },
    { timestamp: "2026-01-01T00:00:00.200Z", type: "response_item", payload: { type: "message", role: "user", content: [{ type: "input_text", text }] } },
  ].map((l) => `${JSON.stringify(l)}\n`);
  const post = await fetch(`${t.url}/v1/sessions/${id}/streams/rollout?expected_seq=0`, {
    method: "POST",
    headers: { ...h, "content-type": "application/x-ndjson" },
    body: lines.join(""),
  });
  expect(post.status).toBe(200);
}

beforeAll(async () => {
  t = await startTestServer();
  const from = new FsStore({ root: join(FIXTURES, VERSION) });
  try {
    expect((await syncStores(from, t.server.orgStore("acme"))).errors).toEqual([]);
  } finally {
    await from.close();
  }
  const writer = await t.token("acme", ["write"]);
  // Short enough that the snippet (40 characters either side of the first match) holds all of it.
  await putSession(writer, HOSTILE_ID, `<img src=x onerror=window.pwned=1>needle-xyz NEEDLE-xyz<script>pwned=2</script>`);
  await putSession(writer, SECRET_ID, `find-me-key ${SECRET}`);
  token = await t.token("acme", ["read"]);
  active = (await api<{ sessions: ApiSession[] }>("/v1/sessions?limit=200")).sessions;
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

async function loggedIn(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${t.url}/login`);
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForURL(`${t.url}/`);
  return { context, page };
}

function repoOf(s: ApiSession): string | null {
  return s.git?.repository_url ? s.git.repository_url.replace(/^https?:\/\//, "").replace(/\.git$/, "") : null;
}

const FACETS: Record<string, (s: ApiSession) => string | null> = {
  outcome: (s) => s.outcome,
  model: (s) => s.model,
  agent: (s) => s.agent,
  repo: repoOf,
  branch: (s) => s.git?.branch ?? null,
  cwd: (s) => s.cwd,
};

function expectedCounts(sessions: readonly ApiSession[], key: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of sessions) {
    const v = FACETS[key]!(s);
    if (v) out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}

async function shownCounts(page: Page, key: string): Promise<Record<string, number>> {
  const pairs = await page
    .locator(`.facet[data-facet="${key}"] a.facet-value`)
    .evaluateAll((as) => as.map((a) => [a.getAttribute("data-value") ?? "", a.querySelector(".count")?.textContent ?? ""] as const));
  return Object.fromEntries(pairs.map(([v, c]) => [v, Number(c)]));
}

/** Clicks a facet's value as a user would, unfolding the facet's "more" values first when it is among them. */
async function clickFacet(page: Page, key: string, value: string): Promise<void> {
  const link = page.locator(`.facet[data-facet="${key}"] a.facet-value[data-value="${value}"]`);
  if (!(await link.isVisible())) await page.click(`.facet[data-facet="${key}"] details > summary`);
  await link.click();
}

async function rowIds(page: Page): Promise<string[]> {
  const hrefs = await page.locator("tr.session-row .title a").evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""));
  return hrefs.map((h) => h.replace("/sessions/", "")).sort();
}

test("facets count the list's sessions per outcome, model, agent, repository, branch and directory", async () => {
  const { context, page } = await loggedIn();
  try {
    // The fixture home has sessions that completed, failed (an API error) and were interrupted.
    const byId = new Map(active.map((s) => [s.id, s]));
    expect(byId.get(fixtureThread(VERSION, "14-apierror"))?.outcome).toBe("failed");
    expect(byId.get(fixtureThread(VERSION, "16-interrupt"))?.outcome).toBe("interrupted");
    expect(active.some((s) => s.outcome === "completed")).toBe(true);
    for (const key of Object.keys(FACETS)) expect(await shownCounts(page, key), key).toEqual(expectedCounts(active, key));
    expect(Object.keys(await shownCounts(page, "cwd")).length).toBeGreaterThan(1);
  } finally {
    await context.close();
  }
});

test("clicking a facet filters the list to it, narrows the other counts, and clicking it again clears it", async () => {
  const { context, page } = await loggedIn();
  try {
    const failed = active.filter((s) => s.outcome === "failed");
    await page.click('.facet[data-facet="outcome"] a.facet-value[data-value="failed"]');
    await page.waitForURL(/outcome=failed/);
    expect(await rowIds(page)).toEqual(failed.map((s) => s.id).sort());
    expect(await page.locator('.facet[data-facet="outcome"] a.facet-value.active').getAttribute("data-value")).toBe("failed");
    expect(await shownCounts(page, "cwd")).toEqual(expectedCounts(failed, "cwd"));

    // A second facet on top: the interrupted session's directory, within "interrupted".
    await page.click('.facet[data-facet="outcome"] a.facet-value.active');
    await page.waitForURL((u) => !u.search.includes("outcome="));
    await expect.poll(() => page.locator("tr.session-row").count()).toBe(active.length);
    const interrupted = active.filter((s) => s.outcome === "interrupted");
    const cwd = interrupted[0]!.cwd!;
    await clickFacet(page, "cwd", cwd);
    await page.waitForURL(/cwd=/);
    const inCwd = active.filter((s) => s.cwd === cwd);
    expect(await rowIds(page)).toEqual(inCwd.map((s) => s.id).sort());
    expect(await shownCounts(page, "outcome")).toEqual(expectedCounts(inCwd, "outcome"));
    await page.click('.facet[data-facet="outcome"] a.facet-value[data-value="interrupted"]');
    await page.waitForURL(/outcome=interrupted/);
    expect(new URL(page.url()).searchParams.get("cwd")).toBe(cwd);
    expect(await rowIds(page)).toEqual(
      inCwd
        .filter((s) => s.outcome === "interrupted")
        .map((s) => s.id)
        .sort(),
    );

    // A search keeps the facets chosen (they ride along in the form).
    await page.fill('input[name="q"]', "zz-no-such-text-zz");
    await page.click(".search-row button");
    await page.waitForURL(/q=zz-no-such-text-zz/);
    expect(new URL(page.url()).searchParams.get("outcome")).toBe("interrupted");
    expect(await page.locator(".match-count strong").innerText()).toBe("0");
  } finally {
    await context.close();
  }
});

test("search results show the match count and a snippet per row with the match highlighted; hostile content stays inert", async () => {
  const { context, page } = await loggedIn();
  try {
    await page.goto(`${t.url}/?q=${encodeURIComponent("does-not-exist")}`);
    expect(await page.locator(".match-count strong").innerText()).toBe("1");
    const snippet = page.locator("tr.session-row .snippet");
    expect(await snippet.count()).toBe(1);
    expect(await snippet.locator("mark").first().innerText()).toBe("does-not-exist");

    await page.goto(`${t.url}/?q=${encodeURIComponent("Needle-XYZ")}`);
    expect(await page.locator(".match-count strong").innerText()).toBe("1");
    const hostile = page.locator("tr.session-row .snippet");
    // Every occurrence is marked, case-insensitively, in its own case.
    expect(await hostile.locator("mark").allInnerTexts()).toEqual(["needle-xyz", "NEEDLE-xyz"]);
    expect(await hostile.innerText()).toContain("NEEDLE-xyz<script>pwned=2</script>");
    expect(await hostile.innerText()).toContain("<img src=x onerror=window.pwned=1>");
    expect(await hostile.locator("img, script, [onerror]").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();

    // A credential next to the match is redacted in the snippet, as everywhere else in the UI.
    await page.goto(`${t.url}/?q=find-me-key`);
    const withKey = await page.locator("tr.session-row .snippet").innerText();
    expect(withKey).toContain("find-me-key");
    expect(withKey).not.toContain(SECRET.slice(0, 16));
    expect(withKey).toContain("[REDACTED");
  } finally {
    await context.close();
  }
});

test("a sub-agent's parent links to the child with the child's outcome, and the child links back", async () => {
  const { context, page } = await loggedIn();
  try {
    const parentId = fixtureThread(VERSION, "12-subagent");
    const all = (await api<{ sessions: ApiSession[] }>("/v1/sessions?limit=200&archived=all")).sessions;
    const child = all.find((s) => s.parent_id === parentId)!;
    expect(child).toBeDefined();
    const parent = all.find((s) => s.id === parentId)!;

    await page.goto(`${t.url}/sessions/${parentId}`);
    const link = page.locator(".facts .children .child").filter({ has: page.locator(`a[href="/sessions/${child.id}"]`) });
    expect(await link.count()).toBe(1);
    expect(await link.locator(".outcome").getAttribute("class")).toContain(`outcome-${child.outcome}`);
    // The spawn call in the timeline links to the same child with the same outcome.
    const call = page.locator(`.item.tool .child:has(a[href="/sessions/${child.id}"])`).first();
    expect(await call.locator(".outcome").innerText()).toBe(child.outcome.replace("_", " "));

    await link.locator("a").click();
    await page.waitForURL(`${t.url}/sessions/${child.id}`);
    const back = page.locator(".facts .parent");
    expect(await back.locator("a.session-ref").getAttribute("href")).toBe(`/sessions/${parentId}`);
    expect(await back.locator(".outcome").getAttribute("class")).toContain(`outcome-${parent.outcome}`);
    await back.locator("a.session-ref").click();
    await page.waitForURL(`${t.url}/sessions/${parentId}`);
  } finally {
    await context.close();
  }
});

test("the Started facet counts whole UTC days back from today, and each count is the rows its filter shows", async () => {
  const { context, page } = await loggedIn();
  try {
    const buckets = await page
      .locator('.facet[data-facet="started"] a.facet-value')
      .evaluateAll((as) => as.map((a) => ({ since: a.getAttribute("data-value") ?? "", count: Number(a.querySelector(".count")?.textContent) })));
    expect(buckets.map((b) => b.since)).toEqual([...buckets.map((b) => b.since)].sort().reverse());
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.count).toBeGreaterThanOrEqual(buckets[i - 1]!.count);
    for (const b of buckets) {
      await page.goto(`${t.url}/`);
      await page.click(`.facet[data-facet="started"] a.facet-value[data-value="${b.since}"]`);
      await page.waitForURL(new RegExp(`since=${b.since}`));
      await expect.poll(() => page.locator("tr.session-row").count()).toBe(b.count);
      expect(await page.locator('.facet[data-facet="started"] a.facet-value.active').getAttribute("data-value")).toBe(b.since);
      expect(await page.locator('input[name="since"]').inputValue()).toBe(b.since);
    }
  } finally {
    await context.close();
  }
});
