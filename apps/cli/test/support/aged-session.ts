import { randomUUID } from "node:crypto";
import { DAY_MS, type SessionInput, type SessionStore } from "@sessionvault/core";

/** A session last active `ageDays` ago, with a one-line rollout (a Codex head, so a Codex home lists it too) and a raw-api line: what prune judges and expires. */
export async function seedAgedSession(store: SessionStore, ageDays: number): Promise<string> {
  const at = new Date(Date.now() - ageDays * DAY_MS).toISOString();
  const input: SessionInput = {
    id: randomUUID(),
    created_at: at,
    updated_at: at,
    cwd: "/w",
    title: `${ageDays} days old`,
    archived: false,
    source: "cli",
    originator: "t",
    cli_version: "0.169.0",
    model_provider: null,
    git: null,
    parent_id: null,
    forked_from_id: null,
  };
  await store.putSession(input);
  await store.append(input.id, "rollout", 0, [JSON.stringify({ timestamp: at, type: "session_meta", payload: { id: input.id, timestamp: at, cwd: "/w" } })]);
  await store.append(input.id, "raw-api", 0, ['{"direction":"response","status":200}']);
  return input.id;
}
