import { isRolloutLine, type RolloutLine } from "../codex/rollout-line.js";
import type { MetaEvent } from "./session-recorder.js";

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * The meta events (approvals, denials, cancellations, interrupts, errors)
 * that one rollout line records. Codex has no separate log for them; they
 * are in the transcript in version-specific shapes (DESIGN.md §4), so the
 * recorder follows the rollout and files them in `session_meta.log`.
 */
export function metaEventsFromRolloutLine(value: unknown): MetaEvent[] {
  if (!isRolloutLine(value)) return [];
  const line = value as RolloutLine<string, Obj>;
  const p = line.payload;
  const at = { rollout_timestamp: line.timestamp };
  if (line.type === "event_msg") {
    const t = str(p.type);
    const turn = str(p.turn_id) ?? null;
    switch (t) {
      case "turn_aborted": {
        const reason = str(p.reason) ?? "unknown";
        return [{ type: reason === "interrupted" ? "interrupted" : "cancelled", reason, turn_id: turn, ...at }];
      }
      case "exec_approval_request":
      case "apply_patch_approval_request":
      case "request_permissions":
      case "elicitation_request":
        return [
          { type: "approval_request", kind: t, call_id: str(p.call_id) ?? null, command: p.command ?? null, reason: p.reason ?? null, turn_id: turn, ...at },
        ];
      case "exec_approval_decision":
      case "approval_decision":
        return [{ type: "approval_decision", kind: t, call_id: str(p.call_id) ?? null, decision: p.decision ?? null, turn_id: turn, ...at }];
      case "error":
      case "stream_error":
        return [{ type: "error", kind: t, message: str(p.message) ?? null, turn_id: turn, ...at }];
      case "task_complete":
      case "turn_complete":
        return p.error ? [{ type: "error", kind: t, message: str((p.error as Obj).message) ?? JSON.stringify(p.error), turn_id: turn, ...at }] : [];
      case "item_completed": {
        const item = (p.item ?? {}) as Obj;
        const status = str(item.status)?.toLowerCase();
        if (status === "declined" || status === "denied" || status === "rejected") {
          return [{ type: "denied", item_type: str(item.type) ?? null, call_id: str(item.id) ?? null, command: item.command ?? null, turn_id: turn, ...at }];
        }
        return [];
      }
      default:
        return [];
    }
  }
  if (line.type === "response_item" && (p.type === "function_call_output" || p.type === "custom_tool_call_output")) {
    const out = p.output;
    const text = typeof out === "string" ? out : typeof (out as Obj | undefined)?.content === "string" ? ((out as Obj).content as string) : "";
    // Codex's wording when the user or the policy refused a command or patch.
    if (/\b(rejected by user|declined by user|user denied|was not approved)\b/i.test(text.slice(0, 500))) {
      return [{ type: "denied", call_id: str(p.call_id) ?? null, message: text.slice(0, 200), ...at }];
    }
  }
  return [];
}
