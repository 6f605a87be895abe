import { watch, type FSWatcher } from "node:fs";

/**
 * The files that changed under a folder since they were last taken, through
 * one recursive `fs.watch` (native on macOS and Windows; on Linux, Node adds a
 * watch per folder, new folders included). Events can still be missed (a
 * queue overflow, a folder created and filled before its watch is set, a
 * network file system): the sync loop rescans the whole home every so often
 * for that.
 */
export class HomeWatcher {
  readonly root: string;
  #watcher: FSWatcher | null = null;
  #changed = new Set<string>();
  #events = 0;
  #wake: (() => void) | null = null;
  #failure: Error | null = null;

  constructor(root: string) {
    this.root = root;
  }

  /** Starts watching; false (with the reason in `failure`) when the folder cannot be watched: a missing one, no watches left. */
  start(): boolean {
    if (this.#watcher) return true;
    try {
      this.#watcher = watch(this.root, { recursive: true, persistent: false }, (_type, name) => {
        // Some platforms report a change without a name: the caller then rescans.
        this.#changed.add(name === null ? "" : name.toString());
        this.#events++;
        this.#wake?.();
      });
    } catch (err) {
      this.#failure = err as Error;
      return false;
    }
    this.#failure = null;
    this.#watcher.on("error", (err) => {
      // The folder went away, or the kernel ran out of watches: events stop, rescans go on.
      this.#failure = err;
      this.#watcher?.close();
      this.#watcher = null;
      this.#wake?.();
    });
    return true;
  }

  get watching(): boolean {
    return this.#watcher !== null;
  }

  /** Why watching stopped or could not start. */
  get failure(): Error | null {
    return this.#failure;
  }

  /** Events seen so far: a burst is over when this stops moving. */
  get events(): number {
    return this.#events;
  }

  /** Whether changes wait to be taken. */
  get hasChanges(): boolean {
    return this.#changed.size > 0;
  }

  /** Resolves at the next change (or error), or at once if changes are pending. */
  changed(): Promise<void> {
    if (this.#changed.size > 0) return Promise.resolve();
    return new Promise((done) => {
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }

  /** Paths (relative to `root`) changed since the last call; `""` stands for a change the platform did not name. */
  take(): string[] {
    const out = [...this.#changed];
    this.#changed.clear();
    return out;
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = null;
    this.#wake?.();
  }
}
