import { redactSummary } from "@sessionvault/core";
import type { SessionDetail, SessionFacts, SessionOutcome } from "@sessionvault/core";
import { html, type SafeHtml } from "./html.js";
import { csrfField, layout } from "./layout.js";
import { renderMarkdown } from "./markdown.js";
import { formatDuration, formatTime } from "./list-page.js";
import type { FileDiff, TimelineItem, TimelinePage, TokenUsage, Turn } from "./timeline.js";

export interface SessionPageInput {
  org: string;
  /** The login may manage tokens (the header links to them). */
  admin?: boolean;
  /** For the logout form. */
  csrf: string;
  session: SessionDetail & SessionFacts;
  timeline: TimelinePage;
  page: number;
  turnsPerPage: number;
  /** The outcomes of the sessions this one links to (its parent and sub-agents), by id; missing when not archived. */
  related?: Record<string, SessionOutcome>;
  /** Shown through a share link: read-only, no links to anything else, no downloads, no login chrome. */
  share?: { secret: string; expiresAt: string };
}

/** A link to another session, or just its id where the reader may see nothing else (a share link). */
type SessionRef = (id: string) => SafeHtml;

export function sessionPage(input: SessionPageInput): string {
  const { timeline, page } = input;
  const s = redactSummary(input.session);
  const share = input.share;
  const base = share ? `/s/${share.secret}` : `/sessions/${s.id}`;
  const related = input.related ?? {};
  const ref: SessionRef = share
    ? (id) => html`<code>${id}</code>`
    : (id) => {
        const outcome = related[id];
        return html`<a class="session-ref" href="/sessions/${id}">${id}</a>${outcome ? html` <span class="outcome outcome-${outcome}">${outcome.replace("_", " ")}</span>` : ""}`;
      };
  const body = html`<article class="session"${share ? "" : html` data-live="${base}/events"`}>
  <header class="session-head">
    ${
      share
        ? html`<p class="notice shared-banner">A read-only shared view of one session (secrets redacted). The link works until <time datetime="${share.expiresAt}">${formatTime(share.expiresAt)}</time>.</p>`
        : html`<p class="crumbs"><a href="/">Sessions</a> ›</p>`
    }
    <h1>${s.title ?? "(untitled session)"}</h1>
    <dl class="facts">
      <div><dt>Id</dt><dd><code>${s.id}</code></dd></div>
      <div><dt>Started</dt><dd><time datetime="${s.created_at}">${formatTime(s.created_at)}</time></dd></div>
      <div><dt>Updated</dt><dd><time datetime="${s.updated_at}">${formatTime(s.updated_at)}</time></dd></div>
      <div><dt>Directory</dt><dd><code>${s.cwd ?? "—"}</code></dd></div>
      ${s.git ? html`<div><dt>Git</dt><dd>${s.git.repository_url ?? ""} ${s.git.branch ? html`<span class="branch">${s.git.branch}</span>` : ""} <code>${s.git.commit_hash?.slice(0, 10) ?? ""}</code></dd></div>` : ""}
      <div><dt>Agent</dt><dd>${s.originator ?? "?"} ${s.cli_version ?? ""} (${s.source ?? "?"})</dd></div>
      <div><dt>Model</dt><dd>${s.model ?? "—"} (${s.model_provider ?? "—"})</dd></div>
      <div><dt>Outcome</dt><dd><span class="outcome outcome-${s.outcome}">${s.outcome.replace("_", " ")}</span></dd></div>
      <div><dt>Turns</dt><dd>${s.turns}${s.duration_ms !== null ? ` in ${(s.duration_ms / 1000).toFixed(1)} s` : ""}</dd></div>
      ${s.tokens ? html`<div><dt>Tokens</dt><dd>${s.tokens.input} in (${s.tokens.cached_input} cached), ${s.tokens.output} out (${s.tokens.reasoning} reasoning)</dd></div>` : ""}
      <div><dt>Files changed</dt><dd>${s.files_changed}</dd></div>
      ${s.children.length ? html`<div class="children"><dt>Sub-agents</dt><dd>${s.children.map((c) => html`<span class="child">${ref(c)}</span> `)}</dd></div>` : ""}
      ${s.parent_id ? html`<div class="parent"><dt>Parent</dt><dd>${ref(s.parent_id)}</dd></div>` : ""}
      ${s.forked_from_id ? html`<div><dt>Forked from</dt><dd>${ref(s.forked_from_id)}</dd></div>` : ""}
      <div><dt>Size</dt><dd>${s.lines} lines, ${formatBytes(s.bytes)}</dd></div>
      ${s.legal_hold ? html`<div><dt>Legal hold</dt><dd><span class="badge hold">on hold</span></dd></div>` : ""}
    </dl>
    ${
      share
        ? ""
        : html`<p class="downloads">
      <a class="button" href="${base}/download/rollout" download>Download rollout (.jsonl)</a>
      <a class="button" href="${base}/download/actions" download>Download actions v1 (.ndjson)</a>
      ${s.streams.filter((st) => st.name !== "rollout").map((st) => html` <a class="button secondary" href="${base}/download/${st.name}" download>${st.name} (${st.lines} lines)</a>`)}
    </p>
    <form class="share-form" method="post" action="${base}/share">
      ${csrfField(input.csrf)}
      <label>Share a read-only link, valid for <select name="expiry"><option value="1h">1 hour</option><option value="1d" selected>1 day</option><option value="7d">7 days</option><option value="30d">30 days</option></select></label>
      <button type="submit">Create share link</button> <a href="/shares">Share links</a>
    </form>`
    }
  </header>
  ${timeline.unparsableLines ? html`<p class="notice">${timeline.unparsableLines} line(s) of this rollout could not be parsed and are not shown.</p>` : ""}
  ${pager(base, page, timeline.hasMore, input.turnsPerPage)}
  ${timeline.turns.length === 0 ? html`<p class="empty">${page === 0 ? "This session has no turns yet." : "No turns on this page."}</p>` : timeline.turns.map((t) => turn(t, ref, page ? `${base}?page=${page}` : base))}
  ${pager(base, page, timeline.hasMore, input.turnsPerPage)}
</article>`;
  return layout(s.title ?? s.id, body, share ? { shared: true } : { org: input.org, admin: input.admin ?? false, csrf: input.csrf });
}

