import { redactSummary } from "@sessionvault/core";
import type { ListQuery, SessionFacts, SessionFactsPage, SessionSummary } from "@sessionvault/core";
import { html } from "./html.js";
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
  ${page.sessions.length === 0
    ? html`<p class="empty">No sessions${filtered ? " match these filters" : " yet"}.</p>`
    : html`<table class="session-table">
    <thead><tr><th>Started</th><th>Title</th><th>Repository / directory</th><th>Model</th><th class="num">Lines</th></tr></thead>
    <tbody>
    ${page.sessions.map(row)}
    </tbody>
  </table>`}
  <nav class="pager">
    ${input.cursor ? html`<a href="/${params({})}">« Newest</a>` : ""}
    ${page.next_cursor ? html`<a rel="next" href="/${params({ cursor: page.next_cursor })}">Older »</a>` : ""}
  </nav>
</section>`;
  return layout(query.q ? `Search: ${query.q}` : "Sessions", body, { org: input.org, admin: input.admin ?? false, csrf: input.csrf });
}

function row(stored: SessionSummary & SessionFacts) {
  const s = redactSummary(stored);
  const repo = s.git?.repository_url ? s.git.repository_url.replace(/^https?:\/\//, "").replace(/\.git$/, "") : null;
  return html`<tr class="session-row">
  <td class="when"><time datetime="${s.created_at}">${formatTime(s.created_at)}</time></td>
  <td class="title"><a href="/sessions/${s.id}">${s.title ?? "(untitled)"}</a>
    <span class="meta">${s.id.slice(0, 13)} · ${s.source ?? "?"} · ${s.cli_version ?? ""}${s.archived ? html` · <span class="badge">archived</span>` : ""}${s.parent_id ? " · sub-agent/fork" : ""}</span></td>
  <td class="where">${repo ? html`<span class="repo">${repo}</span>${s.git?.branch ? html` <span class="branch">${s.git.branch}</span>` : ""}<br>` : ""}<span class="cwd">${s.cwd ?? ""}</span></td>
  <td>${s.model ?? s.model_provider ?? ""}<br><span class="outcome outcome-${s.outcome}">${s.outcome.replace("_", " ")}</span></td>
  <td class="num">${s.lines}</td>
</tr>`;
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}
