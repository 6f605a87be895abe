/**
 * Shares identical reads between concurrent requests without serving
 * anything staler than a fresh read: a request that arrives while the same
 * read is running does not join it (that read may have started before the
 * request's own earlier write), it joins the *next* run, which starts when
 * the current one ends and is shared by everyone who arrived meanwhile. So
 * N identical list requests cost at most two reads at a time, and every
 * answer still comes from a read that started after its request arrived.
 */
export class CoalescedReads<T> {
  readonly #slots = new Map<string, { running: Promise<T>; next: Promise<T> | null }>();

  read(key: string, run: () => Promise<T>): Promise<T> {
    const slot = this.#slots.get(key);
    if (!slot) return this.#start(key, run);
    slot.next ??= slot.running.then(
      () => this.#start(key, run),
      () => this.#start(key, run),
    );
    return slot.next;
  }

  #start(key: string, run: () => Promise<T>): Promise<T> {
    const running = run();
    this.#slots.set(key, { running, next: null });
    const done = () => {
      if (this.#slots.get(key)?.running === running && this.#slots.get(key)?.next === null) this.#slots.delete(key);
    };
    running.then(done, done);
    return running;
  }
}
