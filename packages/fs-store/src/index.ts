export { FsStore, type FsStoreOptions, type RawStreamSource, type UnreadableSession } from "./fs-store.js";
export { fromUrl, summaryCachePath } from "./from-url.js";