function pager(base: string, page: number, hasMore: boolean, perPage: number): SafeHtml | string {
  if (page === 0 && !hasMore) return "";
  return html`<nav class="pager">
  ${page > 0 ? html`<a href="${base}?page=${page - 1}">« Turns ${(page - 1) * perPage + 1}–${page * perPage}</a>` : ""}
  <span>Turns from ${page * perPage + 1}</span>
  ${hasMore ? html`<a rel="next" href="${base}?page=${page + 1}">Turns ${(page + 1) * perPage + 1}… »</a>` : ""}
</nav>`;
}

function turn(t: Turn, ref: SessionRef, pageUrl: string) {
  let previous = t.startedAt;
  const steps = t.items.map((i, n) => {
    const id = stepId(t, n);
    const meta = stepMeta(`${pageUrl}#${id}`, i.timestamp, gapMs(previous, i.timestamp));
    if (i.timestamp) previous = i.timestamp;
    return item(i, ref, id, meta);
  });
  return html`<section class="turn turn-${t.status}" id="turn-${t.index + 1}" data-started="${t.startedAt}">
  <header class="turn-head">
    <h2><a href="#turn-${t.index + 1}">Turn ${t.index + 1}</a></h2>
    <time datetime="${t.startedAt}">${t.startedAt ? formatTime(t.startedAt) : ""}</time>
    ${t.status === "aborted" ? html`<span class="badge aborted">aborted${t.abortReason ? `: ${t.abortReason}` : ""}</span>` : ""}
    ${t.tokens ? tokens(t.tokens) : ""}
  </header>
  ${steps}
  ${t.omittedItems ? html`<p class="notice">${t.omittedItems} more item(s) in this turn are not shown; download the rollout for all of them.</p>` : ""}
</section>`;
}

/**
 * A step's anchor: its turn and its place in the turn, both 1-based. Rollouts only grow, so the anchor of a
 * step never changes (a live page that gains items keeps every link), and it names the page's turn range too.
 */
function stepId(t: Turn, n: number): string {
  return `step-${t.index + 1}-${n + 1}`;
}

