import type { FromUrlOptions } from "@sessionvault/core";
import { HttpStore } from "./http-store.js";

/**
 * `http://host:port` or `https://…` (see README "Store URL"): the archive
 * server. The bearer token is `SESSIONVAULT_TOKEN` from `env`; the org is the
 * token's, so `options.org` is not used.
 */
export function fromUrl(url: URL, options: FromUrlOptions = {}): HttpStore {
  const token = options.env?.SESSIONVAULT_TOKEN;
  return new HttpStore({ baseUrl: url.href, ...(token ? { token } : {}), ...(options.unredacted ? { unredacted: true } : {}) });
}
