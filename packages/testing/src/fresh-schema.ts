import { randomBytes } from "node:crypto";

/** A schema name no other test uses, so every case starts from an empty store. */
export function freshSchema(prefix = "t"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}
