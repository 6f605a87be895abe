export { FsStore, type FsStoreOptions, type RawStreamSource } from "./fs-store.js";
