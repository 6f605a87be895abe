import { html, type SafeHtml } from "./html.js";

export interface LayoutOptions {
  /** Who is logged in: shows the org and a logout button. */
  org?: string;
  /** Also a link to the token page. */
  admin?: boolean;
  /** The CSRF token that every form posting back must carry (see csrfField). */
  csrf?: string;
  /** A page seen through a share link: the brand leads nowhere (the reader may see nothing else). */
  shared?: boolean;
  /** More scripts of this server (a page's own), after app.js. */
  scripts?: string[];
}

/** The hidden field that a state-changing form sends its CSRF token in (the name @fastify/csrf-protection reads). */
export function csrfField(token: string | undefined): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token ?? ""}">`;
}

export function layout(title: string, body: SafeHtml, options: LayoutOptions = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · sessionvault</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/style.css">
<script src="/assets/app.js" defer></script>
${(options.scripts ?? []).map(
  (src) => html`<script src="${src}" defer></script>
`,
)}
</head>
<body>
<header class="top">
  ${options.shared ? html`<span class="brand">sessionvault</span>` : html`<a class="brand" href="/">sessionvault</a>`}
  ${
    options.org
      ? html`<a class="nav usage-link" href="/usage">Usage</a> <a class="nav" href="/shares">Share links</a> ${options.admin ? html`<a class="nav tokens-link" href="/tokens">Tokens</a>` : ""}<span class="org" title="organisation">${options.org}</span>
  <form method="post" action="/logout" class="logout">${csrfField(options.csrf)}<button type="submit">Log out</button></form>`
      : ""
  }
</header>
<main>
${body}
</main>
</body>
</html>
`.value;
}

export function errorPage(status: number, message: string, options: LayoutOptions = {}): string {
  return layout(
    `Error ${status}`,
    html`<section class="error-page"><h1>${status === 404 ? "Not found" : `Error ${status}`}</h1><p>${message}</p><p><a href="/">Back to sessions</a></p></section>`,
    options,
  );
}

export function loginPage(csrf: string, error?: string): string {
  return layout(
    "Log in",
    html`<section class="login">
  <h1>Log in</h1>
  <p>Paste an API token (created with <code>sessionvault token create</code>).</p>
  ${error ? html`<p class="error" role="alert">${error}</p>` : ""}
  <form method="post" action="/login">
    ${csrfField(csrf)}
    <label for="token">Token</label>
    <input id="token" name="token" type="password" autocomplete="off" required autofocus>
    <button type="submit">Log in</button>
  </form>
</section>`,
  );
}
