import type { MetaEvent } from "./session-recorder.js";

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined);

/**
 * Claude Code's wording when it refused a tool call for want of a permission
 * (`-p` runs cannot ask): "… needs approval. …" (2.1.332), "Claude requested
 * permissions to use X, but you haven't granted it yet." (earlier builds).
 * "The user doesn't want to proceed with this tool use" is not one: 2.1.332
 * writes it for an interrupted tool call too, followed by the interrupt line.
 */
const DENIED = /\bneeds approval\b|requested permissions to use|haven't granted it yet/i;
const INTERRUPTED = /^\[Request interrupted by user/;

/**
 * The meta events one Claude Code transcript line records. Claude Code
 * writes interrupts (`[Request interrupted by user…]`), API errors
 * (`isApiErrorMessage`, 2.1.x `system` `api_error` per retry) and tool
 * calls it refused for want of a permission (a `tool_result` in its own
 * wording) into the transcript. It writes no record of a permission prompt
 * or of the answer given to it, so there is no `approval_request` /
 * `approval_decision` to file; a refusal at the interactive prompt looks
 * like an interrupted tool call there and is filed as `interrupted`.
 */
export function metaEventsFromClaudeLine(value: unknown): MetaEvent[] {
  const r = obj(value);
  if (!r) return [];
  const at = { rollout_timestamp: str(r.timestamp) ?? null };
  const message = obj(r.message);
  if (r.type === "system" && r.subtype === "api_error") {
    const err = obj(r.error);
    return [
      {
        type: "error",
        kind: "api_error",
        status: typeof err?.status === "number" ? err.status : null,
        message: str(err?.formatted) ?? str(err?.message) ?? null,
        retry_attempt: typeof r.retryAttempt === "number" ? r.retryAttempt : null,
        ...at,
      },
    ];
  }
  if (r.type === "assistant" && r.isApiErrorMessage === true) {
    return [{ type: "error", kind: "api_error_message", message: textOf(message?.content)?.slice(0, 500) ?? null, ...at }];
  }
  if (r.type !== "user" || !message) return [];
  const content = message.content;
  const text = textOf(content);
  if (text !== undefined && INTERRUPTED.test(text)) return [{ type: "interrupted", reason: text.slice(1, text.indexOf("]")), ...at }];
  if (!Array.isArray(content)) return [];
  const out: MetaEvent[] = [];
  for (const block of content) {
    const b = obj(block);
    if (b?.type !== "tool_result" || b.is_error !== true) continue;
    const result = textOf(b.content) ?? "";
    if (DENIED.test(result.slice(0, 500))) out.push({ type: "denied", call_id: str(b.tool_use_id) ?? null, message: result.slice(0, 200), ...at });
  }
  return out;
}

/** A message's text: the string itself, or its text blocks joined. */
function textOf(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  const parts = content.map((b) => (obj(b)?.type === "text" ? str(obj(b)!.text) : undefined)).filter((t): t is string => t !== undefined);
  return parts.length ? parts.join("\n") : undefined;
}
