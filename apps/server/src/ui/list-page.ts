import { redactSummary } from "@sessionvault/core";
import type { ListQuery, SessionFacts, SessionFactsPage, SessionSummary } from "@sessionvault/core";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";

export interface ListPageInput {
  org: string;
  /** The login may manage tokens (the header links to them). */
  admin?: boolean;
  /** For the logout form. */
  csrf: string;
  query: ListQuery;
  page: SessionFactsPage;
  /** The cursor of the page shown (to offer "first page" when paging). */
  cursor: string | null;
}

const FILTERS: { key: keyof ListQuery; label: string; placeholder: string }[] = [
  { key: "repo", label: "Repository", placeholder: "github.com/org/repo" },
  { key: "branch", label: "Branch", placeholder: "main" },
  { key: "cwd", label: "Directory", placeholder: "/home/me/project" },
  { key: "model_provider", label: "Model provider", placeholder: "openai" },
];

export function listPage(input: ListPageInput): string {
  const { query, page } = input;
  const params = (extra: Record<string, string>) => {
    const sp = new URLSearchParams();
    for (const k of ["q", "repo", "branch", "cwd", "model_provider", "since", "until", "archived"] as const) {
      const v = query[k];
      if (typeof v === "string" && v && !(k === "archived" && v === "active")) sp.set(k, v);
    }
    if (query.limit && query.limit !== 50) sp.set("limit", String(query.limit));
    for (const [k, v] of Object.entries(extra)) sp.set(k, v);
    const s = sp.toString();
    return s ? `?${s}` : "";
  };
  const filtered = Boolean(query.q || query.repo || query.branch || query.cwd || query.model_provider || query.since || query.until);
  const body = html`<section class="sessions">
  <form class="search" method="get" action="/" role="search">
    <div class="search-row">
      <input type="search" name="q" value="${query.q ?? ""}" placeholder="Search titles, messages and commands" aria-label="Search">
      <button type="submit">Search</button>
    </div>
    <details class="filters"${query.repo || query.branch || query.cwd || query.model_provider || query.since || query.until || (query.archived && query.archived !== "active") ? html` open` : ""}>
      <summary>Filters</summary>
      <div class="filter-grid">
        ${FILTERS.map((f) => html`<label>${f.label}<input name="${f.key}" value="${(query[f.key] as string | undefined) ?? ""}" placeholder="${f.placeholder}"></label>`)}
        <label>From<input type="date" name="since" value="${query.since?.slice(0, 10) ?? ""}"></label>
        <label>To<input type="date" name="until" value="${query.until?.slice(0, 10) ?? ""}"></label>
        <label>Show<select name="archived">
          ${(["active", "archived", "all"] as const).map((a) => html`<option value="${a}"${(query.archived ?? "active") === a ? html` selected` : ""}>${a}</option>`)}
        </select></label>
      </div>
      <p class="filter-actions"><button type="submit">Apply</button> <a href="/">Clear</a></p>
    </details>
  </form>
  <div class="results"${input.cursor ? "" : html` data-live="/events/sessions"`}>
  ${
    page.sessions.length === 0
      ? html`<p class="empty">No sessions${filtered ? " match these filters" : " yet"}.</p>`
      : html`<table class="session-table">
    <thead><tr><th>Started</th><th>Title</th><th>Agent</th><th>Model</th><th>Outcome</th><th class="num">Duration</th><th class="num">Tokens</th><th class="num">Files</th><th>Repository / directory</th></tr></thead>
    <tbody>
    ${page.sessions.map(row)}
    </tbody>
  </table>`
  }
  <nav class="pager">
    ${input.cursor ? html`<a href="/${params({})}">« Newest</a>` : ""}
    ${page.next_cursor ? html`<a rel="next" href="/${params({ cursor: page.next_cursor })}">Older »</a>` : ""}
  </nav>
  </div>
</section>`;
  return layout(query.q ? `Search: ${query.q}` : "Sessions", body, { org: input.org, admin: input.admin ?? false, csrf: input.csrf });
}

function row(stored: SessionSummary & SessionFacts) {
  const s = redactSummary(stored);
  const repo = s.git?.repository_url ? s.git.repository_url.replace(/^https?:\/\//, "").replace(/\.git$/, "") : null;
  return html`<tr class="session-row">
  <td class="when" data-label="Started">${relativeTime(s.created_at)}</td>
  <td class="title"><a href="/sessions/${s.id}">${s.title ?? "(untitled)"}</a>
    <span class="meta">${s.id.slice(0, 13)} · ${s.source ?? "?"} · ${s.cli_version ?? ""}${s.archived ? html` · <span class="badge">archived</span>` : ""}${s.parent_id ? " · sub-agent/fork" : ""}</span></td>
  <td class="agent" data-label="Agent">${s.agent}</td>
  <td class="model" data-label="Model">${s.model ?? s.model_provider ?? "—"}</td>
  <td data-label="Outcome"><span class="outcome outcome-${s.outcome}">${s.outcome.replace("_", " ")}</span></td>
  <td class="num duration" data-label="Duration">${s.duration_ms === null ? "—" : formatDuration(s.duration_ms)}</td>
  <td class="num tokens" data-label="Tokens" title="${s.tokens ? `in ${s.tokens.input} (cached ${s.tokens.cached_input}), out ${s.tokens.output} (reasoning ${s.tokens.reasoning})` : ""}">${s.tokens ? compact(s.tokens.input + s.tokens.output) : "—"}</td>
  <td class="num files" data-label="Files">${s.files_changed}</td>
  <td class="where">${repo ? html`<span class="repo">${repo}</span>${s.git?.branch ? html` <span class="branch">${s.git.branch}</span>` : ""}<br>` : ""}<span class="cwd">${s.cwd ?? ""}</span></td>
</tr>`;
}

/** "3 h ago", with the time to the second (UTC) on hover; the page's script keeps it current and local. */
export function relativeTime(iso: string, now = Date.now()): SafeHtml {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return html`${iso}`;
  const full = new Date(t).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  return html`<time class="rel" datetime="${iso}" title="${full}">${ago(now - t)}</time>`;
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  if (s < 30 * 86_400) return `${Math.round(s / 86_400)} d ago`;
  return new Date(Date.now() - ms).toISOString().slice(0, 10);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

function compact(n: number): string {
  return n < 1000 ? String(n) : n < 1_000_000 ? `${(n / 1000).toFixed(1)}k` : `${(n / 1_000_000).toFixed(1)}M`;
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}
