import { createHash, randomBytes } from "node:crypto";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

let t: TestServer;
let browser: Browser;
let reader: string;
const id = "0f0f0f0f-0000-7000-8000-00000000a5e1";
const other = "0f0f0f0f-0000-7000-8000-00000000a5e2";
const secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";

async function putSession(writer: string, sid: string, title: string): Promise<void> {
  const h = { authorization: `Bearer ${writer}` };
  const put = await fetch(`${t.url}/v1/sessions/${sid}`, {
    method: "PUT",
    headers: { ...h, "content-type": "application/json" },
    body: JSON.stringify({ created_at: "2026-01-01T00:00:00.000Z", title }),
  });
  expect(put.status).toBe(200);
  const lines = [
    {
      timestamp: "2026-01-01T00:00:00.000Z",
      type: "session_meta",
      payload: { id: sid, timestamp: "2026-01-01T00:00:00.000Z", cwd: "/w", originator: "t", cli_version: "0" },
    },
    { timestamp: "2026-01-01T00:00:00.100Z", type: "event_msg", payload: { type: "task_started", turn_id: "t1" } },
    {
      timestamp: "2026-01-01T00:00:00.200Z",
      type: "response_item",
      payload: { type: "message", role: "user", content: [{ type: "input_text", text: `use the key ${secret} please <script>window.pwned=1</script>` }] },
    },
  ].map((l) => JSON.stringify(l) + "\n");
  const post = await fetch(`${t.url}/v1/sessions/${sid}/streams/rollout?expected_seq=0`, {
    method: "POST",
    headers: { ...h, "content-type": "application/x-ndjson" },
    body: lines.join(""),
  });
  expect(post.status).toBe(200);
}

