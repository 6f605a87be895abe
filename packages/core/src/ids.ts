import { InvalidIdError } from "./errors.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ID_PREFIX = /^[0-9a-f-]{8,36}$/;
const SLUG = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const MIN_ID_PREFIX = 8;

export function isSessionId(value: string): boolean {
  return UUID.test(value);
}

/** Throws unless `value` is a full lower-case session UUID. */
export function assertSessionId(value: string): string {
  if (!UUID.test(value)) throw new InvalidIdError(`invalid session id ${JSON.stringify(value)}: expected a UUID`);
  return value;
}

/**
 * Throws unless `value` can name a session: a full UUID or a prefix of at
 * least 8 characters. Anything with `/`, `.` or other path characters is
 * refused here, before it can reach a file name or an object key.
 */
export function assertIdOrPrefix(value: string): string {
  const v = value.toLowerCase();
  if (!ID_PREFIX.test(v)) {
    throw new InvalidIdError(`invalid session id ${JSON.stringify(value)}: expected a UUID or a prefix of at least ${MIN_ID_PREFIX} hex characters`);
  }
  return v;
}

/** Stream names, state slots, org names: a safe slug, never a path. */
export function assertSlug(value: string, what: string): string {
  if (!SLUG.test(value)) {
    throw new InvalidIdError(`invalid ${what} ${JSON.stringify(value)}: use lower-case letters, digits, '.', '_' and '-' (max 64, not starting with '.')`);
  }
  return value;
}
