import type { LineWarning } from "../../jsonl-reader.js";
import { parseJsonObjectLine } from "../../jsonl-reader.js";
import type { CallEvent, SessionEvent, TokenUsage } from "../../session-model/session-event.js";
import type { TranscriptReader, TranscriptReaderOptions } from "../../session-model/transcript-reader.js";
import { geminiCallKind, geminiFileDiff, geminiOutput, geminiStatus, isGeminiSubAgentTool, isGeminiWebSearch, shellExitCode } from "./gemini-tools.js";

/**
 * Reads a Gemini CLI chat (`~/.gemini/tmp/<project>/chats/session-*`;
 * docs/actions-v1.md "Gemini CLI") into the session model. Both shapes:
 *
 * - JSONL (0.5x on): a header line, then messages, each appended again with
 *   the same `id` whenever it changes (a model message first without, then
 *   with its `toolCalls`), and `{"$set":{…}}` lines that replace fields of
 *   the document, `messages` included (at a resume, after a compression).
 * - The older single JSON document, rewritten in place on every change
 *   (one line, or pretty-printed over many).
 *
 * Several files of one session (a new file after a compression, a stub at a
 * resume) may be fed one after the other. Messages are upserted by id, so a
 * repeated message is one message; a `$set` of `messages` upserts its list
 * and keeps the messages it leaves out (they did happen: dropping them
 * would lose their calls), with a warning. Because any line may still
 * change an earlier message, events are handed out when the transcript
 * ends; memory is the chat document, which Gemini CLI itself holds whole.
 */
const DEFAULT_MAX_TEXT = 100_000;

type Obj = Record<string, unknown>;

export interface GeminiCliReaderOptions extends TranscriptReaderOptions {
  /** The project root (from `projects.json` or `.project_root`): chats record no cwd of their own. */
  cwd?: string | null;
}

export interface GeminiSessionInfo {
  sessionId: string | null;
  cwd: string | null;
  /** `main` or `subagent` (0.61.0 headers). */
  kind: string | null;
  /** The first prompt. */
  title: string | null;
  /** A sub-agent chat's final result (`$set` `summary`). */
  summary: string | null;
}

export class GeminiCliReader implements TranscriptReader {
  readonly #out: SessionEvent[] = [];
  readonly #text: boolean;
  readonly #usage: boolean;
  readonly #maxText: number;
  readonly #warn: (w: LineWarning) => void;

  readonly #messages = new Map<string, Obj>();
  #anonymous = 0;
  /** Lines of a pretty-printed JSON document being collected. */
  #doc: string[] | null = null;
  #docLine = 0;
  #finished = false;
  readonly #info: GeminiSessionInfo = { sessionId: null, cwd: null, kind: null, title: null, summary: null };
  #startTime = "";

  constructor(options: GeminiCliReaderOptions = {}) {
    this.#text = options.text ?? false;
    this.#usage = options.usage ?? this.#text;
    this.#maxText = options.maxTextChars ?? DEFAULT_MAX_TEXT;
    this.#warn = options.onWarning ?? (() => {});
    this.#info.cwd = options.cwd ?? null;
  }

