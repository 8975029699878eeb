// STAND-IN for Supabase Auth (GoTrue), for the local stack and tests only. GoTrue itself can't be
// installed here (it is in neither the npm nor the Debian registry), so this small server answers
// the Auth endpoints the project relies on, with the request and response shapes Supabase
// documents: the JWKS, sign-up by an admin, password sign-in, and the OAuth 2.1 server (discovery,
// dynamic client registration, authorize → consent page → code → token with PKCE). Users live in
// the real database's auth.users; access tokens are ES256 JWTs with the claims Supabase Auth puts
// in them, passed through the project's Custom Access Token Hook (public.custom_access_token_hook)
// as Supabase Auth would. It is not Supabase Auth: no e-mail, no refresh, no MFA, state in memory.

import { Hono } from "hono";
import { runPsql } from "./lib/psql.ts";
import { publicJwk, signEs256, type SigningKey, verifyEs256 } from "./lib/signing_key.ts";
import { verifyHs256 } from "./jwt.ts";

export interface AuthStandInOptions {
  dbUrl: string;
  /** What tokens name as `iss`: `<gateway>/auth/v1`. */
  issuer: string;
  signingKey: SigningKey;
  /** Verifies service_role keys for the admin endpoints. */
  jwtSecret: string;
  /** Where the consent page is hosted: Site URL + authorization_url_path. */
  consentUrl: string;
  /** Seconds an access token lives; Supabase's default is 3600. */
  tokenLifetimeS?: number;
}

interface Client {
  client_id: string;
  client_name: string;
  client_uri: string;
  logo_uri: string;
  redirect_uris: string[];
}

interface Authorization {
  id: string;
  client: Client;
  redirectUri: string;
  scope: string;
  state: string | null;
  codeChallenge: string;
  userId?: string;
  code?: string;
}

interface UserRow {
  id: string;
  email: string;
  app_metadata: Record<string, unknown>;
  user_metadata: Record<string, unknown>;
  created_at: string;
}

const USER_COLUMNS = `json_build_object('id', id, 'email', email,
  'app_metadata', coalesce(raw_app_meta_data, '{}'), 'user_metadata', coalesce(raw_user_meta_data, '{}'),
  'created_at', created_at)`;

