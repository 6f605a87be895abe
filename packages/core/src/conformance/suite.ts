import { randomBytes } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { appendLines } from "../append.js";
import { AmbiguousIdError, ConflictError, InvalidFieldError, InvalidIdError, InvalidInputError, LegalHoldError, NotFoundError } from "../errors.js";
import type { SessionInput, SessionSummary } from "../session.js";
import type { SessionStore } from "../store.js";
import { checkedStore, MAX_LIST_LIMIT, type CheckedStore } from "../checked-store.js";
import { runRetention } from "../run-retention.js";
import { isRetentionStore } from "../store-capabilities.js";
import { DAY_MS, type RetentionReport } from "../retention.js";
import { agentMessageLines, sessionHeadLines } from "../codex/session-lines.js";
import { readSessionFacts } from "../agents/agent-readers.js";

export { agentMessageLines, sessionHeadLines, sessionMetaLine, userMessageLines } from "../codex/session-lines.js";
export { runRetentionConformance, type RetentionConformanceContext, type RetentionConformanceStore } from "./retention-suite.js";
export { runTokenConformance, type TokenConformanceContext, type TokenConformanceStore } from "./token-suite.js";

/**
 * The store conformance suite (DESIGN.md §6): the same cases against every
 * `SessionStore`. A store's test file calls
 * `runStoreConformance("fs-store", { open, cleanup })` at top level.
 *
 * How the suite creates a session — the contract every writer follows and
 * every store must accept: `putSession(input)` first, then the rollout's
 * head is appended at position 0: a `session_meta` line built from `input`
 * (line 0) followed by a real user message whose text is `input.title`
 * (see `sessionHeadLines`). Stores that derive the summary from the rollout
 * (fs-store reads the head like Codex does) and stores that keep the
 * `putSession` fields (pg, s3) must therefore report the same summary.
 * `updated_at` is the timestamp of the last committed rollout line; the
 * retention cases rely on it (old sessions carry old line timestamps), not
 * on when the store physically wrote them.
 */
export interface ConformanceContext {
  /** A new, empty store isolated from every other `open()` (fresh dir, schema or prefix). Called once per case. */
  open(): Promise<SessionStore>;
  /** Runs once after every case of the suite (stores were already closed). */
  cleanup?(): Promise<void>;
  /** Ignored: every store answers `ListQuery.q` (its own index, or core's scan); see `StoreCapabilities.textSearch`. */
  supportsSearch?: boolean;
}

const MINUTE = 60_000;

function hex(n: number): string {
  return randomBytes(Math.ceil(n / 2))
    .toString("hex")
    .slice(0, n);
}

/** A UUID-shaped session id, optionally with a chosen first 8 hex characters. */
export function conformanceId(prefix8: string = hex(8)): string {
  return `${prefix8}-${hex(4)}-7${hex(3)}-8${hex(3)}-${hex(12)}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function sessionInput(overrides: Partial<SessionInput> = {}): SessionInput {
  const id = overrides.id ?? conformanceId();
  return {
    id,
    created_at: iso(Date.parse("2026-03-01T10:00:00.000Z")),
    cwd: "/home/dev/project",
    title: "Fix the flaky integration test",
    archived: false,
    source: "exec",
    originator: "codex_exec",
    cli_version: "0.98.0",
    model_provider: "openai",
    git: { commit_hash: "3f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39", branch: "main", repository_url: "https://github.com/example/project.git" },
    parent_id: null,
    forked_from_id: null,
    ...overrides,
  };
}

/** putSession, then the Codex head (session_meta + first user message) as rollout lines 0..2. */
async function createSession(
  store: SessionStore,
  overrides: Partial<SessionInput> = {},
): Promise<{ input: SessionInput; summary: SessionSummary; head: string[] }> {
  const input = sessionInput(overrides);
  const summary = await store.putSession(input);
  const head = sessionHeadLines(input);
  const res = await store.append(input.id, "rollout", 0, head);
  expect(res.seq).toBe(head.length);
  return { input, summary, head };
}

/** A Codex turn after the head: it starts, names its model, reports tokens, answers and completes. */
function turnLines(at: string): string[] {
  const t0 = Date.parse(at);
  const ts = (ms: number) => iso(t0 + ms);
  return [
    JSON.stringify({ timestamp: ts(1000), type: "event_msg", payload: { type: "task_started", turn_id: "turn-1", model_context_window: 272000 } }),
    JSON.stringify({
      timestamp: ts(1100),
      type: "turn_context",
      payload: {
        turn_id: "turn-1",
        cwd: "/home/dev/project",
        approval_policy: "never",
        sandbox_policy: { type: "read-only" },
        model: "gpt-5.1-codex",
        summary: "auto",
      },
    }),
    JSON.stringify({
      timestamp: ts(5000),
      type: "event_msg",
      payload: {
        type: "token_count",
        info: { total_token_usage: { input_tokens: 1200, cached_input_tokens: 800, output_tokens: 90, reasoning_output_tokens: 40, total_tokens: 1290 } },
      },
    }),
    ...agentMessageLines("Done: the test waits on the server's ready line now.", ts(6000)),
    JSON.stringify({ timestamp: ts(6500), type: "event_msg", payload: { type: "task_complete", turn_id: "turn-1", last_agent_message: "Done." } }),
  ];
}

/** A short Claude Code transcript of session `id` (the record shapes of 2.1.x): a prompt and a two-block answer. */
export function claudeCodeLines(id: string, at: string, prompt: string): string[] {
  const t0 = Date.parse(at);
  const base = { isSidechain: false, userType: "external", cwd: "/home/dev/project", sessionId: id, version: "2.1.112", gitBranch: "main" };
  const usage = { input_tokens: 30, cache_read_input_tokens: 0, output_tokens: 12 };
  const answer = (uuid: string, parentUuid: string, ms: number, content: unknown[]) =>
    JSON.stringify({
      parentUuid,
      ...base,
      message: { id: "msg_01", type: "message", role: "assistant", model: "claude-sonnet-4-6", content, stop_reason: "end_turn", usage },
      type: "assistant",
      uuid,
      timestamp: iso(t0 + ms),
    });
  return [
    JSON.stringify({ parentUuid: null, ...base, type: "user", message: { role: "user", content: prompt }, uuid: `${id.slice(0, 8)}-u1`, timestamp: iso(t0) }),
    answer(`${id.slice(0, 8)}-a1`, `${id.slice(0, 8)}-u1`, 800, [{ type: "thinking", thinking: "A simple question.", signature: "c2ln" }]),
    answer(`${id.slice(0, 8)}-a2`, `${id.slice(0, 8)}-a1`, 900, [{ type: "text", text: "Paris." }]),
  ];
}

/** A short Gemini CLI chat (the JSONL of 0.5x on) of session `id`: its header, a prompt and an answer. */
export function geminiCliLines(id: string, at: string, prompt: string): string[] {
  const t0 = Date.parse(at);
  return [
    JSON.stringify({ sessionId: id, projectHash: "a32c056f", startTime: iso(t0), lastUpdated: iso(t0), kind: "main" }),
    JSON.stringify({ id: "m-1", timestamp: iso(t0 + 100), type: "user", content: [{ text: prompt }] }),
    JSON.stringify({ $set: { lastUpdated: iso(t0 + 100) } }),
    JSON.stringify({
      id: "m-2",
      timestamp: iso(t0 + 900),
      type: "gemini",
      content: "Paris.",
      model: "gemini-3.8-flash",
      tokens: { input: 40, output: 3, cached: 0, thoughts: 0, tool: 0, total: 43 },
    }),
    JSON.stringify({ $set: { lastUpdated: iso(t0 + 900) } }),
  ];
}

async function* each<T>(xs: readonly T[]): AsyncGenerator<T> {
  yield* xs;
}

async function readAll(store: SessionStore, id: string, stream: string, fromSeq?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const line of store.readStream(id, stream, fromSeq === undefined ? undefined : { fromSeq })) out.push(line);
  return out;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

function bytesOf(lines: readonly string[]): number {
  return lines.reduce((n, l) => n + Buffer.byteLength(l, "utf8") + 1, 0);
}

async function listAll(store: SessionStore, archived: "active" | "archived" | "all" = "all"): Promise<SessionSummary[]> {
  const all: SessionSummary[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const res = await store.listSessions({ limit: 50, cursor, archived });
    all.push(...res.sessions);
    cursor = res.next_cursor;
    if (cursor === null) return all;
  }
  throw new Error("listSessions never returned next_cursor = null");
}

async function expectRejects<E extends Error>(p: Promise<unknown> | (() => Promise<unknown>), type: new (...args: never[]) => E): Promise<E> {
  let caught: unknown;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected a ${type.name}`).toBeInstanceOf(type);
  return caught as E;
}

