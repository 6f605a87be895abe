import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isCodexCommand, parseCodexInvocation, resolveCodexProvider, routeCodexThroughProxy } from "@sessionvault/core";

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "sv-codex-home-"));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const HARNESS_CONFIG = `model = "gpt-5.5"
model_provider = "mock"
[model_providers.mock]
name = "Local mock Responses API"
base_url = "http://127.0.0.1:4000/v1"
wire_api = "responses"
env_key = "MOCK_API_KEY"
[profiles.work]
model_provider = "azure"
[model_providers.azure]
base_url = "https://example.openai.azure.com/openai"
`;

describe("Codex provider routing", () => {
  it("reads the provider and base_url from config.toml, -c overrides and profiles", async () => {
    await writeFile(join(home, "config.toml"), HARNESS_CONFIG);
    expect(await resolveCodexProvider(home, ["codex", "exec", "hi"], {})).toEqual({
      providerId: "mock",
      upstream: "http://127.0.0.1:4000/v1",
      via: "config",
      configKey: "model_providers.mock.base_url",
    });
    const withOverride = ["codex", "exec", "--json", "-c", 'model_providers.mock.base_url="http://127.0.0.1:5000/s/qa/v1"', "hi"];
    expect((await resolveCodexProvider(home, withOverride, {})).upstream).toBe("http://127.0.0.1:5000/s/qa/v1");
    expect(await resolveCodexProvider(home, ["codex", "--profile", "work", "exec", "x"], {})).toMatchObject({
      providerId: "azure",
      upstream: "https://example.openai.azure.com/openai",
    });
    expect(await resolveCodexProvider(home, ["codex", "exec", "-c", "model_provider=openai", "x"], { OPENAI_BASE_URL: "http://corp-gw/v1" })).toEqual({
      providerId: "openai",
      upstream: "http://corp-gw/v1",
      via: "env",
      configKey: "openai_base_url",
    });
    expect(
      (
        await resolveCodexProvider(home, ["codex", "-c", "model_provider=openai", "-c", 'openai_base_url="http://cfg-gw/v1"'], {
          OPENAI_BASE_URL: "http://corp-gw/v1",
        })
      ).upstream,
    ).toBe("http://cfg-gw/v1");
  });

  it("defaults to the built-in openai provider without a config, and refuses a broken config", async () => {
    expect(await resolveCodexProvider(home, ["codex"], {})).toEqual({
      providerId: "openai",
      upstream: "https://api.openai.com/v1",
      via: "env",
      configKey: "openai_base_url",
    });
    await writeFile(join(home, "config.toml"), "model_provider = \n[[[");
    await expect(resolveCodexProvider(home, ["codex"], {})).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await writeFile(join(home, "config.toml"), 'model_provider = "nowhere"');
    await expect(resolveCodexProvider(home, ["codex"], {})).rejects.toThrow(/no base_url/);
  });

  it("sends the built-in openai provider to the ChatGPT backend when the user signed in with ChatGPT", async () => {
    await writeFile(join(home, "auth.json"), JSON.stringify({ OPENAI_API_KEY: null, tokens: { id_token: "x", access_token: "y" } }));
    expect((await resolveCodexProvider(home, ["codex"], {})).upstream).toBe("https://chatgpt.com/backend-api/codex");
    expect((await resolveCodexProvider(home, ["codex"], { CODEX_API_KEY: "k" })).upstream).toBe("https://api.openai.com/v1");
    expect((await resolveCodexProvider(home, ["codex"], { OPENAI_BASE_URL: "http://gw/v1" })).upstream).toBe("http://gw/v1");
    await writeFile(join(home, "auth.json"), JSON.stringify({ auth_mode: "apikey", OPENAI_API_KEY: "sk-x", tokens: null }));
    expect((await resolveCodexProvider(home, ["codex"], {})).upstream).toBe("https://api.openai.com/v1");
  });

  it("replaces the user's base_url override with the proxy's and leaves everything else in place", () => {
    const route = { providerId: "mock", upstream: "http://127.0.0.1:5000/s/qa/v1", via: "config" as const, configKey: "model_providers.mock.base_url" };
    const argv = [
      "/x/codex",
      "exec",
      "--json",
      "-c",
      'model_providers.mock.base_url="http://127.0.0.1:5000/s/qa/v1"',
      "--config=model=gpt-5.5",
      "resume",
      "--last",
      "go on",
    ];
    const out = routeCodexThroughProxy(argv, { A: "1" }, route, "http://127.0.0.1:7777");
    expect(out.argv).toEqual([
      "/x/codex",
      "-c",
      'model_providers.mock.base_url="http://127.0.0.1:7777"',
      "exec",
      "--json",
      "--config=model=gpt-5.5",
      "resume",
      "--last",
      "go on",
    ]);
    expect(out.env).toEqual({ A: "1" });
    const env = routeCodexThroughProxy(["codex"], { A: "1" }, { providerId: "openai", upstream: "u", via: "env" }, "http://127.0.0.1:7777");
    expect(env).toEqual({ argv: ["codex"], env: { A: "1", OPENAI_BASE_URL: "http://127.0.0.1:7777" } });
    const both = routeCodexThroughProxy(
      ["codex", "-c", 'openai_base_url="http://x"', "exec", "hi"],
      {},
      { providerId: "openai", upstream: "http://x", via: "env", configKey: "openai_base_url" },
      "http://127.0.0.1:7777",
    );
    expect(both).toEqual({ argv: ["codex", "-c", 'openai_base_url="http://127.0.0.1:7777"', "exec", "hi"], env: { OPENAI_BASE_URL: "http://127.0.0.1:7777" } });
  });

  it("recognises codex command lines, their subcommand and a resumed session id", () => {
    expect(isCodexCommand(["/repo/apps/cli/node_modules/.bin/codex", "exec"])).toBe(true);
    expect(isCodexCommand(["python3", "agent.py"])).toBe(false);
    expect(parseCodexInvocation(["codex"])).toMatchObject({ subcommand: null, resume: false });
    expect(parseCodexInvocation(["codex", "-c", "x=1", "exec", "--json", "hi"])).toMatchObject({ subcommand: "exec", resume: false, resumeId: null });
    expect(parseCodexInvocation(["codex", "exec", "-c", "a=b", "resume", "01A1FD82-54C7-72F2-8C3E-D68BACF1C447", "more"])).toMatchObject({
      subcommand: "exec",
      resume: true,
      resumeId: "01a1fd82-54c7-72f2-8c3e-d68bacf1c447",
    });
    expect(parseCodexInvocation(["codex", "exec", "resume", "--last", "more"])).toMatchObject({ resume: true, resumeId: null });
    expect(parseCodexInvocation(["codex", "resume", "01a1fd82-54c7-72f2-8c3e-d68bacf1c447"])).toMatchObject({ subcommand: "resume", resume: true });
  });
});
