import { basename } from "node:path";
import { UnsupportedError } from "../errors.js";
import { isClaudeCommand } from "./claude-invocation.js";
import { isCodexCommand } from "./codex-provider.js";

/** The agents `run` knows how to capture and resume. */
export type CaptureAgent = "codex" | "claude-code";

/** Agents sessionvault reads but cannot capture: their model traffic and session ids are not wired up here. */
const UNSUPPORTED: Record<string, string> = { gemini: "Gemini CLI" };

/**
 * Which agent a command line runs: `codex` or `claude-code`, or null for
 * any other program (treated as an OpenAI-compatible client, pointed at the
 * proxy with OPENAI_BASE_URL). A known agent that capture does not support
 * is refused with an UnsupportedError naming the ones it does.
 */
export function captureAgentOf(argv: readonly string[]): CaptureAgent | null {
  if (isCodexCommand(argv)) return "codex";
  if (isClaudeCommand(argv)) return "claude-code";
  const name = UNSUPPORTED[basename(argv[0] ?? "")];
  if (name) throw new UnsupportedError(`${name} (${argv[0]}) is not supported by capture and resume: use codex or claude`);
  return null;
}