  info(): GeminiSessionInfo {
    return { ...this.#info };
  }

  take(): SessionEvent[] {
    return this.#out.splice(0, this.#out.length);
  }

  push(text: string, lineNo: number): void {
    if (this.#doc !== null) {
      if (text === "{" || text === "{\r") {
        // The next file of the session starts while this one never got its "}" (a .json file ends without a newline).
        this.#endDoc(true);
      } else {
        this.#doc.push(text);
        // JSON.stringify(doc, null, 2) closes the document with a "}" alone at column 0.
        if (text === "}" || text === "}\r") this.#endDoc(false);
        return;
      }
    }
    if (text === "" || (text.length < 64 && text.trim() === "")) return;
    if (text === "{" || text === "{\r") {
      this.#doc = [text];
      this.#docLine = lineNo;
      return;
    }
    const r = parseJsonObjectLine(text, lineNo, this.#warn);
    if (r) this.#record(r, lineNo);
  }

  finish(): void {
    if (this.#doc !== null) this.#endDoc(true);
    if (this.#finished) return;
    this.#finished = true;
    this.#emit();
  }

  // ---- folding ---------------------------------------------------------

  /**
   * `unclosed`: the document's last line did not come — a line reader holds
   * back a last line without "\n", which is how Gemini CLI ends its `.json`
   * files; when adding that "}" makes the document whole, nothing was lost.
   */
  #endDoc(unclosed: boolean): void {
    const lines = this.#doc!;
    this.#doc = null;
    let value: unknown;
    try {
      value = JSON.parse(unclosed ? `${lines.join("\n")}\n}` : lines.join("\n"));
    } catch {
      const kind = unclosed ? "torn-last-line" : "unparsable";
      this.#warn({
        kind,
        lineNo: this.#docLine,
        message: `the JSON document from line ${this.#docLine} is ${unclosed ? "cut short" : "not valid JSON"} (rewritten while read?); skipped`,
      });
      return;
    }
    const r = obj(value);
    if (r) this.#record(r, this.#docLine);
  }

  #record(r: Obj, lineNo: number): void {
    const set = obj(r.$set);
    if (set) {
      this.#headerFields(set);
      if (Array.isArray(set.messages)) this.#setMessages(set.messages, lineNo);
      return;
    }
    if (typeof r.sessionId === "string" || Array.isArray(r.messages)) {
      // A header line, or a whole JSON document.
      this.#headerFields(r);
      if (Array.isArray(r.messages)) this.#setMessages(r.messages, lineNo);
      return;
    }
    if (typeof r.type === "string") {
      this.#upsert(r, lineNo);
      return;
    }
    this.#warn({ kind: "unknown-record", lineNo, message: `line ${lineNo} is not a record this reader knows; kept opaque` });
    this.#upsert({ id: `#unknown-${lineNo}`, type: "?", lineNo }, lineNo);
  }

