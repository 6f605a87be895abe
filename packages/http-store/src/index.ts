// Public API of @sessionvault/http-store.
export { HttpStore, type HttpStoreOptions } from "./http-store.js";
export { fromUrl } from "./from-url.js";
