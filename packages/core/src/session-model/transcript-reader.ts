import type { LineWarning, RawLine } from "../jsonl-reader.js";
import type { SessionEvent } from "./session-event.js";

/**
 * What an agent's reader implements (one per agent, in `agents/<name>/`):
 * it is fed the transcript's lines in order and hands out model events once
 * they are final. It never throws on content; bad lines are warnings.
 */
export interface TranscriptReader {
  push(text: string, lineNo: number): void;
  /** The transcript ends here (for now: a live session may grow). */
  finish(): void;
  /** Events that became final since the last call, in transcript order. */
  take(): SessionEvent[];
}

export interface TranscriptReaderOptions {
  /**
   * Keep message, reasoning and output texts and per-file diffs (default
   * false). Without text a reader may skip records that can only carry text
   * without parsing them, which is what makes an actions export fast.
   */
  text?: boolean;
  /** Read token usage (default: as `text`); the session facts need it, an actions export does not. */
  usage?: boolean;
  /** Texts longer than this are cut (default 100 000 characters). */
  maxTextChars?: number;
  /** Calls held back for merging before the oldest is forced out (default 512). */
  maxPending?: number;
  onWarning?: (warning: LineWarning) => void;
}

/** Streams a transcript's lines through `reader`; memory stays bounded by the reader's pending window. */
export async function* readTranscript(lines: AsyncIterable<string | RawLine>, reader: TranscriptReader): AsyncGenerator<SessionEvent> {
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (typeof line === "string") reader.push(line, lineNo);
    else reader.push(line.text, line.lineNo);
    const out = reader.take();
    if (out.length > 0) yield* out;
  }
  reader.finish();
  yield* reader.take();
}
