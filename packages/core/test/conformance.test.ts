import { runStoreConformance } from "@sessionvault/core/conformance";
import { MemoryStore } from "./support/memory-store.js";

// The suite proven against the reference store, once with search and once without.
runStoreConformance("memory store", { open: async () => new MemoryStore({ search: true }), supportsSearch: true });
runStoreConformance("memory store without search", { open: async () => new MemoryStore({ search: false }) });
