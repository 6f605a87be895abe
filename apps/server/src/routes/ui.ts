import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parse as parseQuery } from "node:querystring";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyCsrf from "@fastify/csrf-protection";
import { assertIdOrPrefix, assertSlug, ForbiddenError, isSessionvaultError, UnauthorizedError } from "@sessionvault/core";
import type { ListQuery } from "@sessionvault/core";
import { readingOptions, redactSecrets, searchSessions, storedSessionReading, summaryFacts, withSessionFacts } from "@sessionvault/core";
import type { FactFilters, SessionFacets, SessionFactsPage, SessionOutcome, SessionStore } from "@sessionvault/core";
import { CoalescedReads } from "../coalesced-reads.js";
import type { ServerContext } from "../server-context.js";
import { serverRequire } from "../package-dir.js";
import { hashToken, hasScope, parseScopes, type Principal } from "../tokens.js";
import { OrgTokens } from "../org-tokens.js";
import { errorReply } from "../error-reply.js";
import { linesToBody } from "../stream-body.js";
import { toListQuery, actionLines } from "./v1.js";
import { errorPage, loginPage } from "../ui/layout.js";
import { listPage } from "../ui/list-page.js";
import { sessionPage } from "../ui/session-page.js";
import { tokensPage } from "../ui/tokens-page.js";
import { sharesPage } from "../ui/shares-page.js";
import { ShareLinks } from "../share-links.js";
import { LiveEvents } from "../live-events.js";
import { usagePage } from "../ui/usage-page.js";
import { buildTimeline } from "../ui/timeline.js";

const COOKIE = "sv_session";
const CSRF_COOKIE = "sv_csrf";
const TURNS_PER_PAGE = 20;
/** Sessions the list's facet counts read at most where the store cannot group them (fs, S3), and sessions stored without facts. */
const FACET_SCAN_LIMIT = 500;
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

type UiQuery = Record<string, string | undefined>;

