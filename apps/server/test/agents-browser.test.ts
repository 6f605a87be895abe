import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext } from "playwright-core";
import { checkedStore, syncStores } from "@sessionvault/core";
import { fromUrl } from "@sessionvault/fs-store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

/**
 * In headless Chromium: the web UI over an archive that holds Codex, Claude
 * Code and Gemini CLI sessions (synced from the homes their real CLIs wrote)
 * filters the list by the agent facet and shows a stored Claude Code or
 * Gemini CLI session's commands, with their exit codes, in its timeline.
 */
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const HOMES = { codex: "fixtures/codex/0.169.0", "claude-code": "fixtures/claude-code/2.1.332", "gemini-cli": "fixtures/gemini-cli/0.61.0/gemini" } as const;

let t: TestServer;
let token: string;
let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  t = await startTestServer();
  for (const home of Object.values(HOMES)) {
    const from = checkedStore(fromUrl(new URL(`file://${join(REPO, home)}`)));
    try {
      expect((await syncStores(from, t.server.orgStore("acme"))).errors).toEqual([]);
    } finally {
      await from.close();
    }
  }
  token = await t.token("acme", ["read"]);
  profile = await mkdtemp(join(tmpdir(), "sv-chromium-agents-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  await page.goto(`${t.url}/login`);
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForURL(`${t.url}/`);
  await page.close();
}, 120_000);

afterAll(async () => {
  await context?.close();
  await t?.stop();
  if (profile) await rm(profile, { recursive: true, force: true });
});

describe.each(["claude-code", "gemini-cli"] as const)("stored %s sessions in the web UI", (agent) => {
  it("the agent facet lists only them, and the failing run's page shows its commands with their exit codes", async () => {
    const page = await context.newPage();
    try {
      await page.goto(`${t.url}/`);
      await page.click(`.facet[data-facet="agent"] a.facet-value[data-value="${agent}"]`);
      await expect.poll(() => new URL(page.url()).searchParams.get("agent")).toBe(agent);
      const agents = await page.locator("tr.session-row td.agent").allTextContents();
      expect(agents.length).toBeGreaterThan(5);
      expect(new Set(agents.map((a) => a.trim()))).toEqual(new Set([agent]));
      await page.locator("tr.session-row .title a", { hasText: "Run the checks" }).first().click();
      await page.waitForURL(/\/sessions\//);
      const failing = page.locator(".item.command", { hasText: "ls does-not-exist; exit 3" });
      await expect.poll(() => failing.count()).toBeGreaterThan(0);
      expect(await failing.first().locator(".exit").textContent()).toBe("exit 3");
      expect(await page.locator(".item.command", { hasText: "exit 42" }).first().locator(".exit").textContent()).toBe("exit 42");
    } finally {
      await page.close();
    }
  });
});
