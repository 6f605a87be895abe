import type { ShareLink } from "../share-links.js";
import { html } from "./html.js";
import { csrfField, layout } from "./layout.js";
import { formatTime } from "./list-page.js";

export interface SharesPageInput {
  org: string;
  admin: boolean;
  links: ShareLink[];
  /** A link just made: its URL holds the secret, shown on this page only. */
  created?: { url: string; session_id: string; expires_at: string };
  csrf: string;
  now: number;
}

/** The org's share links: which session each opens, until when, and a button to revoke each. */
export function sharesPage(input: SharesPageInput): string {
  const body = html`<section class="share-admin">
  <h1>Share links</h1>
  <p class="muted">Read-only links to one session each, with secrets redacted, that work without logging in until they expire or are revoked. The server keeps only a hash of each link, so a link is shown once, when it is made.</p>
  ${
    input.created
      ? html`<div class="new-token" role="status">
    <p>New link to <code>${input.created.session_id}</code>, valid until <time datetime="${input.created.expires_at}">${formatTime(input.created.expires_at)}</time>; copy it now:</p>
    <p><code class="secret" id="new-share-link">${input.created.url}</code></p>
  </div>`
      : ""
  }
  ${
    input.links.length === 0
      ? html`<p class="empty">No share links. Make one from a session's page.</p>`
      : html`<table class="session-table share-table">
    <thead><tr><th>Session</th><th>Created</th><th>Expires</th><th></th></tr></thead>
    <tbody>
    ${input.links.map((l) => {
      const expired = Date.parse(l.expires_at) <= input.now;
      return html`<tr class="share-row${expired ? " expired" : ""}" data-id="${l.id}">
      <td><a href="/sessions/${l.session_id}"><code>${l.session_id}</code></a></td>
      <td class="when"><time datetime="${l.created_at}">${formatTime(l.created_at)}</time></td>
      <td class="when"><time datetime="${l.expires_at}">${formatTime(l.expires_at)}</time>${expired ? html` <span class="badge">expired</span>` : ""}</td>
      <td><form method="post" action="/shares/${l.id}/revoke">${csrfField(input.csrf)}<button type="submit" class="danger">Revoke</button></form></td>
    </tr>`;
    })}
    </tbody>
  </table>`
  }
</section>`;
  return layout("Share links", body, { org: input.org, admin: input.admin, csrf: input.csrf });
}
