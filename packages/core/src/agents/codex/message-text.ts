/**
 * The text of a Codex message's `content`: a string, or parts each with a
 * `text` (`input_text`, `output_text`, `summary_text`, a UserMessage's
 * `text`), joined by newlines. "" when there is none.
 */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const parts: string[] = [];
  for (const c of content) if (c && typeof c === "object" && typeof (c as { text?: unknown }).text === "string") parts.push((c as { text: string }).text);
  return parts.join("\n");
}
