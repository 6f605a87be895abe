import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

// Every port of a host is the same *site*, so the login cookie (SameSite=Strict) goes along
// with a form that a page on 127.0.0.1:<other port> posts to the server. The server must
// refuse such posts (Origin check and CSRF token): no token created, nobody logged in.

let t: TestServer;
let attacker: Server;
let attackerUrl: string;
let adminToken: string;
let attackerToken: string;
let context: BrowserContext;
let profile: string;

/** A page of the attacker's that posts `fields` to `action` as soon as it loads. */
function autoPost(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`)
    .join("");
  return `<!doctype html><html><body><form method="post" action="${action}">${inputs}</form><script>document.forms[0].submit()</script></body></html>`;
}

beforeAll(async () => {
  t = await startTestServer();
  adminToken = await t.token("acme", ["admin"]);
  attackerToken = await t.token("evil", ["admin"]);
  const pages: Record<string, string> = {
    "/create-token": autoPost(`${t.url}/tokens`, { scope: "admin" }),
    "/login": autoPost(`${t.url}/login`, { token: attackerToken }),
    "/logout": autoPost(`${t.url}/logout`, {}),
  };
  attacker = createServer((req, res) => {
    const page = pages[req.url ?? ""];
    res.writeHead(page ? 200 : 404, { "content-type": "text/html; charset=utf-8" }).end(page ?? "");
  });
  await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as { port: number }).port}`;
  profile = await mkdtemp(join(tmpdir(), "sv-chromium-csrf-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

afterAll(async () => {
  await context?.close();
  await new Promise((resolve) => attacker?.close(resolve));
  await t?.stop();
  if (profile) await rm(profile, { recursive: true, force: true });
});

async function login(page: Page, token: string): Promise<void> {
  await page.goto(`${t.url}/login`);
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForURL(`${t.url}/`);
}

/** Opens the attacker's page and waits for the answer to the POST it makes to our server. */
async function attack(page: Page, path: string, target: string): Promise<{ status: number; body: string }> {
  const answer = page.waitForResponse((r) => r.url() === `${t.url}${target}` && r.request().method() === "POST");
  await page.goto(`${attackerUrl}${path}`);
  const res = await answer;
  return { status: res.status(), body: await res.text() };
}

async function orgTokenCount(org: string): Promise<number> {
  return (await t.server.tokens.listTokens()).filter((r) => r.org === org).length;
}

describe("cross-site forms posted to the web UI from another port of the same host", () => {
  test("a logged-in admin's browser posting scope=admin to /tokens creates no token", async () => {
    const page = await context.newPage();
    try {
      await login(page, adminToken);
      const before = await orgTokenCount("acme");
      const res = await attack(page, "/create-token", "/tokens");
      expect(res.status).toBe(403);
      expect(res.body).toContain("cross-site request refused");
      expect(res.body).not.toMatch(/sv_[A-Za-z0-9_-]{20,}/);
      expect(await orgTokenCount("acme")).toBe(before);
      // The same browser, on the server's own page, still creates one: the form carries its token.
      await page.goto(`${t.url}/tokens`);
      await page.selectOption("select[name=scope]", "read");
      await page.click(".create-token button[type=submit]");
      await expect.poll(() => page.locator("#new-token").count()).toBe(1);
      expect(await orgTokenCount("acme")).toBe(before + 1);
    } finally {
      await page.close();
    }
  });

  test("a cross-site POST /logout does not end the login", async () => {
    const page = await context.newPage();
    try {
      await login(page, adminToken);
      expect((await attack(page, "/logout", "/logout")).status).toBe(403);
      await page.goto(`${t.url}/`);
      expect(new URL(page.url()).pathname).toBe("/");
      expect(await page.locator(".org").textContent()).toBe("acme");
    } finally {
      await page.close();
    }
  });

  test("a cross-site POST /login does not log the victim into the attacker's org", async () => {
    await context.clearCookies();
    const page = await context.newPage();
    try {
      // The victim has seen the login form before (holds a CSRF cookie): still refused.
      await page.goto(`${t.url}/login`);
      const res = await attack(page, "/login", "/login");
      expect(res.status).toBe(403);
      expect((await context.cookies()).some((c) => c.name === "sv_session")).toBe(false);
      await page.goto(`${t.url}/`);
      expect(new URL(page.url()).pathname).toBe("/login");
    } finally {
      await page.close();
    }
  });

  test("a POST without the form's CSRF token is refused even from no origin at all (curl)", async () => {
    const res = await fetch(`${t.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: attackerToken }).toString(),
    });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie().some((c) => c.startsWith("sv_session="))).toBe(false);
  });

  test("behind a proxy that rewrites Host, the browser's host in X-Forwarded-Host is this origin; any other is refused", async () => {
    const form = await fetch(`${t.url}/login`);
    const cookie = form.headers
      .getSetCookie()
      .map((c) => c.split(";")[0]!)
      .join("; ");
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const post = (origin: string) =>
      fetch(`${t.url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie, origin, "x-forwarded-host": "archive.example.com" },
        body: new URLSearchParams({ token: adminToken, _csrf: csrf }).toString(),
      });
    expect((await post("https://evil.example.com")).status).toBe(403);
    expect((await post(attackerUrl)).status).toBe(403);
    expect((await post("https://archive.example.com")).status).toBe(303);
  });
});
