/** Tenant membership of Supabase Auth users: which tenant a user acts in, and with what role. */
import type { Rpc } from "./rpc.ts";
import { object, parsed, ShapeError, string, strings } from "./shape.ts";
import { type TenantRecord, tenantRecord } from "./tenant_store.ts";

export type MemberRole = "owner" | "admin" | "member";

export type Membership =
  | { role: MemberRole; tenant: TenantRecord }
  /** Not a member of the tenant asked for (or none asked and not exactly one): the user's tenants. */
  | { choices: string[] };

export interface MemberStore {
  /**
   * `tenant` is a slug or a tenant id; null picks the user's only tenant. Throws
   * StoreUnavailableError when the store can't answer, anything else when it answers wrongly.
   */
  resolveMember(userId: string, tenant: string | null): Promise<Membership>;
}

const ROLES: readonly MemberRole[] = ["owner", "admin", "member"];

export function parseMembership(data: unknown): Membership {
  return parsed("resolve_member", () => {
    const row = object(data, "");
    if ("choices" in row && !("role" in row)) return { choices: strings(row.choices, "choices") };
    const role = string(row.role, "role") as MemberRole;
    if (!ROLES.includes(role)) throw new ShapeError("role", ROLES.join(" | "), role);
    return { role, tenant: tenantRecord(row.tenant, "tenant") };
  });
}

/** The store on Supabase: one RPC, `resolve_member`. */
export function supabaseMemberStore(rpc: Rpc): MemberStore {
  return {
    async resolveMember(userId, tenant) {
      const data = await rpc.call("resolve_member", { p_user_id: userId, p_tenant: tenant });
      return parseMembership(data);
    },
  };
}
