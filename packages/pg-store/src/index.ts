// Public API of @sessionvault/pg-store.
export { PgStore, type PgStoreOptions, type PgPoolOptions } from "./pg-store.js";
export { MIGRATION_TABLE, MIGRATION_LOCK_TABLE } from "./migrations.js";
export { fromUrl } from "./from-url.js";
