import { describe, expect, it } from "vitest";
import { redactSecrets } from "../src/redact.js";

/** Test credentials are assembled at run time so that no secret-looking literal sits in the repo. */
const j = (...parts: string[]) => parts.join("");

describe("redactSecrets", () => {
  const cases: [string, string, string][] = [
    ["OpenAI project key", `curl -H "x: ${j("sk-", "proj-", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4")}" api`, `curl -H "x: [REDACTED]" api`],
    ["Anthropic key", `export K=${j("sk-", "ant-api03-", "abcdefghijklmnopqrstuv0123")}`, "export K=[REDACTED]"],
    ["GitHub PAT", `git clone https://${j("ghp_", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}@github.com/o/r`, "git clone https://[REDACTED]@github.com/o/r"],
    ["GitHub fine-grained", `gh auth login --with-token ${j("github_pat_", "11ABCDEFG0123456789_abcdefghijklmnop")}`, "gh auth login --with-token [REDACTED]"],
    ["AWS access key id", `aws configure set aws_access_key_id ${j("AKIA", "IOSFODNN7EXAMPLE")}`, "aws configure set aws_access_key_id [REDACTED]"],
    ["Slack bot token", `slack-cli ${j("xoxb-", "123456789012-1234567890123-AbCdEfGhIjKlMnOp")}`, "slack-cli [REDACTED]"],
    [
      "JWT",
      `curl -b "s=${j("eyJ", "hbGciOiJIUzI1NiJ9", ".eyJ", "zdWIiOiIxMjM0NTY3ODkwIn0", ".", "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")}"`,
      'curl -b "s=[REDACTED]"',
    ],
    ["Bearer header", "curl -H 'Authorization: Bearer abc.def-ghi_jkl012345' https://x", "curl -H 'Authorization: Bearer [REDACTED]' https://x"],
    ["x-api-key header", "curl -H 'x-api-key: 0123456789abcdef' https://x", "curl -H 'x-api-key: [REDACTED]' https://x"],
    ["env assignment", "API_KEY=plain-value-123 DB_PASSWORD='p a s s' node app.js", "API_KEY=[REDACTED] DB_PASSWORD=[REDACTED] node app.js"],
    ["export of a token", 'export GITLAB_TOKEN="abc123def456"', "export GITLAB_TOKEN=[REDACTED]"],
    ["--password flag", "mysql -u root --password hunter2 db", "mysql -u root --password [REDACTED] db"],
    ["--token= flag", "deploy --token=abcdef123456 --env prod", "deploy --token=[REDACTED] --env prod"],
    ["password in a URL", "git clone https://alice:s3cr3t@example.com/r.git", "git clone https://alice:[REDACTED]@example.com/r.git"],
    ["postgres URL", "psql postgres://app:pw0rd@db:5432/app", "psql postgres://app:[REDACTED]@db:5432/app"],
    ["JSON field", '{"api_key": "abc123", "model": "gpt"}', '{"api_key": "[REDACTED]", "model": "gpt"}'],
    ["private key", "echo '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----' > k", "echo '[REDACTED]' > k"],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      expect(redactSecrets(input)).toBe(expected);
    });
  }

  it("leaves ordinary commands alone", () => {
    for (const cmd of [
      "ls -la",
      "git status && git diff --stat",
      "printf 'line one\\n' > log.txt && wc -l log.txt",
      "npm test -- --reporter=dot",
      "cat package.json | jq .keywords",
      "curl https://example.com/path?x=1",
      "echo $TOKEN_COUNT",
    ]) {
      expect(redactSecrets(cmd)).toBe(cmd);
    }
  });

  it("is idempotent", () => {
    for (const [, input] of cases) {
      const once = redactSecrets(input);
      expect(redactSecrets(once)).toBe(once);
    }
  });
});
