import { once } from "node:events";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FIXTURES, fixtureRollouts, fixtureRuns } from "@sessionvault/testing/codex-fixtures";
import { runCli } from "./support/run-cli.ts";

/**
 * `sync --to otlp+http://…` against a local OTLP/HTTP receiver: the spans it
 * gets are checked against actions v1 of the same sessions.
 */
type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; arrayValue?: { values?: AnyValue[] } };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: AnyValue }[];
  status: { code?: number; message?: string };
}
interface ExportRequest {
  resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
}
interface Action {
  seq: number;
  turn_id: string | null;
  action_type: string;
  call_id: string | null;
  tool_name: string | null;
  exit_code: number | null;
  changed_paths: string[];
  status: string;
  command: string | null;
}

const VERSION = "0.171.0";
let server: Server;
let received: ExportRequest[] = [];
let collector: string;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "sv-otlp-"));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces" || req.headers["content-type"] !== "application/json") {
        res.writeHead(404).end();
        return;
      }
      received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as ExportRequest);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  collector = `otlp+http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  received = [];
});

function spans(): OtlpSpan[] {
  return received.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)));
}
function attr(s: OtlpSpan, key: string): unknown {
  const v = s.attributes.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.arrayValue) return (v.arrayValue.values ?? []).map((x) => x.stringValue);
  return v.boolValue;
}
async function actionsOf(id: string, store: string): Promise<Action[]> {
  const r = await runCli(["export", id, "--format", "actions.v1", "--store", store]);
  expect(r.code, r.stderr).toBe(0);
  return r.out
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Action);
}
const env = (name: string) => ({ XDG_STATE_HOME: join(tmp, name, "state"), XDG_CACHE_HOME: join(tmp, name, "cache") });
const CALLS = new Set(["command_execution", "file_change", "tool_call"]);

describe("sync --to otlp+http://", () => {
  it("sends one span per call action and per turn, parented, with statuses and attributes; a rerun sends nothing", async () => {
    const store = join(FIXTURES, VERSION);
    const r = await runCli(["sync", "--from", store, "--to", collector, "--json"], env("all"));
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.out) as { sessions_scanned: number; spans_sent: number; errors: unknown[] };
    expect(summary.errors).toEqual([]);
    const all = spans();
    expect(summary.spans_sent).toBe(all.length);
    expect(new Set(all.map((s) => s.spanId)).size).toBe(all.length);

    let checkedCalls = 0;
    let turnsWithUsage = 0;
    const ids = new Set(fixtureRollouts(VERSION).map((f) => f.id));
    expect(summary.sessions_scanned).toBe(ids.size);
    for (const id of ids) {
      const actions = await actionsOf(id, store);
      const mine = all.filter((s) => attr(s, "gen_ai.conversation.id") === id);
      const turns = mine.filter((s) => attr(s, "gen_ai.operation.name") === "invoke_agent");
      const calls = mine.filter((s) => attr(s, "gen_ai.operation.name") === "execute_tool");
      expect(turns.length + calls.length, id).toBe(mine.length);
      expect(new Set(mine.map((s) => s.traceId)).size, id).toBeLessThanOrEqual(1);
      const turnActions = actions.filter((a) => a.action_type === "turn_started");
      expect(turns.map((t) => attr(t, "sessionvault.turn.id")).sort(), id).toEqual(turnActions.map((a) => a.turn_id).sort());
      const callActions = actions.filter((a) => CALLS.has(a.action_type));
      expect(calls.length, id).toBe(callActions.length);
      for (const a of callActions) {
        const s = calls.find((c) => attr(c, "sessionvault.action.seq") === a.seq)!;
        expect(s, `${id} seq ${a.seq}`).toBeDefined();
        const parent = turns.find((t) => t.spanId === s.parentSpanId);
        expect(parent && attr(parent, "sessionvault.turn.id"), `${id} seq ${a.seq} parent`).toBe(a.turn_id);
        expect(s.name).toBe(`execute_tool ${a.tool_name ?? a.action_type}`);
        expect(attr(s, "sessionvault.action.type")).toBe(a.action_type);
        expect(s.status.code).toBe(a.status === "completed" ? 1 : 2);
        expect(attr(s, "error.type")).toBe(a.status === "completed" ? undefined : a.status);
        expect(attr(s, "process.exit.code")).toBe(a.exit_code ?? undefined);
        expect(attr(s, "gen_ai.tool.call.id")).toBe(a.call_id ?? undefined);
        expect(attr(s, "process.command_line")).toBe(a.command ?? undefined);
        expect(attr(s, "sessionvault.file.changed_paths") ?? []).toEqual(a.changed_paths);
        checkedCalls++;
      }
      for (const t of turns) {
        expect(t.parentSpanId ?? "", id).toBe("");
        expect(attr(t, "gen_ai.request.model"), id).toBe("gpt-5.5");
        if ((attr(t, "gen_ai.usage.input_tokens") as number) > 0) turnsWithUsage++;
      }
    }
    // The fixture runs commands (one failing), patches and tool calls: the checks above were not vacuous.
    expect(checkedCalls).toBeGreaterThan(10);
    expect(turnsWithUsage).toBeGreaterThan(10);
    const fail = all.filter((s) => attr(s, "gen_ai.conversation.id") === fixtureRuns(VERSION).get("04-fail") && s.status.code === 2);
    expect(fail.length).toBeGreaterThan(0);

    received = [];
    const again = await runCli(["sync", "--from", store, "--to", collector, "--json"], env("all"));
    expect(again.code, again.stderr).toBe(0);
    expect(received).toEqual([]);
    expect((JSON.parse(again.out) as { spans_sent: number }).spans_sent).toBe(0);
  });

  it("sends only the turns finished since the last sync", async () => {
    const id = fixtureRuns(VERSION).get("05-multi-turn1")!;
    const source = fixtureRollouts(VERSION).find((f) => f.id === id)!.path;
    const lines = readFileSync(source, "utf8").split("\n");
    const home = join(tmp, "home");
    const dir = join(home, "sessions", "2026", "12", "02");
    mkdirSync(dir, { recursive: true });
    const target = join(dir, basename(source));
    // Up to the end of the first turn plus the start of the second.
    const firstEnd = lines.findIndex((l) => l.includes('"task_complete"'));
    writeFileSync(target, lines.slice(0, firstEnd + 3).join("\n") + "\n");
    const first = await runCli(["sync", "--from", home, "--to", collector, "--json"], env("partial"));
    expect(first.code, first.stderr).toBe(0);
    const firstSpans = spans();
    expect(firstSpans.filter((s) => attr(s, "gen_ai.operation.name") === "invoke_agent")).toHaveLength(1);

    received = [];
    writeFileSync(target, readFileSync(source));
    const second = await runCli(["sync", "--from", home, "--to", collector, "--json"], env("partial"));
    expect(second.code, second.stderr).toBe(0);
    const secondSpans = spans();
    const actions = await actionsOf(id, home);
    const turnIds = actions.filter((a) => a.action_type === "turn_started").map((a) => a.turn_id);
    expect(turnIds).toHaveLength(3);
    expect(secondSpans.filter((s) => attr(s, "gen_ai.operation.name") === "invoke_agent").map((s) => attr(s, "sessionvault.turn.id"))).toEqual(
      turnIds.slice(1),
    );
    // Nothing of the first turn again, and together exactly the spans of a full sync.
    const seen = new Set(firstSpans.map((s) => s.spanId));
    expect(secondSpans.filter((s) => seen.has(s.spanId))).toEqual([]);
    expect(firstSpans.length + secondSpans.length).toBe(actions.filter((a) => CALLS.has(a.action_type) || a.action_type === "turn_started").length);
  });

  it("export --format otlp gives the same spans, one request per line, redacted content only with --include-content", async () => {
    const store = join(FIXTURES, VERSION);
    const id = fixtureRuns(VERSION).get("02-shell")!;
    const plain = await runCli(["export", id, "--format", "otlp", "--store", store]);
    expect(plain.code, plain.stderr).toBe(0);
    const requests = plain.out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as ExportRequest);
    const ex = requests.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)));
    expect(ex.some((s) => attr(s, "gen_ai.tool.call.result") !== undefined || attr(s, "gen_ai.input.messages") !== undefined)).toBe(false);
    const rerun = await runCli(["export", id, "--format", "otlp", "--store", store]);
    expect(rerun.out).toBe(plain.out);
    const withContent = await runCli(["export", id, "--format", "otlp", "--include-content", "--store", store]);
    expect(withContent.code, withContent.stderr).toBe(0);
    const wc = withContent.out
      .trimEnd()
      .split("\n")
      .flatMap((l) => (JSON.parse(l) as ExportRequest).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)));
    expect(wc.map((s) => s.spanId)).toEqual(ex.map((s) => s.spanId));
    expect(wc.some((s) => typeof attr(s, "gen_ai.input.messages") === "string")).toBe(true);
    expect(wc.some((s) => typeof attr(s, "gen_ai.tool.call.result") === "string")).toBe(true);
    const noRedact = await runCli(["export", id, "--format", "otlp", "--no-redact", "--store", store]);
    expect(noRedact.code).not.toBe(0);
  });
});
