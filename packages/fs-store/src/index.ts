export { FsStore, type FsStoreOptions, type RawStreamSource, type UnreadableSession } from "./fs-store.js";