export function createAuthStandIn(opts: AuthStandInOptions): Hono {
  const clients = new Map<string, Client>();
  const authorizations = new Map<string, Authorization>();
  const lifetime = opts.tokenLifetimeS ?? 3600;
  // As Supabase Auth does, everything runs as supabase_auth_admin: the hook, and signups (with
  // the project's triggers on auth.users), so their privileges are tested as on a hosted project.
  const sql = (text: string, vars: Record<string, string> = {}) =>
    runPsql(opts.dbUrl, {
      args: Object.entries(vars).flatMap(([name, value]) => ["-v", `${name}=${value}`]),
      stdin: `set role supabase_auth_admin;\n${text}`,
    });

  const app = new Hono().basePath("/auth/v1");
  const fail = (status: number, code: string, msg: string) =>
    Response.json({ code: status, error_code: code, msg }, { status });

  async function issue(user: UserRow, clientId: string | null, method: string) {
    const now = Math.floor(Date.now() / 1000);
    const sessionId = crypto.randomUUID();
    let claims: Record<string, unknown> = {
      iss: opts.issuer,
      aud: "authenticated",
      sub: user.id,
      exp: now + lifetime,
      iat: now,
      email: user.email,
      phone: "",
      role: "authenticated",
      aal: "aal1",
      amr: [{ method, timestamp: now }],
      session_id: sessionId,
      is_anonymous: false,
      app_metadata: user.app_metadata,
      user_metadata: user.user_metadata,
      ...(clientId ? { client_id: clientId } : {}),
    };
    // The Custom Access Token Hook, as Supabase Auth calls it (pg-functions://…/public/…).
    const event = JSON.stringify({ user_id: user.id, claims, authentication_method: method });
    const hooked = await sql(`select public.custom_access_token_hook(:'event'::jsonb)::text`, {
      event,
    });
    claims = JSON.parse(hooked).claims;
    const accessToken = await signEs256(claims, opts.signingKey);
    return {
      access_token: accessToken,
      token_type: "bearer",
      expires_in: lifetime,
      expires_at: now + lifetime,
      refresh_token: crypto.randomUUID().replaceAll("-", ""),
      user: {
        id: user.id,
        aud: "authenticated",
        role: "authenticated",
        email: user.email,
        app_metadata: user.app_metadata,
        user_metadata: user.user_metadata,
        created_at: user.created_at,
      },
    };
  }

  async function userByPassword(email: string, password: string): Promise<UserRow | null> {
    const row = await sql(
      `select ${USER_COLUMNS} from auth.users where lower(email) = lower(:'email')
        and encrypted_password = extensions.crypt(:'password', encrypted_password)`,
      { email, password },
    );
    return row ? JSON.parse(row) : null;
  }

  async function userFromBearer(req: Request): Promise<UserRow | null> {
    const token = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
    if (!token) return null;
    const claims = await verifyEs256(token, opts.signingKey);
    if (!claims || claims.iss !== opts.issuer) return null;
    const row = await sql(`select ${USER_COLUMNS} from auth.users where id = :'id'::uuid`, {
      id: String(claims.sub),
    });
    return row ? JSON.parse(row) : null;
  }

  app.get("/.well-known/jwks.json", (c) => c.json({ keys: [publicJwk(opts.signingKey)] }));
  app.get("/.well-known/oauth-authorization-server", (c) => c.json(serverMetadata(opts.issuer)));
  app.get("/.well-known/openid-configuration", (c) => c.json(serverMetadata(opts.issuer)));

  // Admin API: create a user (service_role only), like supabase.auth.admin.createUser.
  app.post("/admin/users", async (c) => {
    const key = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
    const claims = await verifyHs256(key, opts.jwtSecret);
    if (claims?.role !== "service_role") return fail(403, "not_admin", "User not allowed");
    const body = await c.req.json().catch(() => ({}));
    if (typeof body.email !== "string" || !body.email.includes("@")) {
      return fail(400, "validation_failed", "Unable to validate email address: invalid format");
    }
    const row = await sql(
      `insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
         email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
       select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated',
         'authenticated', lower(:'email'),
         case when :'password' = '' then null
              else extensions.crypt(:'password', extensions.gen_salt('bf')) end,
         case when :'confirm' = 'true' then now() end,
         '{"provider":"email","providers":["email"]}'::jsonb || :'app'::jsonb, :'meta'::jsonb,
         now(), now()
       where not exists (select from auth.users where lower(email) = lower(:'email'))
       returning ${USER_COLUMNS}`,
      {
        email: body.email,
        password: typeof body.password === "string" ? body.password : "",
        confirm: String(body.email_confirm === true),
        app: JSON.stringify(body.app_metadata ?? {}),
        meta: JSON.stringify(body.user_metadata ?? {}),
      },
    );
    if (!row) {
      return fail(
        422,
        "email_exists",
        "A user with this email address has already been registered",
      );
    }
    const user: UserRow = JSON.parse(row);
    return c.json({ ...user, aud: "authenticated", role: "authenticated" });
  });

  // Password sign-in (supabase.auth.signInWithPassword).
  app.post("/token", async (c) => {
    if (c.req.query("grant_type") !== "password") {
      return fail(400, "unsupported_grant_type", "Only grant_type=password is supported here");
    }
    const body = await c.req.json().catch(() => ({}));
    const user = await userByPassword(String(body.email ?? ""), String(body.password ?? ""));
    if (!user) return fail(400, "invalid_credentials", "Invalid login credentials");
    return c.json(await issue(user, null, "password"));
  });

  app.get("/user", async (c) => {
    const user = await userFromBearer(c.req.raw);
    return user ? c.json(user) : fail(401, "bad_jwt", "invalid JWT");
  });

  // OAuth 2.1 server: dynamic client registration (RFC 7591).
  app.post("/oauth/clients/register", async (c) => {
    const body = await c.req.json().catch(() => ({}));
    const uris = Array.isArray(body.redirect_uris) ? body.redirect_uris.map(String) : [];
    if (uris.length === 0) return fail(400, "invalid_redirect_uri", "redirect_uris is required");
    const client: Client = {
      client_id: crypto.randomUUID(),
      client_name: String(body.client_name ?? "MCP client"),
      client_uri: String(body.client_uri ?? ""),
      logo_uri: String(body.logo_uri ?? ""),
      redirect_uris: uris,
    };
    clients.set(client.client_id, client);
    const { client_uri, logo_uri, ...rest } = client;
    return c.json({
      ...rest,
      ...(client_uri ? { client_uri } : {}),
      ...(logo_uri ? { logo_uri } : {}),
      client_id_issued_at: Math.floor(Date.now() / 1000),
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
    }, 201);
  });

  app.get("/oauth/authorize", (c) => {
    const q = c.req.query();
    const client = clients.get(q.client_id ?? "");
    if (!client) return fail(400, "invalid_client", "Unknown client_id");
    if (!client.redirect_uris.includes(q.redirect_uri ?? "")) {
      return fail(400, "invalid_redirect_uri", "redirect_uri is not registered for this client");
    }
    if (q.response_type !== "code" || q.code_challenge_method !== "S256" || !q.code_challenge) {
      return fail(
        400,
        "invalid_request",
        "response_type=code with an S256 code_challenge is required",
      );
    }
    const id = crypto.randomUUID();
    authorizations.set(id, {
      id,
      client,
      redirectUri: q.redirect_uri,
      scope: q.scope || "email",
      state: q.state ?? null,
      codeChallenge: q.code_challenge,
    });
    const target = new URL(opts.consentUrl);
    target.searchParams.set("authorization_id", id);
    return c.redirect(target.toString(), 302);
  });

  app.get("/oauth/authorizations/:id", async (c) => {
    const user = await userFromBearer(c.req.raw);
    if (!user) return fail(401, "no_authorization", "This endpoint requires a valid Bearer token");
    const auth = authorizations.get(c.req.param("id"));
    if (!auth || (auth.userId && auth.userId !== user.id)) {
      return fail(404, "oauth_authorization_not_found", "Authorization not found");
    }
    auth.userId = user.id;
    return c.json({
      authorization_id: auth.id,
      redirect_uri: auth.redirectUri,
      client: {
        id: auth.client.client_id,
        name: auth.client.client_name,
        uri: auth.client.client_uri,
        logo_uri: auth.client.logo_uri,
      },
      user: { id: user.id, email: user.email },
      scope: auth.scope,
    });
  });

  app.post("/oauth/authorizations/:id/consent", async (c) => {
    const user = await userFromBearer(c.req.raw);
    if (!user) return fail(401, "no_authorization", "This endpoint requires a valid Bearer token");
    const auth = authorizations.get(c.req.param("id"));
    if (!auth || auth.userId !== user.id) {
      return fail(404, "oauth_authorization_not_found", "Authorization not found");
    }
    const { action } = await c.req.json().catch(() => ({}));
    const target = new URL(auth.redirectUri);
    if (action === "approve") {
      auth.code = crypto.randomUUID();
      target.searchParams.set("code", auth.code);
    } else if (action === "deny") {
      authorizations.delete(auth.id);
      target.searchParams.set("error", "access_denied");
      target.searchParams.set("error_description", "The user denied the request");
    } else {
      return fail(400, "validation_failed", 'action must be "approve" or "deny"');
    }
    if (auth.state) target.searchParams.set("state", auth.state);
    return c.json({ redirect_url: target.toString() });
  });

  app.post("/oauth/token", async (c) => {
    const form = await c.req.parseBody();
    const code = String(form.code ?? "");
    const auth = [...authorizations.values()].find((a) => a.code && a.code === code);
    const oauthError = (error: string, description: string) =>
      c.json({ error, error_description: description }, 400);
    if (form.grant_type !== "authorization_code") {
      return oauthError("unsupported_grant_type", "grant_type must be authorization_code");
    }
    if (
      !auth || auth.client.client_id !== form.client_id || auth.redirectUri !== form.redirect_uri
    ) {
      return oauthError("invalid_grant", "The authorization code is invalid or was already used");
    }
    const challenge = await s256(String(form.code_verifier ?? ""));
    if (challenge !== auth.codeChallenge) {
      return oauthError("invalid_grant", "code_verifier does not match the code_challenge");
    }
    authorizations.delete(auth.id);
    const row = await sql(`select ${USER_COLUMNS} from auth.users where id = :'id'::uuid`, {
      id: auth.userId!,
    });
    const session = await issue(JSON.parse(row), auth.client.client_id, "oauth");
    return c.json({ ...session, scope: auth.scope });
  });

  app.notFound(() =>
    fail(404, "not_found", "This endpoint is not part of the local Auth stand-in")
  );
  return app;
}

/** RFC 8414 metadata as Supabase Auth's OAuth server publishes it. */
function serverMetadata(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    registration_endpoint: `${issuer}/oauth/clients/register`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    response_types_supported: ["code"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
    scopes_supported: ["openid", "email", "profile", "phone"],
  };
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

if (import.meta.main) {
  const env = (name: string) => {
    const value = Deno.env.get(name);
    if (!value) throw new Error(`${name} must be set`);
    return value;
  };
  const app = createAuthStandIn({
    dbUrl: env("DB_URL"),
    issuer: env("AUTH_ISSUER"),
    signingKey: JSON.parse(env("AUTH_SIGNING_KEY")),
    jwtSecret: env("JWT_SECRET"),
    consentUrl: env("AUTH_CONSENT_URL"),
  });
  Deno.serve({ hostname: "127.0.0.1", port: Number(env("AUTH_PORT")) }, app.fetch);
}