/** The web UI: server-rendered pages over the same per-org stores as the API, logged in by cookie. */
export async function uiRoutes(app: FastifyInstance, ctx: ServerContext & { publicDir: string }): Promise<void> {
  const assets = {
    "style.css": { type: "text/css; charset=utf-8", body: await readFile(join(ctx.publicDir, "style.css")) },
    "app.js": { type: "text/javascript; charset=utf-8", body: await readFile(join(ctx.publicDir, "app.js")) },
    "usage.js": { type: "text/javascript; charset=utf-8", body: await readFile(join(ctx.publicDir, "usage.js")) },
    // Chart.js, served from its npm package as it is.
    "chart.umd.js": {
      type: "text/javascript; charset=utf-8",
      body: await readFile(join(dirname(serverRequire.resolve("chart.js")), "chart.umd.js")),
    },
    "favicon.svg": { type: "image/svg+xml", body: await readFile(join(ctx.publicDir, "favicon.svg")) },
  };

  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, parseQuery(body as string));
  });

  app.addHook("onSend", async (_req, reply, payload) => {
    reply.header("content-security-policy", CSP);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "same-origin");
    return payload;
  });

  // Cross-site request forgery: SameSite=Strict cookies do not stop it here, because every port of a host is
  // the same site (a page on 127.0.0.1:8080 posts to 127.0.0.1:7420 with the cookies). So every state-changing
  // form carries a token (double submit: a random secret in a signed, HttpOnly cookie, an HMAC of it in the
  // form) and every POST must come from a page of this origin (Origin / Sec-Fetch-Site, checked first).
  await app.register(fastifyCsrf, {
    cookieKey: CSRF_COOKIE,
    cookieOpts: { path: "/", sameSite: "strict", httpOnly: true, signed: true },
  });
  const csrfFor = (reply: FastifyReply): string => reply.generateCsrf({ secure: reply.request.protocol === "https" });
  app.addHook("preHandler", (req, reply, done) => {
    if (req.method === "GET" || req.method === "HEAD") return done();
    const refused = crossOrigin(req);
    if (refused) return done(new ForbiddenError(`cross-site request refused (${refused})`));
    app.csrfProtection(req, reply, done);
  });

  app.setErrorHandler(async (err, req, reply) => {
    const { status, body, internal } = errorReply(err);
    if (internal) req.log.error({ err }, "request failed");
    if (status === 401) return reply.redirect("/login", 303);
    const org = req.principal?.org;
    return reply
      .code(status)
      .type("text/html; charset=utf-8")
      .send(errorPage(status, body.message, org ? { org, csrf: csrfFor(reply) } : {}));
  });

  /** The signed login cookie's value, or undefined when it is missing or its signature is wrong. */
  const loginCookie = (req: FastifyRequest): string | undefined => {
    const raw = req.cookies[COOKIE];
    if (!raw) return undefined;
    const { valid, value } = req.unsignCookie(raw);
    return valid && value !== null ? value : undefined;
  };
  const principalOf = async (req: FastifyRequest): Promise<Principal> => {
    const p = await ctx.uiSessions.principal(loginCookie(req));
    if (!p) throw new UnauthorizedError("log in first");
    req.principal = p;
    return p;
  };
  const sendHtml = (reply: FastifyReply, page: string, status = 200) => reply.code(status).type("text/html; charset=utf-8").send(page);

  app.get<{ Params: { name: string } }>("/assets/:name", { schema: { hide: true } }, async (req, reply) => {
    const a = assets[req.params.name as keyof typeof assets];
    if (!a) return sendHtml(reply, errorPage(404, "no such asset"), 404);
    return reply.type(a.type).header("cache-control", "public, max-age=300").send(a.body);
  });

  // Browsers ask for /favicon.ico whatever the page links; answer with the same icon.
  app.get("/favicon.ico", { schema: { hide: true } }, async (_req, reply) =>
    reply.type(assets["favicon.svg"].type).header("cache-control", "public, max-age=86400").send(assets["favicon.svg"].body),
  );

  app.get("/login", { schema: { hide: true } }, async (_req, reply) => sendHtml(reply, loginPage(csrfFor(reply))));

  app.post<{ Body: Record<string, unknown> }>("/login", { schema: { hide: true } }, async (req, reply) => {
    const token = typeof req.body?.token === "string" ? req.body.token.trim() : "";
    try {
      await ctx.verifier.verify(token);
    } catch (err) {
      if (isSessionvaultError(err) && err.code === "UNAUTHORIZED") return sendHtml(reply, loginPage(csrfFor(reply), "That token is not valid."), 401);
      throw err;
    }
    const login = ctx.uiSessions.create(hashToken(token));
    reply.setCookie(COOKIE, login.value, {
      path: "/",
      httpOnly: true,
      sameSite: "strict",
      secure: req.protocol === "https",
      signed: true,
      maxAge: login.maxAgeSeconds,
    });
    return reply.redirect("/", 303);
  });

  app.post("/logout", { schema: { hide: true } }, async (req, reply) => {
    ctx.uiSessions.logout(loginCookie(req));
    reply.clearCookie(COOKIE, { path: "/" });
    return reply.redirect("/login", 303);
  });

  // A live list re-reads itself on every change, from every open tab: identical facet reads share one run.
  const facetScans = new CoalescedReads<SessionFacets>();
  app.get<{ Querystring: UiQuery }>("/", { schema: { hide: true } }, async (req, reply) => {
    const p = await principalOf(req);
    const store = ctx.stores.get(p.org);
    const q = req.query;
    const query: ListQuery = toListQuery({
      limit: Math.min(200, Math.max(1, Number.parseInt(q.limit ?? "50", 10) || 50)),
      ...pick(q, ["cursor", "q", "cwd", "repo", "branch", "model_provider"]),
      ...(q.since ? { since: q.since } : {}),
      ...(q.until ? { until: endOfDay(q.until) } : {}),
      ...(q.archived === "archived" || q.archived === "all" ? { archived: q.archived } : {}),
    });
    const factFilters: FactFilters = pick(q, ["outcome", "model", "agent"]);
    const { cursor: _cursor, limit: _limit, ...scanned } = query;
    const limit = query.limit ?? 50;
    const factFiltered = Boolean(factFilters.outcome || factFilters.model || factFilters.agent);
    // Filtered on facts, the page's rows are the newest matches the facet read returns.
    const newest = factFiltered ? limit : 0;
    // The facets and the page are independent reads: both run at once.
    const [facets, listed] = await Promise.all([
      facetScans.read(`${p.org}\n${JSON.stringify([scanned, factFilters, newest])}`, () =>
        store.sessionFacets({ ...scanned, ...factFilters }, { newest, maxSessions: FACET_SCAN_LIMIT }),
      ),
      factFiltered
        ? null
        : ctx.lists.read(`${p.org}\n${JSON.stringify(query)}`, async () => {
            const found = await searchSessions(store, query);
            return { ...found, sessions: await withSessionFacts(store, found.sessions) };
          }),
    ]);
    // Filtered on facts, the rows are the facet read's newest matches; there is no cursor past them.
    const found: (SessionFactsPage & { snippets?: Record<string, string> }) | null = listed;
    const page: SessionFactsPage = found ?? { sessions: facets.sessions, next_cursor: null };
    const snippets: Record<string, string> = found ? (found.snippets ?? {}) : facets.snippets;
    const redactedSnippets = Object.fromEntries(Object.entries(snippets).map(([id, text]) => [id, redactSecrets(text)]));
    return sendHtml(
      reply,
      listPage({
        org: p.org,
        admin: hasScope(p, "admin"),
        csrf: csrfFor(reply),
        query,
        factFilters,
        page,
        snippets: redactedSnippets,
        facets,
        cursor: query.cursor ?? null,
      }),
    );
  });

  app.get<{ Params: { id: string }; Querystring: UiQuery }>("/sessions/:id", { schema: { hide: true } }, async (req, reply) => {
    const p = await principalOf(req);
    const store = ctx.stores.get(p.org);
    const session = await store.getSession(assertIdOrPrefix(req.params.id));
    const page = Math.max(0, Math.min(1_000_000, Number.parseInt(req.query.page ?? "0", 10) || 0));
    const reading = await storedSessionReading(store, session.id, session);
    const timeline = await buildTimeline(store.readStream(session.id, "rollout"), {
      firstTurn: page * TURNS_PER_PAGE,
      turnCount: TURNS_PER_PAGE,
      agent: reading.agent,
      reading: readingOptions(reading),
    });
    const { facts: stored, ...summary } = session;
    const facts = await summaryFacts(store, session);
    const linked = [...facts.children, ...timeline.turns.flatMap((t) => t.items.flatMap((i) => (i.kind === "tool_call" ? i.childIds : [])))];
    if (session.parent_id) linked.push(session.parent_id);
    const related = await outcomesOf(store, linked);
    return sendHtml(
      reply,
      sessionPage({
        org: p.org,
        admin: hasScope(p, "admin"),
        csrf: csrfFor(reply),
        session: { ...summary, ...facts },
        timeline,
        page,
        turnsPerPage: TURNS_PER_PAGE,
        related,
      }),
    );
  });

  app.get("/usage", { schema: { hide: true } }, async (req, reply) => {
    const p = await principalOf(req);
    const usage = await ctx.stores.get(p.org).sessionUsage();
    return sendHtml(reply, usagePage({ org: p.org, admin: hasScope(p, "admin"), csrf: csrfFor(reply), usage }));
  });

  // Live: the list and a session page open an event stream and re-read themselves when it says "changed".
  const live = new LiveEvents();
  app.addHook("preClose", async () => live.closeAll());
  app.get("/events/sessions", { schema: { hide: true } }, async (req, reply) => {
    const p = await principalOf(req);
    const store = ctx.stores.get(p.org);
    await live.watch(req, reply, async () => {
      const page = await store.listSessions({ limit: 50, archived: "all" });
      return page.sessions.map((s) => `${s.id}:${s.lines}:${s.updated_at}`).join(",");
    });
  });
  app.get<{ Params: { id: string } }>("/sessions/:id/events", { schema: { hide: true } }, async (req, reply) => {
    const p = await principalOf(req);
    const store = ctx.stores.get(p.org);
    const id = (await store.getSession(assertIdOrPrefix(req.params.id))).id;
    await live.watch(req, reply, async () => {
      const s = await store.getSession(id);
      return s.streams.map((st) => `${st.name}:${st.lines}`).join(",");
    });
  });

  // Share links: any member of the org makes and revokes them; the link itself needs no login and opens one
  // session, redacted. A wrong, expired or revoked secret gets the same 404 as a session that does not exist.
  const shares = new ShareLinks(ctx.tokens);
  const shareUrl = (req: FastifyRequest, secret: string) => `${req.protocol}://${req.host}/s/${secret}`;
  app.post<{ Params: { id: string }; Body: Record<string, unknown> }>("/sessions/:id/share", { schema: { hide: true } }, async (req, reply) => {
    const p = await principalOf(req);
    const session = await ctx.stores.get(p.org).getSession(assertIdOrPrefix(req.params.id));
    const link = await shares.create(p, session.id, typeof req.body?.expiry === "string" ? req.body.expiry : "");
    reply.header("cache-control", "no-store");
    const created = { url: shareUrl(req, link.secret), session_id: link.session_id, expires_at: link.expires_at };
    return sendHtml(
      reply,
      sharesPage({ org: p.org, admin: hasScope(p, "admin"), links: await shares.list(p), created, csrf: csrfFor(reply), now: Date.now() }),
    );
  });
  app.get("/shares", { schema: { hide: true } }, async (req, reply) => {
    const p = await principalOf(req);
    return sendHtml(reply, sharesPage({ org: p.org, admin: hasScope(p, "admin"), links: await shares.list(p), csrf: csrfFor(reply), now: Date.now() }));
  });
  app.post<{ Params: { id: string } }>("/shares/:id/revoke", { schema: { hide: true } }, async (req, reply) => {
    const p = await principalOf(req);
    await shares.revoke(p, req.params.id);
    return reply.redirect("/shares", 303);
  });
  app.get<{ Params: { secret: string }; Querystring: UiQuery }>("/s/:secret", { schema: { hide: true } }, async (req, reply) => {
    reply.header("cache-control", "no-store").header("referrer-policy", "no-referrer").header("x-robots-tag", "noindex");
    const opened = await shares.open(req.params.secret);
    const notFound = () => sendHtml(reply, errorPage(404, "This link does not exist, has expired or was revoked."), 404);
    if (!opened) return notFound();
    const store = ctx.stores.get(opened.org);
    const session = await store.getSession(opened.sessionId).catch((err: unknown) => {
      if (isSessionvaultError(err) && err.code === "NOT_FOUND") return null;
      throw err;
    });
    if (!session) return notFound();
    const page = Math.max(0, Math.min(1_000_000, Number.parseInt(req.query.page ?? "0", 10) || 0));
    const reading = await storedSessionReading(store, session.id, session);
    const timeline = await buildTimeline(store.readStream(session.id, "rollout"), {
      firstTurn: page * TURNS_PER_PAGE,
      turnCount: TURNS_PER_PAGE,
      redact: true,
      agent: reading.agent,
      reading: readingOptions(reading),
    });
    const { facts: stored, ...summary } = session;
    const facts = await summaryFacts(store, session);
    return sendHtml(
      reply,
      sessionPage({
        org: opened.org,
        csrf: "",
        session: { ...summary, ...facts },
        timeline,
        page,
        turnsPerPage: TURNS_PER_PAGE,
        share: { secret: req.params.secret, expiresAt: opened.expiresAt },
      }),
    );
  });

  // Tokens: an org admin's page. The secret of a new token is in the answer to the POST and nowhere else
  // (not in a URL, not in a redirect); the CSRF check above keeps other pages from posting here.
  const orgTokens = new OrgTokens(ctx);
  app.get("/tokens", { schema: { hide: true } }, async (req, reply) => {
    const p = await principalOf(req);
    return sendHtml(reply, tokensPage({ org: p.org, tokens: await orgTokens.list(p), currentTokenId: p.tokenId, csrf: csrfFor(reply) }));
  });

  app.post<{ Body: Record<string, unknown> }>("/tokens", { schema: { hide: true } }, async (req, reply) => {
    const p = await principalOf(req);
    const scope = typeof req.body?.scope === "string" ? req.body.scope : "";
    const created = await orgTokens.create(p, parseScopes([scope]));
    reply.header("cache-control", "no-store");
    return sendHtml(reply, tokensPage({ org: p.org, tokens: await orgTokens.list(p), currentTokenId: p.tokenId, created, csrf: csrfFor(reply) }));
  });

  app.post<{ Params: { id: string } }>("/tokens/:id/revoke", { schema: { hide: true } }, async (req, reply) => {
    const p = await principalOf(req);
    await orgTokens.revoke(p, req.params.id);
    return reply.redirect(p.tokenId === req.params.id ? "/login" : "/tokens", 303);
  });

  app.get<{ Params: { id: string; name: string } }>("/sessions/:id/download/:name", { schema: { hide: true } }, async (req, reply) => {
    const p = await principalOf(req);
    const store = ctx.stores.get(p.org);
    const session = await store.getSession(assertIdOrPrefix(req.params.id));
    const name = req.params.name === "actions" ? "actions" : assertSlug(req.params.name, "stream name");
    if (name === "actions") {
      const body = await linesToBody(actionLines(store, session));
      return reply
        .type("application/x-ndjson; charset=utf-8")
        .header("content-disposition", `attachment; filename="${session.id}.actions.v1.ndjson"`)
        .send(body);
    }
    const body = await linesToBody(store.readStream(session.id, name));
    const file = name === "rollout" ? `rollout-${session.id}.jsonl` : `${session.id}.${name}.log`;
    return reply.type("application/octet-stream").header("content-disposition", `attachment; filename="${file}"`).send(body);
  });
}

