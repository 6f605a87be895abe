// Run only by conformance-catches-bugs.test.ts (through its own vitest config):
// the conformance suite against stores with one deliberate bug each.
import { ConflictError, NotFoundError, isSessionId, type AppendOptions, type ListQuery, type SessionStore } from "@sessionvault/core";
import { runStoreConformance } from "@sessionvault/core/conformance";
import { MemoryStore } from "../support/memory-store.js";

class NoPositionCheck extends MemoryStore {
  override async append(id: string, stream: string, _expectedSeq: number, lines: readonly string[], options?: AppendOptions) {
    const current = (await this.streamPositions(id)).find((p) => p.name === stream)?.lines ?? 0;
    return super.append(id, stream, current, lines, options);
  }
}

/** Checks the position, then writes after an await without checking again: two writers can both win. */
class CheckThenAct extends MemoryStore {
  override async append(id: string, stream: string, expectedSeq: number, lines: readonly string[], options?: AppendOptions) {
    const position = async () => (await this.streamPositions(id)).find((p) => p.name === stream)?.lines ?? 0;
    const before = await position();
    if (before !== expectedSeq) throw new ConflictError(`at ${before}`, before);
    await new Promise((r) => setTimeout(r, 2));
    return super.append(id, stream, await position(), lines, options);
  }
}

class DropsCarriageReturn extends MemoryStore {
  override async *readStream(id: string, stream: string, options?: { fromSeq?: number }) {
    for await (const l of super.readStream(id, stream, options)) yield l.replace(/\r$/, "");
  }
}

class IgnoresCursor extends MemoryStore {
  override listSessions(query: ListQuery = {}) {
    return super.listSessions({ ...query, cursor: null });
  }
}

class NoIdCheck extends MemoryStore {
  override async getSession(idOrPrefix: string) {
    if (!/^[0-9a-f-]+$/.test(idOrPrefix)) throw new NotFoundError(`no session ${idOrPrefix}`);
    return super.getSession(idOrPrefix);
  }
}

class IgnoresHold extends MemoryStore {
  override async deleteSession(id: string) {
    await this.setLegalHold(id, false);
    return super.deleteSession(id);
  }
}

class ListsArchived extends MemoryStore {
  override listSessions(query: ListQuery = {}) {
    return super.listSessions({ archived: "all", ...query });
  }
}

class AppendCreatesSessions extends MemoryStore {
  override async append(id: string, stream: string, expectedSeq: number, lines: readonly string[], options?: AppendOptions) {
    if (isSessionId(id)) {
      await this.getSession(id).catch(() =>
        this.putSession({
          id,
          created_at: new Date().toISOString(),
          cwd: null,
          title: null,
          archived: false,
          source: null,
          originator: null,
          cli_version: null,
          model_provider: null,
          git: null,
          parent_id: null,
          forked_from_id: null,
        }),
      );
    }
    return super.append(id, stream, expectedSeq, lines, options);
  }
}

const mutants: Record<string, () => SessionStore> = {
  "no-position-check": () => new NoPositionCheck(),
  "check-then-act": () => new CheckThenAct(),
  "drops-carriage-return": () => new DropsCarriageReturn(),
  "ignores-cursor": () => new IgnoresCursor(),
  "no-id-check": () => new NoIdCheck(),
  "ignores-hold": () => new IgnoresHold(),
  "lists-archived": () => new ListsArchived(),
  "append-creates-sessions": () => new AppendCreatesSessions(),
};

for (const [name, make] of Object.entries(mutants)) runStoreConformance(`mutant:${name}`, { open: async () => make(), supportsSearch: true });
