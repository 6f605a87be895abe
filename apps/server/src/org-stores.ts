import type { OpenedStore } from "@sessionvault/core";

/**
 * One store per org, opened on first use and kept: every query of a request
 * goes to the store of its token's org, so orgs cannot see each other.
 */
export class OrgStores {
  readonly #open: (org: string) => OpenedStore;
  readonly #stores = new Map<string, OpenedStore>();

  constructor(open: (org: string) => OpenedStore) {
    this.#open = open;
  }

  get(org: string): OpenedStore {
    let store = this.#stores.get(org);
    if (!store) {
      store = this.#open(org);
      this.#stores.set(org, store);
    }
    return store;
  }

  async closeAll(): Promise<void> {
    const stores = [...this.#stores.values()];
    this.#stores.clear();
    await Promise.allSettled(stores.map((s) => s.close()));
  }
}
