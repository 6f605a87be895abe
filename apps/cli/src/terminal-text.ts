/**
 * Stored text (titles, directories, transcripts, messages quoting them) is
 * written by whoever made the session, and a terminal obeys control
 * characters in it: `ESC ] 0 ; … BEL` retitles the window, `ESC [ 2 J` clears
 * it, OSC 52 writes the clipboard, a lone CR overwrites what was printed.
 * Every output of the CLI that prints stored text for people goes through
 * `terminalSafe`, which shows such characters as `\x1b`-style escapes:
 * C0 controls except tab and newline, DEL, the C1 controls (U+0080–U+009F,
 * which some terminals take as CSI/OSC too), and the bidirectional
 * overrides that reorder what is shown (U+202A–U+202E, U+2066–U+2069).
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** Each chunk made terminal-safe (a transcript streamed to a terminal or to a file read in one). */
export async function* terminalSafeChunks(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const chunk of chunks) yield terminalSafe(chunk);
}
