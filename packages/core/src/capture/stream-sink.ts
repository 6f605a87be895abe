/**
 * Where a SessionRecorder's lines go: the files of a session directory
 * (`DirectorySink`) or any SessionStore (`StoreSink`). `append` keeps call
 * order per stream; lines never contain "\n".
 */
export interface StreamSink {
  append(stream: string, lines: readonly string[]): Promise<void>;
  /** Makes everything appended durable and releases handles. */
  close(): Promise<void>;
  /** Removes what this sink created (after a failure, so no partial files stay behind). */
  discard(): Promise<void>;
}