beforeAll(async () => {
  t = await startTestServer();
  const writer = await t.token("acme", ["write"]);
  await putSession(writer, id, `deploy with ${secret}`);
  await putSession(writer, other, "another session");
  reader = await t.token("acme", ["read"]);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

async function loggedIn(): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${t.url}/login`);
  await page.fill("#token", reader);
  await page.click("button[type=submit]");
  await page.waitForURL(`${t.url}/`);
  return page;
}

test("a member makes a share link; it works logged out, redacted, sees nothing else, and is the same 404 after revoke", async () => {
  const member = await loggedIn();
  await member.goto(`${t.url}/sessions/${id}`);
  await member.selectOption('.share-form select[name="expiry"]', "7d");
  await member.click(".share-form button");
  await member.waitForURL(`${t.url}/sessions/${id}/share`);
  const link = (await member.locator("#new-share-link").textContent())!.trim();
  expect(link).toMatch(new RegExp(`^${t.url}/s/svs_`));
  const row = member.locator("tr.share-row");
  await expect.poll(() => row.count()).toBe(1);
  expect(await row.textContent()).toContain(id);

  // Logged out (a fresh browser context): the session, redacted, with nothing leading elsewhere.
  const stranger = await (await browser.newContext()).newPage();
  const res = await stranger.goto(link);
  expect(res?.status()).toBe(200);
  expect(res?.headers()["cache-control"]).toBe("no-store");
  const text = await stranger.locator("body").innerText();
  expect(text).toContain(id);
  expect(text).not.toContain(secret);
  expect(text).toContain("use the key [REDACTED]");
  expect(text).toContain("<script>window.pwned=1</script>");
  expect(await stranger.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  expect(await stranger.locator(".shared-banner").count()).toBe(1);
  const hrefs = await stranger.locator("a[href]").evaluateAll((as) => as.map((a) => a.getAttribute("href")!));
  expect(hrefs.filter((h) => !h.startsWith("#") && !h.startsWith("/s/"))).toEqual([]);
  expect(await stranger.locator("form").count()).toBe(0);
  // The link's secret is no login and no API token, and it opens nothing but its session.
  expect((await stranger.goto(`${t.url}/`))?.url()).toBe(`${t.url}/login`);
  const secretPart = link.split("/s/")[1]!;
  expect((await fetch(`${t.url}/v1/sessions`, { headers: { authorization: `Bearer ${secretPart}` } })).status).toBe(401);
  await stranger.goto(`${t.url}/login`);
  await stranger.fill("#token", secretPart);
  await stranger.click("button[type=submit]");
  await expect.poll(() => stranger.textContent(".error")).toContain("not valid");

  // A wrong secret, and then the revoked link, get the same 404 page.
  const wrong = await stranger.goto(`${t.url}/s/svs_${"A".repeat(43)}`);
  expect(wrong?.status()).toBe(404);
  const wrongText = await stranger.locator("main").innerText();

  await member.goto(`${t.url}/shares`);
  await member.locator("tr.share-row button").click();
  await member.waitForURL(`${t.url}/shares`);
  await expect.poll(() => member.locator("tr.share-row").count()).toBe(0);
  const revoked = await stranger.goto(link);
  expect(revoked?.status()).toBe(404);
  expect(await stranger.locator("main").innerText()).toBe(wrongText);
  await member.context().close();
  await stranger.context().close();
});

test("a share link stops at its expiry, with the same 404", async () => {
  // A link that expires in three seconds, saved as the server saves one (see ShareLinks).
  const linkSecret = `svs_${randomBytes(32).toString("base64url")}`;
  const expiresAt = Date.now() + 3000;
  await t.server.tokens.saveToken({
    id: `shr_${id}_${expiresAt}_${randomBytes(8).toString("hex")}`,
    org: "acme",
    scopes: [],
    hash: createHash("sha256").update(linkSecret).digest("hex"),
    created_at: new Date().toISOString(),
  });
  const page = await (await browser.newContext()).newPage();
  const first = (await page.goto(`${t.url}/s/${linkSecret}`))?.status();
  // The server checked the link before its answer arrived: an answer that came before the expiry must
  // be the page (on a machine so busy that the first load took longer, only the 404 below is checked).
  if (Date.now() < expiresAt) expect(first).toBe(200);
  // Waits for the expiry itself (no guess of time), then for the 404.
  await expect.poll(() => Date.now() >= expiresAt, { timeout: 60_000, interval: 100 }).toBe(true);
  expect((await page.goto(`${t.url}/s/${linkSecret}`))?.status()).toBe(404);
  expect(await page.locator("main").innerText()).toContain("does not exist, has expired or was revoked");
  await page.context().close();
});

test("a member of another org cannot list or revoke the link", async () => {
  const member = await loggedIn();
  await member.goto(`${t.url}/sessions/${other}`);
  await member.click(".share-form button");
  await member.waitForURL(/\/share$/);
  const linkId = (await member.locator("tr.share-row").first().getAttribute("data-id"))!;
  const link = (await member.locator("#new-share-link").textContent())!.trim();

  const outsider = await t.token("globex", ["admin"]);
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${t.url}/login`);
  await page.fill("#token", outsider);
  await page.click("button[type=submit]");
  await page.waitForURL(`${t.url}/`);
  await page.goto(`${t.url}/shares`);
  expect(await page.locator("tr.share-row").count()).toBe(0);
  // Their own page's form, pointed at acme's link: not found, and the link still works.
  await Promise.all([
    page.waitForURL(/\/revoke$/),
    page.evaluate((lid) => {
      const f = document.querySelector<HTMLFormElement>("form.logout")!;
      f.action = `/shares/${lid}/revoke`;
      f.submit();
    }, linkId),
  ]);
  expect(await page.locator(".error-page").count()).toBe(1);
  expect((await fetch(link)).status).toBe(200);
  // Share links are not tokens: the org admin's token page does not list them.
  const admin = await t.token("acme", ["admin"]);
  await page.goto(`${t.url}/login`);
  await page.fill("#token", admin);
  await page.click("button[type=submit]");
  await page.waitForURL(`${t.url}/`);
  await page.goto(`${t.url}/tokens`);
  expect(await page.locator(`tr.token-row[data-id^="shr_"]`).count()).toBe(0);
  expect(await page.locator("tr.token-row").count()).toBeGreaterThan(0);
  await member.context().close();
  await page.context().close();
});