  #headerFields(h: Obj): void {
    if (typeof h.sessionId === "string") this.#info.sessionId ??= h.sessionId;
    if (typeof h.kind === "string") this.#info.kind = h.kind;
    if (typeof h.startTime === "string" && this.#startTime === "") this.#startTime = h.startTime;
    if (typeof h.summary === "string") this.#info.summary = h.summary;
    if (this.#info.cwd === null && Array.isArray(h.directories) && typeof h.directories[0] === "string") this.#info.cwd = h.directories[0];
  }

  #setMessages(list: unknown[], lineNo: number): void {
    const kept = new Set<string>();
    for (const m of list) {
      const o = obj(m);
      if (!o) continue;
      kept.add(this.#upsert(o, lineNo));
    }
    let dropped = 0;
    for (const id of this.#messages.keys()) if (!kept.has(id) && !id.startsWith("#unknown-")) dropped++;
    if (dropped > 0)
      this.#warn({ kind: "rewritten", lineNo, message: `line ${lineNo} rewrites the chat without ${dropped} message(s) already recorded; they are kept` });
  }

  #upsert(m: Obj, lineNo: number): string {
    const id = typeof m.id === "string" ? m.id : `#anonymous-${++this.#anonymous}`;
    const old = this.#messages.get(id);
    if (old && Array.isArray(old.toolCalls) && (!Array.isArray(m.toolCalls) || m.toolCalls.length < old.toolCalls.length)) {
      // A later copy without calls the earlier one had: keep the calls.
      this.#warn({ kind: "rewritten", lineNo, message: `line ${lineNo} rewrites message ${id} without some of its tool calls; they are kept` });
      m = { ...m, toolCalls: mergeCalls(old.toolCalls as unknown[], Array.isArray(m.toolCalls) ? (m.toolCalls as unknown[]) : []) };
    }
    this.#messages.set(id, m);
    return id;
  }

  // ---- events ----------------------------------------------------------

  #emit(): void {
    const out = this.#out;
    const sessionTs = this.#startTime || firstTimestamp(this.#messages);
    out.push({ type: "session_started", sessionId: this.#info.sessionId, cwd: this.#info.cwd, timestamp: sessionTs, turnId: null });
    const cwd = this.#info.cwd;
    let turnId: string | null = null;
    let turnStart = "";
    let turnLast = "";
    let waiting = false;
    let failed: string | null = null;
    let model: string | null = null;
    const total: TokenUsage = { input: 0, cached_input: 0, output: 0, reasoning: 0 };
    const endTurn = (status: "completed" | "failed" | "aborted", reason: string | null) => {
      const a = Date.parse(turnStart);
      const b = Date.parse(turnLast);
      out.push({
        type: "turn_ended",
        status,
        cwd,
        reason,
        durationMs: Number.isFinite(a) && Number.isFinite(b) && b >= a ? b - a : null,
        timestamp: turnLast,
        turnId,
      });
      turnId = null;
    };
    for (const [id, m] of this.#messages) {
      const ts = typeof m.timestamp === "string" ? m.timestamp : turnLast;
      if (m.type === "?") {
        out.push({ type: "unknown", kind: "?", lineNo: typeof m.lineNo === "number" ? m.lineNo : 0, timestamp: ts, turnId });
        continue;
      }
      if (m.type === "user") {
        const text = contentText(m.content);
        if (text === null) continue; // tool results: the model message's toolCalls hold them
        if (text.startsWith("<session_context>")) continue;
        if (text.startsWith("<state_snapshot>")) {
          out.push({ type: "compaction", text: this.#text ? this.#cut(text) : null, timestamp: ts, turnId });
          continue;
        }
        if (turnId !== null) endTurn(failed !== null ? "failed" : waiting ? "aborted" : "completed", failed);
        turnId = id;
        turnStart = ts;
        turnLast = ts;
        waiting = true;
        failed = null;
        this.#info.title ??= text.length > 200 ? `${text.slice(0, 200)}…` : text;
        out.push({ type: "turn_started", cwd, timestamp: ts, turnId });
        if (this.#text) out.push({ type: "message", role: "user", text: this.#cut(text)!, timestamp: ts, turnId });
        continue;
      }
      if (m.type === "error") {
        const text = contentText(m.content) ?? "error";
        failed = text;
        if (ts !== "") turnLast = ts;
        out.push({ type: "error", message: this.#cut(text)!, timestamp: ts, turnId });
        continue;
      }
      if (m.type !== "gemini") continue; // info / warning notices
      if (ts !== "") turnLast = ts;
      // 0.61.0 writes a model message first without its calls; one that never got them is no answer (the CLI stopped).
      const answered = (contentText(m.content) ?? "") !== "" || (Array.isArray(m.toolCalls) && m.toolCalls.length > 0);
      if (answered) {
        waiting = false;
        failed = null;
      }
      if (typeof m.model === "string" && m.model !== model) {
        model = m.model;
        out.push({ type: "model", model, cwd, timestamp: ts, turnId });
      }
      if (this.#text && Array.isArray(m.thoughts)) {
        for (const t of m.thoughts) {
          const th = obj(t);
          const s = [th?.subject, th?.description].filter((x) => typeof x === "string" && x !== "").join(": ");
          if (s !== "") out.push({ type: "reasoning", text: this.#cut(s)!, timestamp: typeof th?.timestamp === "string" ? th.timestamp : ts, turnId });
        }
      }
      const text = contentText(m.content);
      if (this.#text && text) out.push({ type: "message", role: "agent", text: this.#cut(text)!, timestamp: ts, turnId });
      if (Array.isArray(m.toolCalls)) for (const c of m.toolCalls) this.#call(obj(c), ts, turnId, cwd, out);
      const tk = obj(m.tokens);
      if (this.#usage && tk) {
        total.input += int(tk.input);
        total.cached_input += int(tk.cached);
        total.output += int(tk.output);
        total.reasoning += int(tk.thoughts);
        out.push({ type: "token_usage", total: { ...total }, timestamp: ts, turnId });
      }
    }
    // Open at the end: the last prompt still waits for an answer (live, or the CLI stopped).
    if (turnId !== null && !waiting) endTurn(failed !== null ? "failed" : "completed", failed);
  }

  #call(c: Obj | null, ts: string, turnId: string | null, cwd: string | null, out: SessionEvent[]): void {
    if (!c) return;
    const name = typeof c.name === "string" ? c.name : null;
    const args = obj(c.args);
    const status = geminiStatus(c.status);
    const output = geminiOutput(c.result);
    const base = {
      timestamp: typeof c.timestamp === "string" ? c.timestamp : ts,
      turnId,
      callId: typeof c.id === "string" ? c.id : null,
      toolName: name,
      cwd,
      status,
      durationMs: null,
      output: this.#text ? this.#cut(output) : null,
    };
    const kind = geminiCallKind(name);
    let ev: CallEvent;
    if (kind === "command") {
      const exitCode = shellExitCode(status, output, args);
      ev = {
        ...base,
        status: status === "completed" && exitCode !== null && exitCode !== 0 ? "failed" : status,
        type: "command",
        command: typeof args?.command === "string" ? args.command : null,
        argv: null,
        exitCode,
      };
    } else if (kind === "file_change") {
      const display = obj(c.resultDisplay);
      const raw = typeof args?.file_path === "string" ? args.file_path : typeof display?.filePath === "string" ? display.filePath : null;
      const path = raw === null ? null : absolute(raw, cwd);
      const diff = this.#text && path !== null && status === "completed" ? geminiFileDiff(path, display) : null;
      ev = { ...base, type: "file_change", paths: path === null ? [] : [path], files: diff ? [diff] : [], exitCode: null };
    } else {
      const sub = isGeminiSubAgentTool(name);
      const child = typeof c.agentId === "string" ? [c.agentId] : [];
      ev = {
        ...base,
        type: "tool_call",
        command: isGeminiWebSearch(name) && typeof args?.query === "string" ? args.query : null,
        input: this.#text && args ? this.#cut(JSON.stringify(args)) : null,
        subAgent: sub ? { action: "spawn", childIds: child } : null,
        webSearch: isGeminiWebSearch(name),
      };
    }
    out.push(ev);
  }

  #cut(s: string | null): string | null {
    if (s === null) return null;
    return s.length > this.#maxText ? `${s.slice(0, this.#maxText)}…` : s;
  }
}

/** A message's text: a string, or the `text` parts of a list; null when it holds only function responses. */
function contentText(content: unknown): string | null {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return null;
  let out: string | null = null;
  for (const p of content) {
    const t = obj(p)?.text;
    if (typeof t === "string") out = out === null ? t : `${out}\n${t}`;
  }
  return out;
}

function mergeCalls(old: unknown[], next: unknown[]): unknown[] {
  const ids = new Set<unknown>(next.map((c) => obj(c)?.id).filter((x) => typeof x === "string"));
  return [...old.filter((c) => !ids.has(obj(c)?.id)), ...next];
}

function firstTimestamp(messages: Map<string, Obj>): string {
  for (const m of messages.values()) if (typeof m.timestamp === "string") return m.timestamp;
  return "";
}

function absolute(p: string, cwd: string | null): string {
  if (p.startsWith("/") || cwd === null) return p;
  return `${cwd.replace(/\/$/, "")}/${p}`;
}

function obj(v: unknown): Obj | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : null;
}

function int(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}
