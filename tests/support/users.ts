/**
 * Supabase Auth users on the test stack: created and signed in through the local Auth stand-in
 * (scripts/auth_standin.ts, behind the gateway at /auth/v1, as on Supabase), and tokens minted by
 * hand with the project's key or with wrong ones, for the refusal cases.
 */
import { signJwt } from "../../scripts/jwt.ts";
import {
  jwksJson,
  newSigningKey,
  signEs256,
  type SigningKey,
} from "../../scripts/lib/signing_key.ts";
import type { Config } from "../../supabase/functions/mcp-tools-server/config.ts";
import { lit } from "./fixtures.ts";
import { stack } from "./stack.ts";

let counter = 0;

export interface TestUser {
  id: string;
  email: string;
  password: string;
}

/** A user, created as `supabase.auth.admin.createUser` does. */
export async function createUser(name = "user"): Promise<TestUser> {
  const email = `${name}-${Date.now().toString(36)}-${(counter++).toString(36)}@example.com`;
  const password = crypto.randomUUID();
  const res = await fetch(`${stack.info.supabaseUrl}/auth/v1/admin/users`, {
    method: "POST",
    headers: {
      apikey: stack.info.serviceRoleKey,
      authorization: `Bearer ${stack.info.serviceRoleKey}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ email, password, email_confirm: true }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`createUser: ${res.status} ${JSON.stringify(body)}`);
  return { id: body.id, email, password };
}

/** Signs in with the password, as `supabase.auth.signInWithPassword` does: the access token. */
export async function signIn(user: TestUser): Promise<string> {
  const res = await fetch(`${stack.info.supabaseUrl}/auth/v1/token?grant_type=password`, {
    method: "POST",
    headers: { apikey: stack.info.anonKey, "content-type": "application/json" },
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`signIn: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

export async function addMember(slug: string, user: TestUser, role = "member"): Promise<void> {
  await stack.psql(`select public.add_member(${lit(slug)}, ${lit(user.id)}, ${lit(role)})`);
}

/** Claims as Supabase Auth issues them for `user`, valid for an hour. */
export function claimsFor(user: TestUser, extra: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: stack.info.authIssuer,
    aud: "authenticated",
    sub: user.id,
    role: "authenticated",
    email: user.email,
    iat: now,
    exp: now + 3600,
    session_id: crypto.randomUUID(),
    aal: "aal1",
    is_anonymous: false,
    app_metadata: { provider: "email" },
    user_metadata: {},
    ...extra,
  };
}

/** A token signed with the project's key (or `key`), with any claims. */
export function mint(claims: Record<string, unknown>, key?: SigningKey): Promise<string> {
  return signEs256(claims, key ?? stack.info.signingKey);
}

/** A legacy HS256 token signed with the project's JWT secret. */
export function mintHs256(claims: Record<string, unknown>): Promise<string> {
  return signJwt(claims, stack.info.jwtSecret);
}

/** Another project's signing key: its tokens must never pass here. */
export const otherProjectKey = await newSigningKey();

/** The config of a function that accepts user tokens of the test stack. */
export function userAuthConfig(extra: Partial<Config["userAuth"]> = {}): Partial<Config> {
  return {
    userAuth: {
      enabled: true,
      oauth: false,
      publicUrl: undefined,
      issuer: stack.info.authIssuer,
      audience: "authenticated",
      jwks: jwksJson(stack.info.signingKey),
      jwksRefreshMs: 30_000,
      legacySecret: undefined,
      ...extra,
    },
  };
}
