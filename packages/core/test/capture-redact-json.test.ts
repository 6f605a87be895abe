import { describe, expect, it } from "vitest";
import { redactBody, redactJson } from "../src/capture/redact-exchange.js";

/** Test credentials are assembled at run time so that no secret-looking literal sits in the repo. */
const j = (...parts: string[]) => parts.join("");
const KEY = j("sk-", "proj-", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4");

describe("redactJson", () => {
  it("returns the value itself when nothing needs redacting", () => {
    const event = JSON.parse('{"type":"response.output_text.delta","seq":3,"delta":"the token budget","items":[{"a":[1,null,true,"x"]}]}');
    expect(redactJson(event)).toBe(event);
  });

  it("copies only the path to what changed and never touches the input", () => {
    const input = {
      model: "m",
      input: [
        { role: "user", content: [{ text: `use ${KEY}` }] },
        { role: "user", content: [{ text: "fine" }] },
      ],
      meta: { api_key: "plain" },
    };
    const before = structuredClone(input);
    const out = redactJson(input) as typeof input;
    expect(input).toEqual(before);
    expect(out.input[0]!.content[0]!.text).toBe("use [REDACTED]");
    expect(out.meta.api_key).toBe("[REDACTED]");
    // Unchanged siblings are shared, changed parents are new.
    expect(out.input[1]).toBe(input.input[1]);
    expect(out.input).not.toBe(input.input);
    expect(out).not.toBe(input);
  });

  it("redacts under a __proto__ key as under any other (no prototype trick keeps the original)", () => {
    const body = `{"__proto__":{"password":"hunter2","note":"${KEY}"},"x":1}`;
    const out = redactBody(body);
    const line = JSON.stringify(out);
    expect(line).not.toContain("hunter2");
    expect(line).not.toContain(KEY);
    expect(line).toContain('"__proto__":{"password":"[REDACTED]","note":"[REDACTED]"}');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it("redacts a key hidden behind JSON escapes (checked after parsing)", () => {
    const escaped = KEY.replace("s", "\\u0073");
    expect(JSON.stringify(redactBody(`{"text":"key ${escaped}"}`))).toBe('{"text":"key [REDACTED]"}');
  });
});
