import { redactSummary } from "@sessionvault/core";
import { FACET_KEYS } from "@sessionvault/core";
import type {
  FacetCount,
  FacetKey,
  FactFilters,
  ListQuery,
  SessionFacets,
  SessionFacts,
  SessionFactsPage,
  SessionSummary,
  StartedCount,
} from "@sessionvault/core";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";

export interface ListPageInput {
  org: string;
  /** The login may manage tokens (the header links to them). */
  admin?: boolean;
  /** For the logout form. */
  csrf: string;
  query: ListQuery;
  /** Filters on facts the store cannot apply (outcome, model, agent). */
  factFilters: FactFilters;
  page: SessionFactsPage;
  /** Where the text search matched, per session id (already redacted). */
  snippets: Record<string, string>;
  /** What the facets count over the query's matches. */
  facets: SessionFacets;
  /** The cursor of the page shown (to offer "first page" when paging). */
  cursor: string | null;
}

const FACET_LABELS: Record<FacetKey, string> = { outcome: "Outcome", model: "Model", agent: "Agent", repo: "Repository", branch: "Branch", cwd: "Directory" };
/** Values shown per facet; the next ones fold under "more", and a long tail is cut so the page stays small. */
const FACET_VALUES_SHOWN = 8;
const FACET_VALUES_LISTED = 100;
const PARAM_KEYS = ["q", "repo", "branch", "cwd", "model_provider", "since", "until", "archived", "outcome", "model", "agent"] as const;

export function listPage(input: ListPageInput): string {
  const { query, page, factFilters, facets } = input;
  const current: Record<string, string> = {};
  for (const k of PARAM_KEYS) {
    const v = k === "outcome" || k === "model" || k === "agent" ? factFilters[k] : query[k];
    if (typeof v === "string" && v && !(k === "archived" && v === "active")) current[k] = k === "until" ? v.slice(0, 10) : v;
  }
  const params = (extra: Record<string, string | null>) => {
    const sp = new URLSearchParams();
    for (const [k, v] of Object.entries(current)) if (!(k in extra)) sp.set(k, v);
    if (query.limit && query.limit !== 50) sp.set("limit", String(query.limit));
    for (const [k, v] of Object.entries(extra)) if (v !== null) sp.set(k, v);
    const s = sp.toString();
    return s ? `?${s}` : "";
  };
  const filtered = Object.keys(current).some((k) => k !== "archived");
  const matchCount = `${facets.total}${facets.truncated ? "+" : ""}`;
  const body = html`<section class="sessions">
  <form class="search" method="get" action="/" role="search">
    <div class="search-row">
      <input type="search" name="q" value="${query.q ?? ""}" placeholder="Search titles, messages and commands" aria-label="Search">
      <button type="submit">Search</button>
    </div>
    ${Object.entries(current)
      .filter(([k]) => k !== "q" && k !== "since" && k !== "until" && k !== "archived")
      .map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
    <div class="filter-grid">
      <label>From<input type="date" name="since" value="${query.since?.slice(0, 10) ?? ""}"></label>
      <label>To<input type="date" name="until" value="${query.until?.slice(0, 10) ?? ""}"></label>
      <label>Show<select name="archived">
        ${(["active", "archived", "all"] as const).map((a) => html`<option value="${a}"${(query.archived ?? "active") === a ? html` selected` : ""}>${a}</option>`)}
      </select></label>
      <p class="filter-actions"><button type="submit">Apply</button>${filtered ? html` <a href="/">Clear all</a>` : ""}</p>
    </div>
  </form>
  <div class="list-body">
  <aside class="facets" aria-label="Filters">
    ${startedGroup(facets.started, current.since, params)}
    ${FACET_KEYS.map((key) => facetGroup(key, facets.facets[key], current[key], params))}
    ${facets.truncated ? html`<p class="meta facet-note">Counts cover the newest ${facets.total} matches.</p>` : ""}
  </aside>
  <div class="results"${input.cursor ? "" : html` data-live="/events/sessions"`}>
  ${query.q ? html`<p class="match-count"><strong>${matchCount}</strong> session${matchCount === "1" ? "" : "s"} match <q>${query.q}</q></p>` : ""}
  ${
    page.sessions.length === 0
      ? html`<p class="empty">No sessions${filtered ? " match these filters" : " yet"}.</p>`
      : html`<table class="session-table">
    <thead><tr><th>Started</th><th>Title</th><th>Agent</th><th>Model</th><th>Outcome</th><th class="num">Duration</th><th class="num">Tokens</th><th class="num">Files</th><th>Repository / directory</th></tr></thead>
    <tbody>
    ${page.sessions.map((s) => row(s, input.snippets[s.id], query.q))}
    </tbody>
  </table>`
  }
  <nav class="pager">
    ${input.cursor ? html`<a href="/${params({ cursor: null })}">« Newest</a>` : ""}
    ${page.next_cursor ? html`<a rel="next" href="/${params({ cursor: page.next_cursor })}">Older »</a>` : ""}
  </nav>
  </div>
  </div>
</section>`;
  return layout(query.q ? `Search: ${query.q}` : "Sessions", body, { org: input.org, admin: input.admin ?? false, csrf: input.csrf });
}

