/**
 * Codex injects context into the conversation as user messages (environment,
 * AGENTS.md, instructions, notifications, the marker of an interrupted turn).
 * They are not what the person typed: they never start a turn, never become
 * a title, and are not shown as the user's words. This is the one list.
 */
const INJECTED_PREFIXES = [
  "<environment_context>",
  "<user_instructions>",
  "<user_shell_command>",
  "<turn_aborted>",
  "<subagent_notification>",
  "<skills_instructions>",
  "<permissions instructions>",
  "<collaboration_mode>",
  "<INSTRUCTIONS>",
  "# AGENTS.md instructions",
];

export function isInjectedUserText(text: string): boolean {
  const t = text.trimStart();
  return INJECTED_PREFIXES.some((p) => t.startsWith(p));
}

const CWD_TAG = /<cwd>([^<]*)<\/cwd>/;

/** The cwd in an `<environment_context>` message (the only place bare-line builds record it). */
export function cwdFromEnvironmentContext(text: string): string | null {
  if (!text.trimStart().startsWith("<environment_context>")) return null;
  const m = CWD_TAG.exec(text);
  return m && m[1] !== "" ? m[1]!.trim() : null;
}
