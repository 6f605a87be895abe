import { assertSlug, NotFoundError } from "@sessionvault/core/store-api";
import type { RawStreamSource } from "@sessionvault/fs-store";
import { linesAsChunks, writeAll, type CliContext } from "../io.js";
import { openSessionStore } from "../stores.js";

export interface CatOptions {
  stream?: string;
  store?: string;
  /** One JSON object per line, `{"seq", "line"}`, for lines that are not JSON themselves (debug logs). */
  json?: boolean;
}

/**
 * `sessionvault cat ID`: the raw bytes of a stream (default the rollout),
 * streamed: byte-identical to the committed file, whatever its size. Stores
 * that hold files hand out their bytes directly; others give lines.
 */
export async function cat(id: string, options: CatOptions, ctx: CliContext): Promise<void> {
  const name = assertSlug(options.stream ?? "rollout", "stream name");
  const store = await openSessionStore(ctx, options.store, id);
  try {
    const session = await store.getSession(id);
    if (name !== "rollout" && !session.streams.some((s) => s.name === name)) {
      throw new NotFoundError(`session ${session.id} has no stream "${name}" (it has: ${session.streams.map((s) => s.name).join(", ")})`);
    }
    const raw = store.driver as Partial<RawStreamSource>;
    if (!options.json && typeof raw.readStreamBytes === "function") {
      await writeAll(ctx.stdout, raw.readStreamBytes(session.id, name));
      return;
    }
    const lines = store.readStream(session.id, name);
    await writeAll(ctx.stdout, linesAsChunks(options.json ? numbered(lines) : lines));
  } finally {
    await store.close();
  }
}

async function* numbered(lines: AsyncIterable<string>): AsyncGenerator<string> {
  let seq = 0;
  for await (const line of lines) yield JSON.stringify({ seq: seq++, line });
}
