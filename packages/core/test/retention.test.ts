import { describe, expect, test } from "vitest";
import { DAY_MS, InvalidInputError, formatDuration, parseDuration, validateRetentionPolicy } from "../src/index.js";

describe("parseDuration", () => {
  test.each([
    ["30d", 30 * DAY_MS],
    ["12h", 12 * 3_600_000],
    ["2w", 14 * DAY_MS],
    ["90m", 90 * 60_000],
    ["45s", 45_000],
    ["1d12h", 36 * 3_600_000],
    [" 7d ", 7 * DAY_MS],
  ])("%s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(["", "30", "d", "-3d", "1.5d", "3 days", "10y", "1d-2h", "9".repeat(30) + "w"])("refuses %j", (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidInputError);
  });

  test("formatDuration picks the largest exact unit", () => {
    expect(formatDuration(14 * DAY_MS)).toBe("2w");
    expect(formatDuration(30 * DAY_MS)).toBe("30d");
    expect(formatDuration(36 * 3_600_000)).toBe("36h");
    expect(formatDuration(1500)).toBe("2s");
  });
});

describe("validateRetentionPolicy", () => {
  const base = { name: "org", defaultTtlMs: 30 * DAY_MS, graceMs: 7 * DAY_MS, minTtlMs: DAY_MS, maxTtlMs: 365 * DAY_MS };

  test("accepts a policy within its bounds", () => {
    expect(validateRetentionPolicy({ ...base, streamTtlsMs: { "raw-api": 7 * DAY_MS } })).toMatchObject({ name: "org" });
  });

  test("refuses TTLs below the minimum or above the maximum, naming the stream", () => {
    expect(() => validateRetentionPolicy({ ...base, defaultTtlMs: 12 * 3_600_000 })).toThrow(/below the minimum 1d/);
    expect(() => validateRetentionPolicy({ ...base, defaultTtlMs: 400 * DAY_MS })).toThrow(/above the maximum/);
    expect(() => validateRetentionPolicy({ ...base, streamTtlsMs: { "raw-api": 60_000 } })).toThrow(/stream raw-api/);
  });

  test("refuses a rollout TTL (the rollout is the session), negative values, bad names and crossed bounds", () => {
    expect(() => validateRetentionPolicy({ ...base, streamTtlsMs: { rollout: DAY_MS * 2 } })).toThrow(InvalidInputError);
    expect(() => validateRetentionPolicy({ ...base, graceMs: -1 })).toThrow(InvalidInputError);
    expect(() => validateRetentionPolicy({ ...base, defaultTtlMs: Number.NaN })).toThrow(InvalidInputError);
    expect(() => validateRetentionPolicy({ ...base, name: "../x" })).toThrow(InvalidInputError);
    expect(() => validateRetentionPolicy({ ...base, minTtlMs: 10 * DAY_MS, maxTtlMs: DAY_MS })).toThrow(InvalidInputError);
  });
});
