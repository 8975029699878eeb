/**
 * A person as the caller: a verified Supabase Auth access token → the tenant they act in (the URL's
 * tenant segment, else the token's tenant_id claim from the access token hook, else their only
 * tenant) → a Caller whose tools are what their role allows. Memberships are cached per user and
 * tenant for TENANT_CACHE_TTL_MS, so removing a member takes effect within that bound; verified
 * tokens are cached too (their expiry is checked on every request), so a warm request costs one
 * SHA-256 and two Map lookups.
 */
import { LEEWAY_S, type UserClaims, type UserTokenVerifier } from "./user_token.ts";
import type { Config } from "../config.ts";
import { ApiError } from "../lib/api_error.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../lib/metrics.ts";
import { TtlCache } from "../lib/ttl_cache.ts";
import type { MemberRole, Membership, MemberStore } from "../data/members.ts";
import { StoreUnavailableError } from "../data/rpc.ts";
import type { ToolCatalog, ToolSet } from "../tools/catalog.ts";
import type { TenantContext } from "../tools/contract.ts";

export interface UserCaller {
  /** Safe to log: the user id (never the token). */
  label: string;
  userId: string;
  role: MemberRole;
  clientId: string | null;
  tenantStatus: string;
  tenant: TenantContext;
  toolSet: ToolSet;
}

type Resolved = { caller: Omit<UserCaller, "label" | "clientId"> } | { choices: string[] };

export interface UserAuthDeps {
  config: Config;
  verifier: UserTokenVerifier;
  members: MemberStore;
  clock: Clock;
  catalog: ToolCatalog;
  metrics: Metrics;
  log: Logger;
}

/** Roles that get every tool the tenant enables; other roles get its read-only tools. */
const FULL_ACCESS: readonly MemberRole[] = ["owner", "admin"];

export class UserAuthenticator {
  readonly #tokens: TtlCache<UserClaims>;
  readonly #members: TtlCache<Resolved>;

  constructor(private readonly deps: UserAuthDeps) {
    const { config, clock } = deps;
    const options = {
      ttlMs: config.tenantCacheTtlMs,
      negativeTtlMs: 0,
      maxEntries: config.tenantCacheMax,
      clock,
    };
    this.#tokens = new TtlCache<UserClaims>(options);
    this.#members = new TtlCache<Resolved>(options);
  }

  /** `tenantSlug`: the tenant segment of the URL, when the request names one. */
  async authenticate(token: string, tenantSlug: string | undefined): Promise<UserCaller> {
    const { clock, verifier } = this.deps;
    // Cached by the token itself, in isolate memory only, like API keys: a warm request hashes nothing.
    const claims = await this.#tokens.get(token, () => verifier.verify(token));
    if (!claims) throw new ApiError("INVALID_TOKEN", "The access token is not valid.");
    // A cached token is still checked against the clock, with the verifier's leeway.
    if (claims.expiresAt + LEEWAY_S * 1000 <= clock.now()) {
      throw new ApiError(
        "INVALID_TOKEN",
        "The access token has expired. Sign in again (or refresh the token).",
      );
    }
    const wanted = tenantSlug ?? claims.tenantId;
    const resolved = await this.#resolve(claims.userId, wanted);
    if (!resolved) throw new Error("resolve_member gave no answer");
    if ("choices" in resolved) throw notMember(claims, tenantSlug, resolved.choices);
    const caller: UserCaller = {
      ...resolved.caller,
      label: `user:${claims.userId}`,
      clientId: claims.clientId,
    };
    if (caller.tenantStatus !== "active") {
      throw new ApiError(
        "TENANT_DISABLED",
        `The tenant "${caller.tenant.slug}" is ${caller.tenantStatus}. Contact its admin.`,
      );
    }
    return caller;
  }

  async #resolve(userId: string, tenant: string | null): Promise<Resolved | null> {
    const { members, metrics, log, config } = this.deps;
    try {
      return await this.#members.get(`${userId}|${tenant ?? ""}`, async () => {
        metrics.storeLookups++;
        const membership = await members.resolveMember(userId, tenant);
        if (!("choices" in membership)) await this.deps.catalog.load(membership.tenant.tools);
        return this.#toResolved(userId, membership);
      }, { onHit: () => metrics.keyCacheHits++ });
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      metrics.storeErrors++;
      log.error("store_unavailable", { error: err });
      throw new ApiError(
        "STORE_UNAVAILABLE",
        "The server can't check memberships right now. Retry shortly.",
        { "retry-after": String(config.retryAfterSeconds) },
      );
    }
  }

  #toResolved(userId: string, membership: Membership): Resolved {
    if ("choices" in membership) return membership;
    const { tenant, role } = membership;
    const { toolSet, problems } = this.deps.catalog.toolSet(tenant.tools, {
      readOnly: !FULL_ACCESS.includes(role),
    });
    if (problems.length > 0) {
      this.deps.log.error("tools_left_out", { tenant: tenant.slug, problems });
    }
    return {
      caller: {
        userId,
        role,
        tenantStatus: tenant.status,
        tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name, config: tenant.config },
        toolSet,
      },
    };
  }
}

function notMember(claims: UserClaims, slug: string | undefined, choices: string[]): ApiError {
  const who = claims.email ?? `user ${claims.userId}`;
  if (choices.length === 0) {
    return new ApiError(
      "NOT_A_MEMBER",
      `${who} is signed in but belongs to no tenant on this server. Ask a tenant's admin to add ` +
        "you (deno task admin member add <tenant> <email>).",
    );
  }
  const urls = choices.map((choice) => `…/t/${choice}/mcp`).join(", ");
  if (slug !== undefined) {
    return new ApiError(
      "NOT_A_MEMBER",
      `${who} is not a member of tenant "${slug}". Your tenants: ${urls}.`,
    );
  }
  if (claims.tenantId !== null) {
    return new ApiError(
      "NOT_A_MEMBER",
      `${who} is no longer a member of the tenant this token names. Sign in again, or connect ` +
        `to one of your tenants' URLs: ${urls}.`,
    );
  }
  return new ApiError(
    "TENANT_NOT_CHOSEN",
    `${who} belongs to several tenants (${choices.join(", ")}) and the token names none. ` +
      `Connect to one tenant's URL: ${urls}.`,
  );
}