/** Time from the previous step (or the turn's start) to this one; null when either time is unknown. */
function gapMs(previous: string, current: string): number | null {
  if (!previous || !current) return null;
  const ms = Date.parse(current) - Date.parse(previous);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

/** The link to a step and the time since the one before it. */
function stepMeta(href: string, at: string, gap: number | null): SafeHtml {
  return html`<span class="step-meta"${at ? html` data-at="${at}"` : ""}>${gap !== null ? html`<span class="step-gap" data-gap-ms="${gap}" title="${formatDuration(gap)} after the previous step (${at})">+${formatDuration(gap)}</span>` : ""}<a class="step-link" href="${href}" title="Link to this step" aria-label="Link to this step">#</a></span>`;
}

/** Copies `text` (app.js; a browser that refuses the clipboard copies nothing, silently). */
function copyButton(text: string, what: string): SafeHtml {
  return html`<button type="button" class="copy" data-copy="${text}" title="Copy the ${what}" aria-label="Copy the ${what}">Copy</button>`;
}

function tokens(u: TokenUsage) {
  return html`<span class="tokens" title="input ${u.input_tokens} (cached ${u.cached_input_tokens}), output ${u.output_tokens} (reasoning ${u.reasoning_output_tokens})">${u.total_tokens.toLocaleString("en")} tokens · in ${u.input_tokens.toLocaleString("en")} · out ${u.output_tokens.toLocaleString("en")}</span>`;
}

function item(i: TimelineItem, ref: SessionRef, id: string, meta: SafeHtml) {
  switch (i.kind) {
    case "user":
      return html`<div class="item msg user" id="${id}">${meta}<div class="who">User ${copyButton(i.text, "message")}</div><div class="text">${i.text}</div></div>`;
    case "agent":
      return html`<div class="item msg agent" id="${id}">${meta}<div class="who">Agent ${copyButton(i.text, "message")}</div><div class="text markdown">${renderMarkdown(i.text)}</div></div>`;
    case "reasoning":
      return html`<details class="item reasoning" id="${id}"><summary>Reasoning ${meta}</summary><div class="text markdown">${renderMarkdown(i.text)}</div></details>`;
    case "compaction":
      return html`<p class="item compaction" id="${id}">${meta}Context compacted.</p>`;
    case "error":
      return html`<div class="item error" id="${id}">${meta}<span class="status failed">error</span> ${i.text}</div>`;
    case "command": {
      const ok = i.exitCode === 0;
      return html`<div class="item command" id="${id}">${meta}
  <div class="cmd-line"><span class="prompt">$</span> <code class="cmd">${i.command}</code>
    <span class="exit ${i.exitCode === null ? "unknown" : ok ? "ok" : "fail"}">${i.exitCode === null ? "exit ?" : `exit ${i.exitCode}`}</span>
    ${i.status !== "completed" && i.status !== "failed" ? html`<span class="status ${i.status}">${i.status.replace("_", " ")}</span>` : ""}
    ${i.durationMs !== null ? html`<span class="dur" title="How long the command ran">ran ${formatDuration(i.durationMs)}</span>` : ""}
    ${copyButton(i.command, "command")}</div>
  ${i.cwd ? html`<div class="cwd">in ${i.cwd}</div>` : ""}
  ${i.output ? html`<details class="output"${i.output.length < 2000 ? html` open` : ""}><summary>Output</summary><pre>${i.output}</pre></details>` : ""}
</div>`;
    }
    case "file_change":
      return html`<div class="item file-change" id="${id}">${meta}
  <div class="fc-head">File change${i.files.length === 1 ? "" : "s"} <span class="status ${i.status}">${i.status.replace("_", " ")}</span></div>
  ${i.files.map(diff)}
  ${i.output ? html`<pre class="fc-output">${i.output}</pre>` : ""}
</div>`;
    case "tool_call":
      return html`<div class="item tool" id="${id}">${meta}
  <div class="tool-head">Tool <code>${i.name}</code> <span class="status ${i.status}">${i.status.replace("_", " ")}</span>
    ${i.childIds.map((c) => html` <span class="child">${ref(c)}</span>`)}</div>
  ${i.input ? html`<details><summary>Input</summary><pre>${i.input}</pre></details>` : ""}
  ${i.output ? html`<details><summary>Output</summary><pre>${i.output}</pre></details>` : ""}
</div>`;
  }
}

function diff(f: FileDiff) {
  const lines = f.diff ? f.diff.split("\n") : [];
  return html`<div class="diff">
  <div class="diff-file"><span class="kind ${f.kind}">${f.kind}</span> <code>${f.path}</code> ${f.diff ? copyButton(f.diff, "diff") : ""}</div>
  <pre class="diff-body">${lines.map((l) => {
    const cls = l.startsWith("@@") ? "hunk" : l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : "ctx";
    return html`<span class="dl ${cls}">${l || " "}</span>`;
  })}</pre>
</div>`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
