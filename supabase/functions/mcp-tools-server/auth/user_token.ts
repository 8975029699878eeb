/**
 * Supabase Auth access tokens (JWTs) checked locally with `jose`: the signature against the
 * project's published keys (SUPABASE_JWKS, else fetched from the issuer and cached; a key id not
 * seen yet triggers at most one fetch per AUTH_JWKS_REFRESH_MS), the pinned issuer, the audience,
 * the expiry with a small leeway. No network call per request. Legacy HS256 tokens only when the
 * deployment gives their secret. `jose` rather than supabase-js's `auth.getClaims()`: that one
 * falls back to calling Auth for symmetric tokens and keeps its key cache per client instance,
 * where this needs explicit control of algorithms, issuer and refetch rate.
 */
import type { CompactJWSHeaderParameters, JWTVerifyGetKey } from "jose";
import { ApiError } from "../lib/api_error.ts";
import type { Clock } from "../lib/clock.ts";

/** A compact JWS whose header is JSON: how a token is told apart from an `mcpk_` key. */
const JWT_SHAPE = /^eyJ[\w-]+\.[\w-]*\.[\w-]*$/;
const ASYMMETRIC = ["ES256", "RS256", "EdDSA"];
/** Clocks of Auth and the function may differ a little. */
export const LEEWAY_S = 30;

export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

/** What the function uses from a verified token. */
export interface UserClaims {
  userId: string;
  email: string | null;
  /** Set on tokens issued through Supabase Auth's OAuth server: the MCP client. */
  clientId: string | null;
  /** The active tenant named by the access token hook, if any. */
  tenantId: string | null;
  /** Epoch ms. */
  expiresAt: number;
}

export interface UserTokenOptions {
  issuer: string;
  audience: string;
  /** SUPABASE_JWKS as injected: `{"keys": [...]}` (or a bare array). */
  jwks?: string;
  jwksUrl: string;
  jwksRefreshMs: number;
  legacySecret?: string;
  clock: Clock;
  /** For tests: how the remote key set is fetched. */
  fetchJwks?: typeof fetch;
}

type Jose = typeof import("jose");
let jose: Promise<Jose> | undefined;

/** jose is loaded by the first user token, not at start-up: API-key callers never need it. */
function loadJose(): Promise<Jose> {
  return jose ??= import("jose").catch((err) => {
    jose = undefined; // a failed import is tried again by the next token
    throw err;
  });
}

export class UserTokenVerifier {
  #getKey?: JWTVerifyGetKey;
  readonly #algorithms: string[];
  readonly #jwks?: { keys: Array<Record<string, unknown>> };

  constructor(private readonly options: UserTokenOptions) {
    // HS256 reaches the key getter, which refuses it unless a legacy secret is set: that way the
    // refusal can say why.
    this.#algorithms = [...ASYMMETRIC, "HS256"];
    // Read now, so a malformed SUPABASE_JWKS stops start-up rather than the first sign-in.
    this.#jwks = options.jwks ? parseJwks(options.jwks) : undefined;
  }

