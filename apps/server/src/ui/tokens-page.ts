import type { CreatedToken } from "../tokens.js";
import type { ListedToken } from "../org-tokens.js";
import { TOKEN_SCOPES } from "../tokens.js";
import { html } from "./html.js";
import { csrfField, layout } from "./layout.js";

export interface TokensPageInput {
  org: string;
  tokens: ListedToken[];
  /** The token this login was made with (revoking it ends the login). */
  currentTokenId: string;
  /** A token just created: its secret is shown on this page and nowhere else, ever. */
  created?: CreatedToken;
  csrf: string;
}

/** An org admin's tokens: who can reach the archive, with a form to add one and a button to revoke each. */
export function tokensPage(input: TokensPageInput): string {
  const body = html`<section class="token-admin">
  <h1>API tokens</h1>
  <p class="muted">Tokens of org <strong>${input.org}</strong>. The server keeps only their sha256, so a token is shown once, when it is made. A revoked token is refused at once here and by other server processes within a minute.</p>
  ${
    input.created
      ? html`<div class="new-token" role="status">
    <p>New <strong>${input.created.scopes.join(", ")}</strong> token <code>${input.created.id}</code>; copy it now, it is not shown again:</p>
    <p><code class="secret" id="new-token">${input.created.token}</code></p>
  </div>`
      : ""
  }
  <table class="session-table token-table">
    <thead><tr><th>ID</th><th>Scopes</th><th>Created</th><th></th></tr></thead>
    <tbody>
    ${input.tokens.map(
      (t) => html`<tr class="token-row" data-id="${t.id}">
      <td><code>${t.id}</code>${t.id === input.currentTokenId ? html` <span class="badge">this login</span>` : ""}</td>
      <td>${t.scopes.join(", ")}</td>
      <td class="when"><time datetime="${t.created_at}">${t.created_at.slice(0, 16).replace("T", " ")}</time></td>
      <td><form method="post" action="/tokens/${encodeURIComponent(t.id)}/revoke">${csrfField(input.csrf)}<button type="submit" class="danger">Revoke</button></form></td>
    </tr>`,
    )}
    </tbody>
  </table>
  <form class="create-token" method="post" action="/tokens">
    ${csrfField(input.csrf)}
    <label>Scope <select name="scope">${TOKEN_SCOPES.map((s) => html`<option value="${s}">${s}</option>`)}</select></label>
    <button type="submit">Create token</button>
  </form>
</section>`;
  return layout("API tokens", body, { org: input.org, admin: true, csrf: input.csrf });
}
