import { isStorageFull, SessionvaultError, StorageFullError, StoreUnavailableError } from "@sessionvault/core";

/** SQLSTATE classes and codes that mean "the database is not there right now", not "your request was wrong". */
const UNAVAILABLE_STATES = new Set(["57P01", "57P02", "57P03", "53300", "3D000"]);
const UNAVAILABLE_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH"]);

export function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isUnavailable(err: unknown): boolean {
  const code = pgCode(err);
  if (code && (UNAVAILABLE_STATES.has(code) || UNAVAILABLE_ERRNOS.has(code) || code.startsWith("08"))) return true;
  const message = err instanceof Error ? err.message : "";
  return /Connection terminated|connection timeout|Client has encountered a connection error|Connection ended/i.test(message);
}

/**
 * Turns a driver error into a SessionvaultError where we know what it means;
 * `where` names the server without its password.
 */
export function translatePgError(err: unknown, where: string): unknown {
  if (err instanceof SessionvaultError) return err;
  if (isStorageFull(err)) return new StorageFullError(`postgres at ${where} is out of disk space`, { cause: err });
  if (isUnavailable(err)) {
    const message = err instanceof Error ? err.message : String(err);
    return new StoreUnavailableError(`postgres at ${where} is unavailable: ${message}`, { cause: err });
  }
  return err;
}

/** host:port/db of a connection string, for messages (never the password). */
export function describeConnection(connectionString: string): string {
  try {
    const u = new URL(connectionString);
    const host = u.host || u.searchParams.get("host") || "localhost";
    return `${host}${u.pathname}`;
  } catch {
    return "the configured server";
  }
}
