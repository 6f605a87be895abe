// Public API of @sessionvault/s3-store.
export { S3Store, type S3StoreOptions } from "./s3-store.js";
export { bucketLifecycleConfiguration } from "./lifecycle.js";
export { fromUrl } from "./from-url.js";