function startedGroup(counts: StartedCount[], since: string | undefined, params: (extra: Record<string, string | null>) => string) {
  // Kept while a window is chosen, even when nothing matches, so that it can be cleared here.
  if (!counts.some((c) => c.count > 0 || c.since === since)) return "";
  return html`<section class="facet" data-facet="started">
  <h2>Started</h2>
  <ul>
    ${counts
      .filter((c) => c.count > 0 || c.since === since)
      .map((c) => {
        const on = since === c.since;
        return html`<li><a class="facet-value${on ? " active" : ""}" data-value="${c.since}" href="/${params({ since: on ? null : c.since, until: null, cursor: null })}"${on ? html` aria-current="true" title="Remove this filter"` : ""}><span class="facet-label">${c.label}</span> <span class="count">${c.count}</span></a></li>`;
      })}
  </ul>
</section>`;
}

function facetGroup(key: FacetKey, counts: FacetCount[], active: string | undefined, params: (extra: Record<string, string | null>) => string) {
  const listed = counts.slice(0, FACET_VALUES_LISTED);
  // The active value stays listed even when the read no longer holds it (a filter set by hand).
  if (active !== undefined && !listed.some((c) => c.value === active))
    listed.unshift({ value: active, count: counts.find((c) => c.value === active)?.count ?? 0 });
  if (listed.length === 0) return "";
  const item = (c: FacetCount) => {
    const on = c.value === active;
    return html`<li><a class="facet-value${on ? " active" : ""}" data-value="${c.value}" href="/${params({ [key]: on ? null : c.value, cursor: null })}"${on ? html` aria-current="true" title="Remove this filter"` : ""}><span class="facet-label">${key === "outcome" ? c.value.replace("_", " ") : c.value}</span> <span class="count">${c.count}</span></a></li>`;
  };
  const rest = listed.slice(FACET_VALUES_SHOWN);
  return html`<section class="facet" data-facet="${key}">
  <h2>${FACET_LABELS[key]}</h2>
  <ul>${listed.slice(0, FACET_VALUES_SHOWN).map(item)}</ul>
  ${rest.length ? html`<details${rest.some((c) => c.value === active) ? html` open` : ""}><summary>${rest.length} more</summary><ul>${rest.map(item)}</ul></details>` : ""}
  ${counts.length > FACET_VALUES_LISTED ? html`<p class="meta">and ${counts.length - FACET_VALUES_LISTED} less frequent</p>` : ""}
</section>`;
}

/** The snippet with every case-insensitive occurrence of the query marked; both are escaped as text. */
export function highlight(snippet: string, q: string | undefined): SafeHtml {
  const needle = q?.trim().toLowerCase();
  if (!needle) return html`${snippet}`;
  const lower = snippet.toLowerCase();
  const parts: SafeHtml[] = [];
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, at + needle.length)) {
    parts.push(html`${snippet.slice(from, at)}<mark>${snippet.slice(at, at + needle.length)}</mark>`);
    from = at + needle.length;
  }
  parts.push(html`${snippet.slice(from)}`);
  return html`${parts}`;
}

function row(stored: SessionSummary & SessionFacts, snippet: string | undefined, q: string | undefined) {
  const s = redactSummary(stored);
  const repo = s.git?.repository_url ? s.git.repository_url.replace(/^https?:\/\//, "").replace(/\.git$/, "") : null;
  return html`<tr class="session-row">
  <td class="when" data-label="Started">${relativeTime(s.created_at)}</td>
  <td class="title"><a href="/sessions/${s.id}">${s.title ?? "(untitled)"}</a>
    <span class="meta">${s.id.slice(0, 13)} · ${s.source ?? "?"} · ${s.cli_version ?? ""}${s.archived ? html` · <span class="badge">archived</span>` : ""}${s.parent_id ? " · sub-agent/fork" : ""}</span>
    ${snippet !== undefined ? html`<span class="snippet">${highlight(snippet, q)}</span>` : ""}</td>
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
