/** What one race of appenders did, and what the stream holds afterwards. */
export interface RaceFigures {
  /** Appends acknowledged with 200. */
  appends: number;
  /** Lines in those appends. */
  lines: number;
  /** Acknowledged lines missing from the stream. */
  lost: number;
  /** Extra copies of lines in the stream. */
  duplicated: number;
  /** 409 answers (expected: the appenders race for positions). */
  conflicts: number;
  /** Answers other than 200 and 409, e.g. "500 …" (none expected). */
  unexpected: string[];
}

export interface RaceOptions {
  /** Servers to spread the appends over (appender i starts on urls[i % n] and moves on after each answer). */
  urls: string[];
  token: string;
  sessionId: string;
  stream: string;
  appenders: number;
  batches: number;
  linesPerBatch: number;
  /** Runs alongside the appenders until `done()` is true (e.g. archive toggles). */
  alongside?: (done: () => boolean) => Promise<void>;
}

/** Most tries of one batch before the race is declared stuck (each try is one real answer). */
const MAX_TRIES = 500;

/**
 * Appenders race to append numbered lines to one stream at their expected
 * position, over real HTTP: on 409 they move to the position the answer
 * carries; after any other answer they retry the same batch at the same
 * position (a retried append that did land is recognised, never doubled).
 * Then every acknowledged line must be in the stream exactly once.
 */
export async function raceAppends(o: RaceOptions): Promise<RaceFigures> {
  const figures: RaceFigures = { appends: 0, lines: 0, lost: 0, duplicated: 0, conflicts: 0, unexpected: [] };
  const acked = new Set<string>();
  const headers = { authorization: `Bearer ${o.token}`, "content-type": "application/x-ndjson" };
  let running = o.appenders;
  const appender = async (i: number) => {
    let seq = 0;
    let turn = i;
    for (let b = 0; b < o.batches; b++) {
      const lines = Array.from({ length: o.linesPerBatch }, (_, k) => JSON.stringify({ appender: i, batch: b, line: k }));
      for (let tries = 0; ; tries++) {
        if (tries === MAX_TRIES) throw new Error(`appender ${i} batch ${b}: no answer but conflicts after ${MAX_TRIES} tries`);
        const url = o.urls[turn++ % o.urls.length]!;
        const res = await fetch(`${url}/v1/sessions/${o.sessionId}/streams/${o.stream}?expected_seq=${seq}`, {
          method: "POST",
          headers,
          body: lines.map((l) => l + "\n").join(""),
        });
        const text = await res.text();
        if (res.status === 200) {
          seq = (JSON.parse(text) as { seq: number }).seq;
          figures.appends++;
          figures.lines += lines.length;
          for (const l of lines) acked.add(l);
          break;
        }
        if (res.status === 409) {
          figures.conflicts++;
          seq = (JSON.parse(text) as { current_seq: number }).current_seq;
        } else {
          figures.unexpected.push(`${res.status} ${text.slice(0, 200)}`);
        }
      }
    }
  };
  const all = Promise.all(Array.from({ length: o.appenders }, (_, i) => appender(i).finally(() => running--)));
  await Promise.all([all, o.alongside?.(() => running === 0)]);

  const res = await fetch(`${o.urls[0]}/v1/sessions/${o.sessionId}/streams/${o.stream}`, { headers: { authorization: `Bearer ${o.token}` } });
  if (res.status !== 200) throw new Error(`reading the stream back: ${res.status} ${await res.text()}`);
  const stored = new Map<string, number>();
  for (const l of (await res.text()).split("\n").slice(0, -1)) stored.set(l, (stored.get(l) ?? 0) + 1);
  for (const l of acked) if (!stored.has(l)) figures.lost++;
  for (const n of stored.values()) if (n > 1) figures.duplicated += n - 1;
  return figures;
}