/** `prune --older-than` as every store runs it: core's retention, no grace (purged in the same run). */
function prune(store: CheckedStore, olderThan: Date, options: { dryRun?: boolean; actor?: string; graceMs?: number } = {}): Promise<RetentionReport> {
  const now = new Date();
  return runRetention(
    store,
    { name: "conformance", defaultTtlMs: Math.max(0, now.getTime() - olderThan.getTime()), graceMs: options.graceMs ?? 0 },
    {
      now,
      ...(options.dryRun !== undefined ? { dryRun: options.dryRun } : {}),
      ...(options.actor !== undefined ? { actor: options.actor } : {}),
    },
  );
}

/** A test double without retention (the in-memory store of core's own tests) skips the prune cases; every real store runs them. */
function skipWithoutRetention(t: { skip(note?: string): void }, store: CheckedStore): void {
  if (!store.capabilities.retention && !store.capabilities.remoteRetention) t.skip("the store has no retention");
}

const BAD_IDS = ["../etc", "abc/def", "..", "../../../../etc/passwd", "01a1fd77/../../x", "01a1fd77-..-x", ""];
const BAD_STREAMS = ["../x", "a/b", "..", "", "Rollout", "x\u0000y"];

export function runStoreConformance(name: string, context: ConformanceContext): void {
  describe(`${name} — SessionStore conformance`, () => {
    const opened: SessionStore[] = [];
    // Every store is opened through core's checked layer, as the apps open them.
    const open = async (): Promise<CheckedStore> => {
      const store = checkedStore(await context.open());
      opened.push(store);
      return store;
    };

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });
    afterAll(async () => {
      await context.cleanup?.();
    });

    describe("sessions", () => {
      it("putSession then getSession returns the summary", async () => {
        const store = await open();
        const { input, summary, head } = await createSession(store);
        expect(summary.id).toBe(input.id);
        expect(summary.created_at).toBe(input.created_at);

        const got = await store.getSession(input.id);
        expect(got).toMatchObject({
          id: input.id,
          created_at: input.created_at,
          cwd: input.cwd,
          title: input.title,
          archived: false,
          source: input.source,
          originator: input.originator,
          cli_version: input.cli_version,
          model_provider: input.model_provider,
          git: input.git,
          parent_id: null,
          forked_from_id: null,
          lines: head.length,
          bytes: bytesOf(head),
          legal_hold: false,
        });
        expect(Date.parse(got.updated_at)).toBeGreaterThanOrEqual(Date.parse(input.created_at));
        expect(got.streams.find((s) => s.name === "rollout")).toEqual({ name: "rollout", lines: head.length, bytes: bytesOf(head) });
      });

      it("facts put with a session (those of its rollout) come back from getSession and listSessions, and a put without facts keeps them", async () => {
        const store = await open();
        const input = sessionInput();
        const lines = [...sessionHeadLines(input), ...turnLines(input.created_at)];
        const facts = await readSessionFacts(each(lines), "codex");
        // A rollout with a model, tokens and a finished turn: facts a store could drop or garble field by field.
        expect(facts).toMatchObject({ agent: "codex", model: "gpt-5.1-codex", outcome: "completed" });
        expect(facts.turns).toBeGreaterThan(0);
        expect(facts.tokens).not.toBeNull();
        expect(facts.duration_ms).toBeGreaterThan(0);
        await store.putSession({ ...input, facts });
        await store.append(input.id, "rollout", 0, lines);
        expect((await store.getSession(input.id)).facts).toEqual(facts);
        expect((await listAll(store)).find((s) => s.id === input.id)?.facts).toEqual(facts);
        await store.putSession(input);
        expect((await store.getSession(input.id)).facts).toEqual(facts);
      });

      it("keeps the agent that wrote each session (missing is codex, an unknown one an InvalidFieldError) and lists by agent", async () => {
        const store = await open();
        const codex = await createSession(store, { title: "A Codex session" });
        const stored: Record<string, { id: string; lines: string[] }> = {};
        for (const [agent, make] of [
          ["claude-code", claudeCodeLines],
          ["gemini-cli", geminiCliLines],
        ] as const) {
          const input = sessionInput({ agent, title: `A ${agent} session`, source: null, originator: null, model_provider: null });
          const lines = make(input.id, input.created_at, "What is the capital of France?");
          const facts = await readSessionFacts(each(lines), agent);
          expect(facts).toMatchObject({ agent, turns: 1 });
          expect(facts.model).not.toBeNull();
          const put = await store.putSession({ ...input, facts });
          expect(put.agent).toBe(agent);
          await store.append(input.id, "rollout", 0, lines);
          const got = await store.getSession(input.id);
          expect(got).toMatchObject({ id: input.id, agent, title: input.title, cwd: input.cwd, lines: lines.length, bytes: bytesOf(lines) });
          expect(got.facts).toEqual(facts);
          // The time of its last timed record, the same on every store (retention judges by it).
          expect(got.updated_at, agent).toBe(iso(Date.parse(input.created_at) + 900));
          expect(await readAll(store, input.id, "rollout")).toEqual(lines);
          stored[agent] = { id: input.id, lines };
        }
        expect((await store.getSession(codex.input.id)).agent).toBe("codex");

        const all = await listAll(store);
        expect(Object.fromEntries(all.map((s) => [s.id, s.agent]))).toEqual({
          [codex.input.id]: "codex",
          [stored["claude-code"]!.id]: "claude-code",
          [stored["gemini-cli"]!.id]: "gemini-cli",
        });
        for (const agent of ["codex", "claude-code", "gemini-cli"] as const) {
          const page = await store.listSessions({ agent, archived: "all" });
          expect(
            page.sessions.map((s) => s.id),
            agent,
          ).toEqual([agent === "codex" ? codex.input.id : stored[agent]!.id]);
        }
        // A filter combines with the others: the Claude Code session is in this cwd, not in another.
        expect((await store.listSessions({ agent: "claude-code", cwd: "/home/dev/project" })).sessions).toHaveLength(1);
        expect((await store.listSessions({ agent: "claude-code", cwd: "/elsewhere" })).sessions).toHaveLength(0);

        const bad = conformanceId();
        const err = await expectRejects(store.putSession(sessionInput({ id: bad, agent: "cursor" as never })), InvalidFieldError);
        expect(err.field).toBe("agent");
        await expectRejects(store.getSession(bad), NotFoundError);
        await expectRejects(store.listSessions({ agent: "cursor" as never }), InvalidFieldError);
      });

      it("reports sub-agent parents and fork origins", async () => {
        const store = await open();
        const parent = conformanceId();
        const origin = conformanceId();
        const sub = await createSession(store, { source: "subagent", parent_id: parent, title: "Review the patch" });
        const fork = await createSession(store, { forked_from_id: origin, parent_id: origin, title: "Try another approach" });

        const gotSub = await store.getSession(sub.input.id);
        expect(gotSub.parent_id).toBe(parent);
        expect(gotSub.forked_from_id).toBeNull();
        expect(gotSub.source).toBe("subagent");
        const gotFork = await store.getSession(fork.input.id);
        expect(gotFork.forked_from_id).toBe(origin);
        expect(gotFork.parent_id).toBe(origin);
      });

      it("normalises a summary the same way on every store: missing fields null, times ISO-8601 UTC with ms, git with its three keys", async () => {
        const store = await open();
        const id = conformanceId();
        const loose = {
          id,
          created_at: "2026-03-01T12:00:00+02:00",
          cwd: "/w",
          title: "normalise me",
          archived: false,
          source: "cli",
          originator: "codex_cli_rs",
          cli_version: "0.98.0",
          git: { branch: "main" },
        } as unknown as SessionInput;
        await store.putSession(loose);
        await store.append(
          id,
          "rollout",
          0,
          sessionHeadLines({
            ...loose,
            model_provider: null,
            parent_id: null,
            forked_from_id: null,
            git: { commit_hash: null, branch: "main", repository_url: null },
          }),
        );
        const got = await store.getSession(id);
        expect(got).toMatchObject({
          created_at: "2026-03-01T10:00:00.000Z",
          model_provider: null,
          parent_id: null,
          forked_from_id: null,
          git: { commit_hash: null, branch: "main", repository_url: null },
        });
        expect((await store.listSessions({})).sessions[0]).toMatchObject({
          created_at: "2026-03-01T10:00:00.000Z",
          git: { commit_hash: null, branch: "main", repository_url: null },
        });
        await expectRejects(store.putSession({ ...loose, id: conformanceId(), created_at: "yesterday" }), InvalidInputError);
        await expectRejects(store.putSession({ ...loose, id: conformanceId(), cwd: 42 } as unknown as SessionInput), InvalidInputError);
      });

      it("updated_at of the same rollout is the same everywhere: its last timestamped line, not what putSession claimed", async () => {
        const store = await open();
        const created = Date.parse("2026-02-01T08:00:00.000Z");
        const s = await createSession(store, { created_at: iso(created), updated_at: iso(created + DAY_MS) });
        expect((await store.getSession(s.input.id)).updated_at).toBe(iso(created));
        const later = iso(created + 3 * MINUTE);
        await store.append(s.input.id, "rollout", s.head.length, [...agentMessageLines("done", later), '{"record_type":"state"}']);
        const got = await store.getSession(s.input.id);
        expect(got.updated_at).toBe(later);
        expect((await store.listSessions({})).sessions[0]!.updated_at).toBe(later);
        // Other streams do not move it.
        await store.append(s.input.id, "debug-log", 0, [`${iso(created + DAY_MS)} INFO later`]);
        expect((await store.getSession(s.input.id)).updated_at).toBe(later);
      });

      it("putSession is idempotent: a second call neither duplicates the session nor touches its streams", async () => {
        const store = await open();
        const { input, head } = await createSession(store);
        await store.putSession(input);
        const listed = await listAll(store);
        expect(listed.map((s) => s.id)).toEqual([input.id]);
        expect(await readAll(store, input.id, "rollout")).toEqual(head);
      });

      it("gets a session by a unique prefix", async () => {
        const store = await open();
        const a = await createSession(store, { id: conformanceId("0aaaaaaa") });
        const b = await createSession(store, { id: conformanceId("0bbbbbbb") });
        expect((await store.getSession(a.input.id.slice(0, 8))).id).toBe(a.input.id);
        expect((await store.getSession(b.input.id.slice(0, 13))).id).toBe(b.input.id);
        expect((await store.getSession(b.input.id)).id).toBe(b.input.id);
      });

      it("an ambiguous prefix is an AmbiguousIdError naming the candidates", async () => {
        const store = await open();
        const a = await createSession(store, { id: conformanceId("0ccccccc") });
        const b = await createSession(store, { id: conformanceId("0ccccccc") });
        const err = await expectRejects(store.getSession("0ccccccc"), AmbiguousIdError);
        expect([...err.candidates].sort()).toEqual([a.input.id, b.input.id].sort());
        // A longer prefix that tells them apart works.
        expect((await store.getSession(a.input.id.slice(0, 18))).id).toBe(a.input.id);
      });

      it("an unknown id or prefix is a NotFoundError", async () => {
        const store = await open();
        await createSession(store, { id: conformanceId("0ddddddd") });
        await expectRejects(store.getSession(conformanceId("0eeeeeee")), NotFoundError);
        await expectRejects(store.getSession("0fffffff"), NotFoundError);
        await expectRejects(store.getSession(conformanceId("0ddddddd")), NotFoundError);
      });

      it("ids that are paths are an InvalidIdError everywhere, and nothing is created", async () => {
        const store = await open();
        for (const bad of BAD_IDS) {
          await expectRejects(store.getSession(bad), InvalidIdError);
          await expectRejects(store.putSession(sessionInput({ id: bad })), InvalidIdError);
          await expectRejects(store.append(bad, "rollout", 0, ['{"x":1}']), InvalidIdError);
          await expectRejects(() => readAll(store, bad, "rollout"), InvalidIdError);
          await expectRejects(store.streamPositions(bad), InvalidIdError);
          await expectRejects(store.deleteSession(bad), InvalidIdError);
          await expectRejects(store.setLegalHold(bad, true), InvalidIdError);
        }
        expect(await listAll(store)).toEqual([]);
      });
    });

    describe("streams", () => {
      it("appends at 0 and then at N", async () => {
        const store = await open();
        const { input, head } = await createSession(store);
        expect(await store.append(input.id, "debug-log", 0, ["start", "loading config"])).toEqual({ seq: 2 });
        expect(await store.append(input.id, "debug-log", 2, ["ready"])).toEqual({ seq: 3 });
        expect(await readAll(store, input.id, "debug-log")).toEqual(["start", "loading config", "ready"]);

        const reply = agentMessageLines("Done.", input.created_at);
        expect(await store.append(input.id, "rollout", head.length, reply)).toEqual({ seq: head.length + reply.length });
        expect(await readAll(store, input.id, "rollout")).toEqual([...head, ...reply]);
        expect((await store.getSession(input.id)).lines).toBe(head.length + reply.length);
      });

      it("an append at the wrong position is a ConflictError carrying the current position, and changes nothing", async () => {
        const store = await open();
        const { input, head } = await createSession(store);
        const behind = await expectRejects(store.append(input.id, "rollout", 0, ['{"late":true}']), ConflictError);
        expect(behind.currentSeq).toBe(head.length);
        const ahead = await expectRejects(store.append(input.id, "rollout", head.length + 4, ['{"early":true}']), ConflictError);
        expect(ahead.currentSeq).toBe(head.length);
        const fresh = await expectRejects(store.append(input.id, "debug-log", 1, ["x"]), ConflictError);
        expect(fresh.currentSeq).toBe(0);
        expect(await readAll(store, input.id, "rollout")).toEqual(head);
        expect(await readAll(store, input.id, "debug-log")).toEqual([]);
      });

      it("two concurrent appends at the same position: exactly one wins and only its lines are stored", async () => {
        const store = await open();
        const { input } = await createSession(store);
        const expected: string[] = [];
        for (let round = 0; round < 5; round++) {
          const a = [`round ${round} writer A line 1`, `round ${round} writer A line 2`];
          const b = [`round ${round} writer B line 1`, `round ${round} writer B line 2`, `round ${round} writer B line 3`];
          const results = await Promise.allSettled([
            store.append(input.id, "debug-log", expected.length, a),
            store.append(input.id, "debug-log", expected.length, b),
          ]);
          const won = results.filter((r) => r.status === "fulfilled");
          const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(1);
          expect(lost[0]!.reason).toBeInstanceOf(ConflictError);
          const winner = results[0]!.status === "fulfilled" ? a : b;
          expected.push(...winner);
          expect((won[0] as PromiseFulfilledResult<{ seq: number }>).value.seq).toBe(expected.length);
          expect(await readAll(store, input.id, "debug-log")).toEqual(expected);
        }
      });

      it("a retried append through appendLines after a success does not duplicate", async () => {
        const store = await open();
        const { input, head } = await createSession(store);
        const batch = agentMessageLines("The tests pass now.", input.created_at);
        await store.append(input.id, "rollout", head.length, batch);
        // The first attempt landed but its acknowledgement was "lost": the writer retries at the same position.
        expect(await appendLines(store, input.id, "rollout", head.length, batch)).toEqual({ seq: head.length + batch.length });
        expect(await readAll(store, input.id, "rollout")).toEqual([...head, ...batch]);
        // Different lines at an old position are a real conflict.
        await expectRejects(appendLines(store, input.id, "rollout", head.length, ['{"other":1}', '{"other":2}']), ConflictError);
        expect(await readAll(store, input.id, "rollout")).toEqual([...head, ...batch]);
      });

      it("reads streams back byte-exact, tricky lines included", async () => {
        const store = await open();
        const { input, head } = await createSession(store);
        const ts = input.created_at;
        const big = "iVBORw0KGgo" + "A".repeat(1024 * 1024);
        const rollout = [
          JSON.stringify({ timestamp: ts, type: "event_msg", payload: { type: "agent_message", message: "Grüße aus 東京 — עברית, Ελληνικά" } }),
          JSON.stringify({ timestamp: ts, type: "event_msg", payload: { type: "agent_message", message: "emoji 👩‍💻🚀🇫🇷 and \u2028 separators" } }),
          JSON.stringify({
            timestamp: ts,
            type: "response_item",
            payload: { type: "function_call", name: "shell", arguments: '{"command":["dir","C:\\\\Users\\\\dev"]}', call_id: "call_1" },
          }),
          '{"timestamp":"' +
            ts +
            '","type":"event_msg","payload":{"type":"agent_message","message":"escaped \\n newline, \\t tab, \\u00e9 and \\\\ backslash"}}',
          '{ "timestamp" : "' + ts + '" ,  "type":"future_kind","payload":{"nested":{"deep":[1,2,{"x":null}]}},"envelope_v9":true }',
          JSON.stringify({
            timestamp: ts,
            type: "response_item",
            payload: { type: "message", role: "user", content: [{ type: "input_image", image_url: `data:image/png;base64,${big}` }] },
          }),
        ];
        const debug = ["plain text, not JSON", "windows line\r", "a \r in the middle", "\ttab-indented {not json", "ümlaut and 🚀 in a log", '{"half": '];
        await store.append(input.id, "rollout", head.length, rollout);
        await store.append(input.id, "debug-log", 0, debug);

        const gotRollout = await readAll(store, input.id, "rollout");
        expect(gotRollout.length).toBe(head.length + rollout.length);
        // Compare lengths first so a mismatch does not print a megabyte.
        expect(gotRollout.map((l) => l.length)).toEqual([...head, ...rollout].map((l) => l.length));
        expect(gotRollout.every((l, i) => l === [...head, ...rollout][i])).toBe(true);
        expect(await readAll(store, input.id, "debug-log")).toEqual(debug);

        const positions = await store.streamPositions(input.id);
        expect(positions.find((p) => p.name === "rollout")).toEqual({
          name: "rollout",
          lines: head.length + rollout.length,
          bytes: bytesOf([...head, ...rollout]),
        });
        expect(positions.find((p) => p.name === "debug-log")).toEqual({ name: "debug-log", lines: debug.length, bytes: bytesOf(debug) });
        expect((await store.getSession(input.id)).bytes).toBe(bytesOf([...head, ...rollout]));
      });

      it("a line containing a newline is an InvalidInputError and nothing is written", async () => {
        const store = await open();
        const { input, head } = await createSession(store);
        await expectRejects(store.append(input.id, "rollout", head.length, ['{"a":1}', '{"b":\n2}']), InvalidInputError);
        await expectRejects(store.append(input.id, "debug-log", 0, ["one\ntwo"]), InvalidInputError);
        expect(await readAll(store, input.id, "rollout")).toEqual(head);
        expect(await readAll(store, input.id, "debug-log")).toEqual([]);
      });

      it("readStream starts at fromSeq", async () => {
        const store = await open();
        const { input } = await createSession(store);
        const lines = Array.from({ length: 7 }, (_, i) => `log line ${i}`);
        await store.append(input.id, "debug-log", 0, lines.slice(0, 3));
        await store.append(input.id, "debug-log", 3, lines.slice(3));
        expect(await readAll(store, input.id, "debug-log", 0)).toEqual(lines);
        expect(await readAll(store, input.id, "debug-log", 2)).toEqual(lines.slice(2));
        expect(await readAll(store, input.id, "debug-log", 3)).toEqual(lines.slice(3));
        expect(await readAll(store, input.id, "debug-log", 6)).toEqual(lines.slice(6));
        expect(await readAll(store, input.id, "debug-log", 7)).toEqual([]);
        // A stream never written reads as empty.
        expect(await readAll(store, input.id, "raw-api")).toEqual([]);
      });

      it("streamPositions gives every written stream's lines and bytes", async () => {
        const store = await open();
        const { input, head } = await createSession(store);
        const raw = ['{"direction":"request","headers":{"authorization":"[REDACTED]"}}'];
        await store.append(input.id, "raw-api", 0, raw);
        await store.append(input.id, "debug-log", 0, ["a", "bb"]);
        const positions = await store.streamPositions(input.id);
        const byName = new Map(positions.map((p) => [p.name, p]));
        expect(byName.get("rollout")).toEqual({ name: "rollout", lines: head.length, bytes: bytesOf(head) });
        expect(byName.get("raw-api")).toEqual({ name: "raw-api", lines: 1, bytes: bytesOf(raw) });
        expect(byName.get("debug-log")).toEqual({ name: "debug-log", lines: 2, bytes: 5 });
        expect(byName.get("meta-events")?.lines ?? 0).toBe(0);
        const detail = await store.getSession(input.id);
        expect(detail.streams.find((s) => s.name === "raw-api")).toEqual({ name: "raw-api", lines: 1, bytes: bytesOf(raw) });
      });

      it("named streams are independent of each other", async () => {
        const store = await open();
        const { input, head } = await createSession(store);
        const streams = {
          "debug-log": ["d0", "d1"],
          "raw-api": ['{"r":0}'],
          "meta-events": ['{"event":"start"}', '{"event":"approval","decision":"approved"}', '{"event":"shutdown"}'],
          "custom-artifact": ["c0"],
        };
        for (const [name, lines] of Object.entries(streams)) await store.append(input.id, name, 0, lines);
        // A conflict on one stream leaves the others alone.
        await expectRejects(store.append(input.id, "raw-api", 0, ['{"r":"dup"}']), ConflictError);
        await store.append(input.id, "meta-events", 3, ['{"event":"resume"}']);
        streams["meta-events"].push('{"event":"resume"}');
        for (const [name, lines] of Object.entries(streams)) expect(await readAll(store, input.id, name)).toEqual(lines);
        expect(await readAll(store, input.id, "rollout")).toEqual(head);
        // The same stream name in another session is another stream.
        const other = await createSession(store);
        expect(await readAll(store, other.input.id, "debug-log")).toEqual([]);
        expect(await store.append(other.input.id, "debug-log", 0, ["other"])).toEqual({ seq: 1 });
        expect(await readAll(store, input.id, "debug-log")).toEqual(streams["debug-log"]);
      });

      it("an invalid stream name is an InvalidIdError and nothing is created", async () => {
        const store = await open();
        const { input, head } = await createSession(store);
        for (const bad of BAD_STREAMS) {
          await expectRejects(store.append(input.id, bad, 0, ["x"]), InvalidIdError);
          await expectRejects(() => readAll(store, input.id, bad), InvalidIdError);
        }
        const positions = await store.streamPositions(input.id);
        expect(positions.filter((p) => p.lines > 0).map((p) => p.name)).toEqual(["rollout"]);
        expect(await readAll(store, input.id, "rollout")).toEqual(head);
      });

      it("streams of an unknown session are a NotFoundError and nothing is created", async () => {
        const store = await open();
        const id = conformanceId();
        await expectRejects(store.append(id, "rollout", 0, ['{"x":1}']), NotFoundError);
        await expectRejects(store.append(id, "debug-log", 0, ["x"]), NotFoundError);
        await expectRejects(() => readAll(store, id, "rollout"), NotFoundError);
        await expectRejects(store.streamPositions(id), NotFoundError);
        expect(await listAll(store)).toEqual([]);
      });
    });

    describe("listing", () => {
      it("lists newest first, and cursor paging covers every session exactly once", async () => {
        const store = await open();
        const base = Date.parse("2026-02-01T08:00:00.000Z");
        // Shuffled creation order; three sessions share one created_at so the cursor must break ties.
        const offsets = [7, 3, 19, 0, 11, 24, 5, 16, 2, 21, 9, 14, 1, 23, 6, 18, 12, 4, 22, 10, 15, 8, 20, 17, 13].map((o) => Math.min(o, 22));
        const created: SessionInput[] = [];
        for (const o of offsets) created.push((await createSession(store, { created_at: iso(base + o * MINUTE), title: `task ${created.length}` })).input);

        const pages: SessionSummary[][] = [];
        let cursor: string | null = null;
        do {
          const page: Awaited<ReturnType<SessionStore["listSessions"]>> = await store.listSessions({ limit: 10, cursor });
          expect(page.sessions.length).toBeLessThanOrEqual(10);
          pages.push(page.sessions);
          cursor = page.next_cursor;
          expect(pages.length).toBeLessThan(10);
        } while (cursor !== null);
        expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
        const ids = pages.flat().map((s) => s.id);
        expect(new Set(ids).size).toBe(25);
        expect([...ids].sort()).toEqual(created.map((c) => c.id).sort());
        const times = pages.flat().map((s) => Date.parse(s.created_at));
        for (let i = 1; i < times.length; i++) expect(times[i]!).toBeLessThanOrEqual(times[i - 1]!);
        expect(pages[0]![0]!.created_at).toBe(iso(base + 22 * MINUTE));
        expect(pages[2]![4]!.created_at).toBe(iso(base));
      });

      it("hides archived sessions unless asked", async () => {
        const store = await open();
        const base = Date.parse("2026-02-02T08:00:00.000Z");
        const a = await createSession(store, { created_at: iso(base) });
        const b = await createSession(store, { created_at: iso(base + MINUTE) });
        const archived = await createSession(store, { created_at: iso(base + 2 * MINUTE), archived: true });
        const ids = (r: { sessions: SessionSummary[] }) => r.sessions.map((s) => s.id);
        expect(ids(await store.listSessions())).toEqual([b.input.id, a.input.id]);
        expect(ids(await store.listSessions({ archived: "active" }))).toEqual([b.input.id, a.input.id]);
        const onlyArchived = await store.listSessions({ archived: "archived" });
        expect(ids(onlyArchived)).toEqual([archived.input.id]);
        expect(onlyArchived.sessions[0]!.archived).toBe(true);
        expect(ids(await store.listSessions({ archived: "all" }))).toEqual([archived.input.id, b.input.id, a.input.id]);
        const got = await store.getSession(archived.input.id);
        expect(got.archived).toBe(true);
        expect(await readAll(store, archived.input.id, "rollout")).toEqual(archived.head);
      });

      it("filters by exact cwd", async () => {
        const store = await open();
        const base = Date.parse("2026-02-03T08:00:00.000Z");
        const a1 = await createSession(store, { cwd: "/srv/alpha", created_at: iso(base) });
        await createSession(store, { cwd: "/srv/beta", created_at: iso(base + MINUTE) });
        const a2 = await createSession(store, { cwd: "/srv/alpha", created_at: iso(base + 2 * MINUTE) });
        await createSession(store, { cwd: "/srv/alpha/sub", created_at: iso(base + 3 * MINUTE) });
        const res = await store.listSessions({ cwd: "/srv/alpha" });
        expect(res.sessions.map((s) => s.id)).toEqual([a2.input.id, a1.input.id]);
        expect(res.next_cursor).toBeNull();
        expect((await store.listSessions({ cwd: "/nowhere" })).sessions).toEqual([]);
      });

      it("respects limit and returns a cursor only while more remain", async () => {
        const store = await open();
        expect(await store.listSessions()).toEqual({ sessions: [], next_cursor: null });
        const base = Date.parse("2026-02-04T08:00:00.000Z");
        const a = await createSession(store, { created_at: iso(base) });
        const b = await createSession(store, { created_at: iso(base + MINUTE) });
        const first = await store.listSessions({ limit: 1 });
        expect(first.sessions.map((s) => s.id)).toEqual([b.input.id]);
        expect(first.next_cursor).not.toBeNull();
        const second = await store.listSessions({ limit: 1, cursor: first.next_cursor });
        expect(second.sessions.map((s) => s.id)).toEqual([a.input.id]);
        const rest = second.next_cursor === null ? [] : (await store.listSessions({ limit: 1, cursor: second.next_cursor })).sessions;
        expect(rest).toEqual([]);
        const listed = (await store.listSessions({ limit: 10 })).sessions.find((s) => s.id === a.input.id);
        expect(listed).toMatchObject({ id: a.input.id, cwd: a.input.cwd, title: a.input.title, lines: a.head.length, bytes: bytesOf(a.head) });
      });

      it("finds sessions by a query over titles and messages (the store's index, or core's scan of the rollouts)", async () => {
        const store = await open();
        const hit = await createSession(store, { title: "Migrate the zebrafish pipeline" });
        await createSession(store, { title: "Unrelated work" });
        const res = await store.listSessions({ q: "zebrafish" });
        expect(res.sessions.map((s) => s.id)).toEqual([hit.input.id]);
      });

      it(`limit: default 50, at most ${MAX_LIST_LIMIT}; anything else is an InvalidInputError on every store`, async () => {
        const store = await open();
        await createSession(store);
        for (const limit of [0, -1, 1.5, MAX_LIST_LIMIT + 1, 5000]) await expectRejects(store.listSessions({ limit }), InvalidInputError);
        expect((await store.listSessions({ limit: MAX_LIST_LIMIT })).sessions).toHaveLength(1);
        expect((await store.listSessions({})).sessions).toHaveLength(1);
        await expectRejects(store.listSessions({ since: "not a date" }), InvalidInputError);
      });
    });

    describe("deletion and retention", () => {
      it("deleteSession removes the session and all its streams", async () => {
        const store = await open();
        const keep = await createSession(store);
        const gone = await createSession(store);
        await store.append(gone.input.id, "debug-log", 0, ["bye"]);
        await store.deleteSession(gone.input.id, { actor: "conformance", reason: "test" });
        await expectRejects(store.getSession(gone.input.id), NotFoundError);
        await expectRejects(() => readAll(store, gone.input.id, "rollout"), NotFoundError);
        expect((await listAll(store)).map((s) => s.id)).toEqual([keep.input.id]);
        expect(await readAll(store, keep.input.id, "rollout")).toEqual(keep.head);
        await expectRejects(store.deleteSession(gone.input.id), NotFoundError);
        // Re-creating the id starts from empty streams: nothing of the old session survived.
        await store.putSession(gone.input);
        expect(await readAll(store, gone.input.id, "debug-log")).toEqual([]);
        expect(await readAll(store, gone.input.id, "rollout")).toEqual([]);
      });

      it("updated_at follows the last rollout line, and prune judges by it, not by created_at", async (t) => {
        const store = await open();
        skipWithoutRetention(t, store);
        const created = Date.parse("2020-01-01T00:00:00.000Z");
        const active = await createSession(store, { created_at: iso(created), updated_at: iso(created) });
        const resumedAt = new Date(Date.now() - 5 * MINUTE).toISOString();
        await store.append(active.input.id, "rollout", active.head.length, agentMessageLines("Resumed and still working.", resumedAt));
        expect((await store.getSession(active.input.id)).updated_at).toBe(resumedAt);
        const dormant = await createSession(store, { created_at: iso(created + MINUTE), updated_at: iso(created + MINUTE) });
        expect((await store.getSession(dormant.input.id)).updated_at).toBe(iso(created + MINUTE));

        const res = await prune(store, new Date("2021-01-01T00:00:00.000Z"));
        expect(res.expired).toEqual([dormant.input.id]);
        expect((await store.getSession(active.input.id)).id).toBe(active.input.id);
      });

      it("prune leaves the same audit on every store: soft_delete by the policy, then purge once the grace is over", async (t) => {
        const store = await open();
        skipWithoutRetention(t, store);
        const old = Date.parse("2020-07-01T00:00:00.000Z");
        const gone = await createSession(store, { created_at: iso(old), updated_at: iso(old) });
        const kept = await createSession(store, { created_at: iso(Date.now() - MINUTE), updated_at: iso(Date.now() - MINUTE) });
        const first = await prune(store, new Date("2021-01-01T00:00:00.000Z"), { graceMs: 7 * DAY_MS, actor: "cli:conformance" });
        expect(first).toMatchObject({ expired: [gone.input.id], purged: [], held: [] });
        // Soft-deleted: gone from reads and listings, restorable until the grace is over.
        await expectRejects(store.getSession(gone.input.id), NotFoundError);
        expect((await listAll(store)).map((s) => s.id)).toEqual([kept.input.id]);
        if (!isRetentionStore(store)) return; // the archive server keeps its audit; the shared prune test reads it there
        expect((await collect(store.softDeletedSessions())).map((s) => s.id)).toEqual([gone.input.id]);
        const audit = await collect(store.deletionAudit());
        expect(audit.map((r) => [r.action, r.session_id, r.actor, r.policy])).toEqual([["soft_delete", gone.input.id, "cli:conformance", "conformance"]]);
        expect(audit[0]!.bytes).toBe(first.bytes_freed);
        expect(first.bytes_freed).toBeGreaterThanOrEqual(bytesOf(gone.head));
      });

      it("a legal hold blocks delete and prune until it is cleared", async () => {
        const store = await open();
        const old = Date.parse("2020-05-01T00:00:00.000Z");
        const held = await createSession(store, { created_at: iso(old), updated_at: iso(old) });
        await store.setLegalHold(held.input.id, true);
        expect((await store.getSession(held.input.id)).legal_hold).toBe(true);
        await expectRejects(store.deleteSession(held.input.id), LegalHoldError);
        if (store.capabilities.retention || store.capabilities.remoteRetention) {
          const pruned = await prune(store, new Date("2021-01-01T00:00:00.000Z"));
          expect(pruned.expired).toEqual([]);
          expect(pruned.held).toEqual([held.input.id]);
        }
        expect(await readAll(store, held.input.id, "rollout")).toEqual(held.head);

        await store.setLegalHold(held.input.id, false);
        expect((await store.getSession(held.input.id)).legal_hold).toBe(false);
        await store.deleteSession(held.input.id);
        await expectRejects(store.getSession(held.input.id), NotFoundError);
        await expectRejects(store.setLegalHold(conformanceId(), true), NotFoundError);
      });

      it("prune: a dry run changes nothing and reports; a real run expires old sessions and keeps new and held ones", async (t) => {
        const store = await open();
        skipWithoutRetention(t, store);
        const oldBase = Date.parse("2020-06-01T00:00:00.000Z");
        const newBase = Date.now() - 60 * MINUTE;
        const olds = [
          await createSession(store, { created_at: iso(oldBase), updated_at: iso(oldBase) }),
          await createSession(store, { created_at: iso(oldBase + MINUTE), updated_at: iso(oldBase + MINUTE) }),
        ];
        await store.append(olds[0]!.input.id, "debug-log", 0, ["old log"]);
        const heldOld = await createSession(store, { created_at: iso(oldBase + 2 * MINUTE), updated_at: iso(oldBase + 2 * MINUTE) });
        await store.setLegalHold(heldOld.input.id, true);
        const news = [
          await createSession(store, { created_at: iso(newBase), updated_at: iso(newBase) }),
          await createSession(store, { created_at: iso(newBase + MINUTE), updated_at: iso(newBase + MINUTE) }),
        ];
        const olderThan = new Date("2021-01-01T00:00:00.000Z");
        const oldIds = olds.map((o) => o.input.id).sort();
        const oldRolloutBytes = olds.reduce((n, o) => n + bytesOf(o.head), 0);

        const dry = await prune(store, olderThan, { dryRun: true, actor: "policy:conformance" });
        expect(dry.dry_run).toBe(true);
        expect([...dry.expired].sort()).toEqual(oldIds);
        expect(dry.held).toEqual([heldOld.input.id]);
        expect(dry.bytes_freed).toBeGreaterThanOrEqual(oldRolloutBytes);
        expect((await listAll(store)).length).toBe(5);
        for (const o of olds) expect(await readAll(store, o.input.id, "rollout")).toEqual(o.head);

        const real = await prune(store, olderThan, { actor: "policy:conformance" });
        expect(real.dry_run).toBe(false);
        expect([...real.expired].sort()).toEqual(oldIds);
        expect(real.held).toEqual([heldOld.input.id]);
        expect(real.bytes_freed).toBe(dry.bytes_freed);
        for (const o of olds) await expectRejects(store.getSession(o.input.id), NotFoundError);
        for (const n of news) expect(await readAll(store, n.input.id, "rollout")).toEqual(n.head);
        expect((await store.getSession(heldOld.input.id)).legal_hold).toBe(true);
        expect((await listAll(store)).map((s) => s.id).sort()).toEqual([heldOld.input.id, ...news.map((n) => n.input.id)].sort());

        const again = await prune(store, olderThan);
        expect(again.expired).toEqual([]);
        expect(again.bytes_freed).toBe(0);
      });
    });

    it("close() can be called twice", async () => {
      const store = await open();
      await createSession(store);
      await store.close();
      await store.close();
    });
  });
}
