#!/usr/bin/env bash
# Regenerates 0.169.0/statuses.rollout.jsonl: ONE real Codex session (the real
# Codex CLI from apps/cli's devDependencies, driven by the codex harness's
# scripted mock of the Responses API) holding every status the actions export
# must get right:
#   turn 1  `fail` script: commands exiting 3 and 42, apply_patch on a missing file (rejected)
#   turn 2  `codex exec resume ID`, `turn2` script: apply_patch + shell, both succeed
#   turn 3  `codex exec resume ID`, `interrupt` script: `sleep 25`, SIGINT while it runs
# Usage: make-statuses-session.sh   (run from anywhere; needs ../shared/codex-harness beside the repo)
# The golden test's expectations were written by hand from the file this produced;
# regenerating changes ids and timestamps, so update the test's expectations with it.
set -euo pipefail
set -m # own process group per background job, so SIGINT reaches codex like a Ctrl-C
REPO=$(cd "$(dirname "$0")/../../../.." && pwd)
HARNESS=$REPO/../shared/codex-harness
CODEX=$REPO/apps/cli/node_modules/.bin/codex
RUN=$(mktemp -d /tmp/sv-statuses.XXXXXX)
export CODEX_HOME=$RUN/codex-home
mkdir -p "$CODEX_HOME" "$RUN/home" "$RUN/work/statuses"
node "$HARNESS/mock-responses.mjs" --port 0 --port-file "$RUN/port" --log "$RUN/mock.log" >"$RUN/mock.out" 2>&1 &
MOCK=$!
trap 'kill $MOCK 2>/dev/null || true; rm -rf "$RUN"' EXIT
for _ in $(seq 1 100); do [ -s "$RUN/port" ] && break; sleep 0.1; done
PORT=$(cat "$RUN/port")
cat > "$CODEX_HOME/config.toml" <<CFG
model = "gpt-5.5"
model_provider = "mock"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false
[analytics]
enabled = false
[feedback]
enabled = false
[model_providers.mock]
name = "Local mock Responses API"
base_url = "http://127.0.0.1:$PORT/v1"
wire_api = "responses"
env_key = "MOCK_API_KEY"
request_max_retries = 0
stream_max_retries = 0
CFG
W=$RUN/work/statuses
printf 'line one\n' > "$W/log.txt" # turn 2's patch adds a second line to it
cx() {
  local sc=$1; shift
  (cd "$W" && exec env -i PATH="$PATH" HOME="$RUN/home" USER=root SHELL=/bin/bash LANG=C.UTF-8 TERM=dumb \
    CODEX_HOME="$CODEX_HOME" MOCK_API_KEY=mock-key-not-secret \
    "$CODEX" exec --json --skip-git-repo-check -c "model_providers.mock.base_url=\"http://127.0.0.1:$PORT/s/$sc/v1\"" "$@")
}
cx fail "Run the checks (they may fail) and tell me what happened." >"$RUN/t1.jsonl" 2>"$RUN/t1.err" || true
ID=$(sed -n 's/.*"type":"thread.started","thread_id":"\([^"]*\)".*/\1/p' "$RUN/t1.jsonl" | head -1)
cx turn2 resume "$ID" "Now add a second line to log.txt." >"$RUN/t2.jsonl" 2>"$RUN/t2.err" || true
cx interrupt resume "$ID" "Run the slow build." >"$RUN/t3.jsonl" 2>"$RUN/t3.err" &
pid=$!
for _ in $(seq 1 100); do grep -q '"scenario":"interrupt"' "$RUN/mock.log" 2>/dev/null && break; sleep 0.1; done
sleep 1.5
kill -INT -- "-$pid" || true
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid" || true
cp "$(find "$CODEX_HOME/sessions" -name "rollout-*-$ID.jsonl")" "$(dirname "$0")/0.169.0/statuses.rollout.jsonl"
echo "wrote 0.169.0/statuses.rollout.jsonl (thread $ID)"