  #keyGetter(
    { createLocalJWKSet, createRemoteJWKSet, customFetch, errors }: Jose,
  ): JWTVerifyGetKey {
    const options = this.options;
    let remote: JWTVerifyGetKey | undefined;
    const fetched: JWTVerifyGetKey = (header, token) => {
      remote ??= createRemoteJWKSet(new URL(options.jwksUrl), {
        cooldownDuration: options.jwksRefreshMs,
        cacheMaxAge: 10 * 60_000,
        timeoutDuration: 5_000,
        ...(options.fetchJwks ? { [customFetch]: options.fetchJwks } : {}),
      });
      return remote(header, token);
    };
    const local = this.#jwks ? createLocalJWKSet(this.#jwks) : undefined;
    const secret = options.legacySecret
      ? new TextEncoder().encode(options.legacySecret)
      : undefined;
    return async (header: CompactJWSHeaderParameters, token) => {
      if (header.alg === "HS256") {
        if (!secret) throw new RefusedAlgorithm();
        return secret;
      }
      if (!local) return fetched(header, token);
      try {
        return await local(header, token);
      } catch (err) {
        // Keys rotate: a key id the injected set lacks is looked up at the issuer (rate-bounded).
        if (err instanceof errors.JWKSNoMatchingKey) return fetched(header, token);
        throw err;
      }
    };
  }

  /** The token's claims, or a 401 ApiError saying what to do. */
  async verify(token: string): Promise<UserClaims> {
    const { issuer, audience, clock } = this.options;
    const jose = await loadJose();
    this.#getKey ??= this.#keyGetter(jose);
    try {
      const { payload } = await jose.jwtVerify(token, this.#getKey, {
        issuer,
        audience,
        algorithms: this.#algorithms,
        clockTolerance: LEEWAY_S,
        currentDate: new Date(clock.now()),
        requiredClaims: ["sub", "exp"],
      });
      if (payload.role !== "authenticated") {
        throw refuse(
          `This token's role is "${String(payload.role)}"; only signed-in users' tokens are ` +
            "accepted. Sign in as a user, or use an API key.",
        );
      }
      const sub = String(payload.sub);
      if (!/^[0-9a-f-]{36}$/i.test(sub)) throw refuse("The token's subject is not a user id.");
      const text = (value: unknown) => typeof value === "string" && value ? value : null;
      return {
        userId: sub.toLowerCase(),
        email: text(payload.email),
        clientId: text(payload.client_id),
        tenantId: text(payload.tenant_id),
        expiresAt: Number(payload.exp) * 1000,
      };
    } catch (err) {
      throw explain(err, jose.errors, issuer, audience);
    }
  }
}

class RefusedAlgorithm extends Error {}

function refuse(message: string): ApiError {
  return new ApiError("INVALID_TOKEN", message);
}

function explain(err: unknown, errors: Jose["errors"], issuer: string, audience: string): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof RefusedAlgorithm) {
    return refuse(
      "Tokens signed with a shared secret (HS256) are not accepted here. Sign in again to get a " +
        "token signed with the project's asymmetric key.",
    );
  }
  if (err instanceof errors.JWTExpired) {
    return refuse("The access token has expired. Sign in again (or refresh the token).");
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "iss") {
      return refuse(
        `The token was issued by another server; this one accepts tokens of ${issuer} only. ` +
          "Sign in to this project.",
      );
    }
    if (err.claim === "aud") {
      return refuse(`The token is meant for another audience; this server needs "${audience}".`);
    }
    if (err.claim === "nbf" || err.claim === "iat") {
      return refuse("The token is not valid yet; check the clock of the machine that made it.");
    }
    return refuse(`The token lacks a valid "${err.claim}" claim. Sign in again.`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return refuse("The token's signing algorithm is not accepted. Sign in to this project again.");
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return refuse(
      "The token was signed with a key this project does not publish (another project's token?). " +
        "Sign in to this project.",
    );
  }
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    // The issuer's key set could not be read: not the client's fault, but no way to check either.
    return new ApiError(
      "STORE_UNAVAILABLE",
      "The server can't read the project's signing keys right now. Retry shortly.",
    );
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return refuse("The token's signature does not verify. Sign in to this project again.");
  }
  if (err instanceof errors.JOSEError) {
    return refuse("The access token is malformed. Send it exactly as the sign-in returned it.");
  }
  if (err instanceof TypeError) {
    // fetch failed: the issuer's keys are unreachable.
    return new ApiError(
      "STORE_UNAVAILABLE",
      "The server can't read the project's signing keys right now. Retry shortly.",
    );
  }
  throw err;
}

function parseJwks(raw: string): { keys: Array<Record<string, unknown>> } {
  const parsed: unknown = JSON.parse(raw);
  if (Array.isArray(parsed)) return { keys: parsed };
  return parsed as { keys: Array<Record<string, unknown>> };
}
