/**
 * The time of a rollout line, for a session's `updated_at` (and so for
 * retention): the envelope's `timestamp`, which Codex always writes as the
 * first key. Only the head of the line is looked at, so a huge line costs
 * nothing; a timestamp nested deeper (a payload's, a bare-line build's meta)
 * is not the line's time. Normalised to `toISOString()` so every store keeps
 * the same value for the same line. Null for lines without one (bare-line
 * builds record no per-line time).
 */
const HEAD = /^\uFEFF?\s*\{\s*"timestamp"\s*:\s*"([^"\\]{10,40})"/;

export function lineTimestamp(text: string): string | null {
  const m = HEAD.exec(text.length > 256 ? text.slice(0, 256) : text);
  if (!m) return null;
  const t = Date.parse(m[1]!);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}
