// A stand-in for Supabase's Kong gateway: routes /rest/v1 to PostgREST and
// /functions/v1/mcp-tools-server to the function, streaming bodies both ways.

import { Hono } from "hono";
import { FUNCTION_NAME } from "./lib/function.ts";

export interface GatewayOptions {
  postgrestUrl: string;
  functionUrl: string;
  /** Supabase Auth (locally its stand-in, scripts/auth_standin.ts); absent: no /auth/v1. */
  authUrl?: string;
  /**
   * Static files served at /consent/ (the OAuth consent page, built by `deno task consent`):
   * locally the gateway plays the static host the page needs on Supabase.
   */
  consentDir?: string;
}

const STATIC_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

async function serveStatic(dir: string, path: string): Promise<Response> {
  const name = path === "" || path.endsWith("/") ? `${path}index.html` : path;
  if (name.split("/").some((part) => part === ".." || part.startsWith("."))) {
    return new Response("not found", { status: 404 });
  }
  try {
    const body = await Deno.readFile(`${dir}/${name}`);
    const type = STATIC_TYPES[name.split(".").pop() ?? ""] ?? "application/octet-stream";
    return new Response(body, { headers: { "content-type": type, "cache-control": "no-store" } });
  } catch {
    return new Response("not found (build the page: deno task consent --out <dir>)", {
      status: 404,
    });
  }
}

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

function stripHopByHop(headers: Headers): Headers {
  const listed = (headers.get("connection") ?? "").split(",").map((h) => h.trim());
  for (const name of [...HOP_BY_HOP, ...listed]) if (name) headers.delete(name);
  return headers;
}

async function forward(req: Request, upstreamBase: string, path: string): Promise<Response> {
  const incoming = new URL(req.url);
  const headers = stripHopByHop(new Headers(req.headers));
  headers.delete("host");
  // Kong turns the apikey header into the bearer token when no Authorization is sent.
  const apikey = headers.get("apikey");
  if (apikey && !headers.has("authorization")) headers.set("authorization", `Bearer ${apikey}`);
  headers.set("x-forwarded-host", incoming.host);
  headers.set("x-forwarded-proto", incoming.protocol.replace(":", ""));
  // Compressed upstream bodies would be decoded by fetch but keep their header; avoid that.
  headers.set("accept-encoding", "identity");
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  let upstream: Response;
  try {
    // Concatenated rather than resolved: a path like "//host" must not change the target.
    upstream = await fetch(upstreamBase.replace(/\/$/, "") + path + incoming.search, {
      method: req.method,
      headers,
      body: hasBody ? req.body : null,
      redirect: "manual",
    });
  } catch (err) {
    const message = `upstream unreachable: ${(err as Error).message}`;
    return Response.json({ code: "BAD_GATEWAY", message }, { status: 502 });
  }
  return new Response(upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: stripHopByHop(new Headers(upstream.headers)),
  });
}

export function createGateway(opts: GatewayOptions): Hono {
  const app = new Hono();
  const rest = (req: Request) =>
    forward(req, opts.postgrestUrl, new URL(req.url).pathname.slice("/rest/v1".length) || "/");
  // The function sees its own name as the first path segment, as on Supabase.
  const fn = (req: Request) =>
    forward(req, opts.functionUrl, new URL(req.url).pathname.slice("/functions/v1".length));

  app.get("/health", (c) => c.json({ status: "ok" }));
  const consentDir = opts.consentDir;
  if (consentDir) {
    app.get("/consent", (c) => c.redirect(`/consent/${new URL(c.req.url).search}`, 301));
    app.get(
      "/consent/*",
      (c) => serveStatic(consentDir, new URL(c.req.url).pathname.slice("/consent/".length)),
    );
  }
  const authUrl = opts.authUrl;
  if (authUrl) {
    const auth = (req: Request) => forward(req, authUrl, new URL(req.url).pathname);
    app.all("/auth/v1/*", (c) => auth(c.req.raw));
    // RFC 8414 discovery for the issuer <origin>/auth/v1, served at the origin's root as Supabase does.
    app.get(
      "/.well-known/oauth-authorization-server/auth/v1",
      (c) => forward(c.req.raw, authUrl, "/auth/v1/.well-known/oauth-authorization-server"),
    );
  }
  app.all("/rest/v1", (c) => rest(c.req.raw));
  app.all("/rest/v1/*", (c) => rest(c.req.raw));
  app.all(`/functions/v1/${FUNCTION_NAME}`, (c) => fn(c.req.raw));
  app.all(`/functions/v1/${FUNCTION_NAME}/*`, (c) => fn(c.req.raw));
  app.all(
    "/functions/v1/*",
    (c) => c.json({ code: "NOT_FOUND", message: "Requested function was not found" }, 404),
  );
  app.notFound((c) => c.json({ message: "no Route matched with those values" }, 404));
  return app;
}

if (import.meta.main) {
  const env = (name: string) => {
    const value = Deno.env.get(name);
    if (!value) throw new Error(`${name} must be set`);
    return value;
  };
  const app = createGateway({
    postgrestUrl: env("POSTGREST_URL"),
    functionUrl: env("FUNCTION_URL"),
    authUrl: Deno.env.get("AUTH_URL") || undefined,
    consentDir: Deno.env.get("CONSENT_DIR") || undefined,
  });
  Deno.serve({ hostname: "127.0.0.1", port: Number(env("GATEWAY_PORT")) }, app.fetch);
}