/**
 * Why a state-changing request is not from a page of this server, or null.
 * Browsers send Sec-Fetch-Site and Origin on form posts; a client that sends
 * neither (curl) still needs the CSRF token, which only our pages hold.
 */
function crossOrigin(req: FastifyRequest): string | null {
  const site = req.headers["sec-fetch-site"];
  if (typeof site === "string" && site !== "same-origin" && site !== "none") return `Sec-Fetch-Site: ${site}`;
  const origin = req.headers.origin ?? req.headers.referer;
  if (origin === undefined) return null;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return "Origin: unreadable";
  }
  // The host alone: behind a TLS proxy the scheme the server sees is not the browser's. A proxy that
  // rewrites Host passes the browser's in X-Forwarded-Host, which a cross-site form cannot set.
  const forwarded = req.headers["x-forwarded-host"];
  return host === req.host || (typeof forwarded === "string" && host === forwarded.split(",")[0]!.trim()) ? null : `Origin: ${host || "null"}`;
}

/** The outcome of each linked session that is archived in the same org (a child not synced yet has none). */
async function outcomesOf(store: SessionStore, ids: readonly string[]): Promise<Record<string, SessionOutcome>> {
  const out: Record<string, SessionOutcome> = {};
  for (const id of new Set(ids)) {
    try {
      out[id] = (await summaryFacts(store, await store.getSession(id))).outcome;
    } catch (err) {
      if (!(isSessionvaultError(err) && (err.code === "NOT_FOUND" || err.code === "INVALID_ID"))) throw err;
    }
  }
  return out;
}

function pick(q: UiQuery, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = q[k];
    if (typeof v === "string" && v.trim()) out[k] = v.slice(0, 1024);
  }
  return out;
}

/** A date picked in the form means "until the end of that day". */
function endOfDay(d: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(d) ? `${d}T23:59:59.999Z` : d;
}
