import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AgentHomeStore, type AgentHomeKind } from "../src/agent-home-store.js";

/**
 * `sync --watch` opens an agent home afresh for each session that changed and
 * asks for that session alone; the store then looks in the session's project
 * only. Over every fixture home the real CLIs wrote, that answer must be the
 * one a store that listed the whole home gives.
 */
const FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
const homes: { agent: AgentHomeKind; version: string; dir: string }[] = [
  ...readdirSync(join(FIXTURES, "claude-code")).map((v) => ({ agent: "claude-code" as const, version: v, dir: join(FIXTURES, "claude-code", v) })),
  ...readdirSync(join(FIXTURES, "gemini-cli")).map((v) => ({ agent: "gemini-cli" as const, version: v, dir: join(FIXTURES, "gemini-cli", v, "gemini") })),
];

describe.each(homes)("$agent $version: one session looked up without a listing", ({ agent, dir }) => {
  it("is the session, streams, facts and bytes the listing gives", async () => {
    const listed = new AgentHomeStore(agent, dir);
    const page = await listed.listSessions({ limit: 1000 });
    expect(page.sessions.length).toBeGreaterThan(0);
    for (const s of page.sessions) {
      const fresh = new AgentHomeStore(agent, dir);
      expect(await fresh.getSession(s.id), s.id).toEqual(await listed.getSession(s.id));
      const again = new AgentHomeStore(agent, dir);
      expect(await again.streamPositions(s.id)).toEqual(await listed.streamPositions(s.id));
      for (const st of await again.streamPositions(s.id)) {
        const a: string[] = [];
        const b: string[] = [];
        for await (const l of again.readStream(s.id, st.name)) a.push(l);
        for await (const l of listed.readStream(s.id, st.name)) b.push(l);
        expect(a).toEqual(b);
      }
      expect(await new AgentHomeStore(agent, dir).agentReading(s.id)).toEqual(await listed.agentReading(s.id));
    }
  });
});
