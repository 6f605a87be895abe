/**
 * Logs in to the web UI as a browser does: loads the login form (its CSRF
 * cookie and token), posts the token with them, and returns the answer and
 * the cookies to send from then on.
 */
export interface UiLogin {
  status: number;
  /** The Set-Cookie header of the login cookie, attributes included ("" when refused). */
  setCookie: string;
  /** "sv_session=…" alone. */
  session: string;
  /** The CSRF cookie and the login cookie, for the pages' forms ("name=value; …"). */
  cookie: string;
}

export async function uiLogin(baseUrl: string, token: string): Promise<UiLogin> {
  const form = await fetch(`${baseUrl}/login`);
  const csrfCookie = cookiesOf(form);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!csrf) throw new Error("the login form has no CSRF token");
  const res = await fetch(`${baseUrl}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie, origin: new URL(baseUrl).origin },
    body: new URLSearchParams({ token, _csrf: csrf }).toString(),
  });
  await res.body?.cancel();
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith("sv_session=")) ?? "";
  const session = setCookie.split(";")[0]!;
  return { status: res.status, setCookie, session, cookie: [csrfCookie, session].filter(Boolean).join("; ") };
}

/** Posts the logout form of the list page, with its CSRF token, as the browser would. */
export async function uiLogout(baseUrl: string, cookie: string): Promise<number> {
  const csrf = await pageCsrf(baseUrl, "/", cookie);
  const res = await fetch(`${baseUrl}/logout`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie, origin: new URL(baseUrl).origin },
    body: new URLSearchParams({ _csrf: csrf }).toString(),
  });
  await res.body?.cancel();
  return res.status;
}

/** A page's CSRF token for the forms it holds (logout, tokens). */
export async function pageCsrf(baseUrl: string, path: string, cookie: string): Promise<string> {
  const page = await fetch(`${baseUrl}${path}`, { headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!csrf) throw new Error(`${path} has no form with a CSRF token`);
  return csrf;
}

function cookiesOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .join("; ");
}
