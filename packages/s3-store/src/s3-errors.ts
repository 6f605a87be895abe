import { IoError, StoreUnavailableError } from "@sessionvault/core";

/**
 * How S3 errors are told apart. The SDK names modelled errors (`NoSuchKey`)
 * but a HEAD or a conditional PUT only has a status code, so both are looked at.
 */
interface SdkErrorLike {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function status(err: unknown): number | undefined {
  return (err as SdkErrorLike | null)?.$metadata?.httpStatusCode;
}

export function isNotFound(err: unknown): boolean {
  const name = (err as SdkErrorLike | null)?.name;
  return name === "NoSuchKey" || name === "NotFound" || status(err) === 404;
}

/** A conditional write lost: the key exists (If-None-Match) or changed (If-Match). */
export function isPreconditionFailed(err: unknown): boolean {
  const name = (err as SdkErrorLike | null)?.name;
  return name === "PreconditionFailed" || status(err) === 412;
}

export function isNoSuchUpload(err: unknown): boolean {
  return (err as SdkErrorLike | null)?.name === "NoSuchUpload";
}

/** S3 answers 409 ConditionalRequestConflict when two conditional writes to one key overlap; retry. */
export function isConditionalConflict(err: unknown): boolean {
  const name = (err as SdkErrorLike | null)?.name;
  return name === "ConditionalRequestConflict" || status(err) === 409;
}

/** Turns whatever the SDK threw (after its own retries) into a store error with the cause attached. */
export function storeError(what: string, err: unknown): Error {
  const s = status(err);
  const message = err instanceof Error ? err.message : String(err);
  if (s === undefined || s >= 500 || (err as SdkErrorLike).name === "TimeoutError") {
    return new StoreUnavailableError(`S3 ${what} failed: ${message}`, { cause: err });
  }
  return new IoError(`S3 ${what} failed (HTTP ${s}): ${message}`, { cause: err });
}
