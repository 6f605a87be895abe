import { redactSummary, summaryFacts, type SessionDetail, type SessionFacts } from "@sessionvault/core/store-api";
import { printJson, type CliContext } from "../io.js";
import { terminalSafe } from "../terminal-text.js";
import { openSessionStore } from "../stores.js";
import { sessionJson } from "./list.js";

export interface ShowOptions {
  store?: string;
  /** commander's `--no-redact` sets this to false. */
  redact?: boolean;
  json?: boolean;
}

/** `sessionvault show ID`: one session's summary and its streams. */
export async function show(id: string, options: ShowOptions, ctx: CliContext): Promise<void> {
  const store = await openSessionStore(ctx, options.store, id, { unredacted: options.redact === false });
  try {
    const stored = await store.getSession(id);
    const s = options.redact === false ? stored : redactSummary(stored);
    const facts = await summaryFacts(store, s);
    if (options.json) {
      printJson(ctx, { ...sessionJson(s, facts), legal_hold: s.legal_hold, streams: s.streams.map((x) => ({ name: x.name, lines: x.lines, bytes: x.bytes })) });
      return;
    }
    ctx.stdout.write(human(s, facts));
  } finally {
    await store.close();
  }
}

function human(s: SessionDetail, f: SessionFacts): string {
  const rows: [string, string][] = [
    ["id", s.id],
    ["title", s.title ?? "(untitled)"],
    ["created", s.created_at],
    ["updated", s.updated_at],
    ["cwd", s.cwd ?? "-"],
    ["source", s.source ?? "-"],
    ["originator", s.originator ?? "-"],
    ["cli version", s.cli_version ?? "-"],
    ["model provider", s.model_provider ?? "-"],
    ["agent", f.agent],
    ["model", f.model ?? "-"],
    ["outcome", f.outcome],
    ["turns", String(f.turns)],
    ["tokens", f.tokens ? `${f.tokens.input} in (${f.tokens.cached_input} cached), ${f.tokens.output} out (${f.tokens.reasoning} reasoning)` : "-"],
    ["duration", f.duration_ms === null ? "-" : `${(f.duration_ms / 1000).toFixed(1)} s`],
    ["files changed", String(f.files_changed)],
  ];
  if (f.children.length > 0) rows.push(["children", f.children.join(" ")]);
  if (s.git) rows.push(["git", [s.git.branch, s.git.commit_hash?.slice(0, 12), s.git.repository_url].filter(Boolean).join("  ")]);
  if (s.forked_from_id) rows.push(["forked from", s.forked_from_id]);
  else if (s.parent_id) rows.push(["parent", s.parent_id]);
  rows.push(["archived", s.archived ? "yes" : "no"]);
  if (s.legal_hold) rows.push(["legal hold", "yes"]);
  rows.push(["rollout", `${s.lines} lines, ${s.bytes} bytes`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  let out = rows.map(([k, v]) => `${(k + ":").padEnd(w + 1)}  ${terminalSafe(v)}`).join("\n") + "\n\nstreams:\n";
  const nw = Math.max(...s.streams.map((x) => x.name.length));
  for (const x of s.streams) out += `  ${terminalSafe(x.name).padEnd(nw)}  ${String(x.lines).padStart(8)} lines  ${String(x.bytes).padStart(12)} bytes\n`;
  return out;
}
