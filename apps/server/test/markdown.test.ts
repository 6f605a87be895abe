import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

let t: TestServer;
let browser: Browser;
const id = "0f0f0f0f-0000-7000-8000-00000000b0d1";
const hostile = [
  "Done: **all tests pass** and `pnpm build` works.",
  "",
  "- [x] step one",
  "- see [the docs](https://example.com/docs)",
  "",
  "[click me](javascript:window.pwned=1) [data](data:text/html,<script>window.pwned=2</script>)",
  '<img src=x onerror="window.pwned=3"> <script>window.pwned=4</script> <a href="#" onclick="window.pwned=5">raw link</a>',
  '<iframe src="https://example.com"></iframe>',
  "\u001b[31mred text\u001b[0m",
  "",
  "```js",
  "console.log('<b>not bold</b>')",
  "```",
].join("\n");

beforeAll(async () => {
  t = await startTestServer();
  const writer = await t.token("acme", ["write"]);
  const h = { authorization: `Bearer ${writer}` };
  await fetch(`${t.url}/v1/sessions/${id}`, {
    method: "PUT",
    headers: { ...h, "content-type": "application/json" },
    body: JSON.stringify({ created_at: "2026-01-01T00:00:00.000Z", title: "markdown" }),
  });
  const lines = [
    {
      timestamp: "2026-01-01T00:00:00.000Z",
      type: "session_meta",
      payload: { id, timestamp: "2026-01-01T00:00:00.000Z", cwd: "/w", originator: "t", cli_version: "0" },
    },
    { timestamp: "2026-01-01T00:00:00.100Z", type: "event_msg", payload: { type: "task_started", turn_id: "t1" } },
    {
      timestamp: "2026-01-01T00:00:00.200Z",
      type: "response_item",
      payload: { type: "message", role: "user", content: [{ type: "input_text", text: "**not rendered**" }] },
    },
    {
      timestamp: "2026-01-01T00:00:01.000Z",
      type: "response_item",
      payload: { type: "message", role: "assistant", content: [{ type: "output_text", text: hostile }] },
    },
  ].map((l) => JSON.stringify(l) + "\n");
  expect(
    (
      await fetch(`${t.url}/v1/sessions/${id}/streams/rollout?expected_seq=0`, {
        method: "POST",
        headers: { ...h, "content-type": "application/x-ndjson" },
        body: lines.join(""),
      })
    ).status,
  ).toBe(200);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
});

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

test("an agent's Markdown renders, and hostile HTML, links and escapes in it stay inert", async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${t.url}/login`);
  await page.fill("#token", await t.token("acme", ["read"]));
  await page.click("button[type=submit]");
  await page.waitForURL(`${t.url}/`);
  await page.goto(`${t.url}/sessions/${id}`);
  const md = page.locator(".msg.agent .markdown");
  expect(await md.locator("strong").innerText()).toBe("all tests pass");
  expect(await md.locator("li input[type=checkbox][checked]").count()).toBe(1);
  expect(await md.locator('a[href="https://example.com/docs"]').getAttribute("rel")).toContain("noreferrer");
  expect(await md.locator("pre code").innerText()).toContain("console.log('<b>not bold</b>')");
  // What must not run or lead anywhere.
  const hrefs = await md.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""));
  expect(hrefs.filter((h) => /^\s*(javascript|data|vbscript):/i.test(h))).toEqual([]);
  expect(hrefs).toContain("https://example.com/docs");
  expect(await md.locator("img, script, iframe, [onerror], [onclick]").count()).toBe(0);
  await md.locator("a", { hasText: "click me" }).click();
  await md.locator("a", { hasText: "raw link" }).click();
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  expect(await md.innerText()).toContain("<script>window.pwned=4</script>");
  expect(await md.innerText()).toContain("red text");
  // The user's own text is shown as typed, not rendered.
  expect(await page.locator(".msg.user .text").innerText()).toBe("**not rendered**");
  await page.context().close();
});
