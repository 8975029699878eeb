/** Tenant membership of Supabase Auth users: which tenant a user acts in, and with what role. */
import { z } from "zod";
import type { Rpc } from "./rpc.ts";
import { type TenantRecord, TenantSchema } from "./tenant_store.ts";

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

const MembershipSchema = z.union([
  z.object({ role: z.enum(["owner", "admin", "member"]), tenant: TenantSchema }),
  z.object({ choices: z.array(z.string()) }),
]);

/** The store on Supabase: one RPC, `resolve_member`. */
export function supabaseMemberStore(rpc: Rpc): MemberStore {
  return {
    async resolveMember(userId, tenant) {
      const data = await rpc.call("resolve_member", { p_user_id: userId, p_tenant: tenant });
      const parsed = MembershipSchema.safeParse(data);
      if (!parsed.success) {
        throw new Error(`resolve_member returned an unexpected shape: ${parsed.error}`);
      }
      return parsed.data;
    },
  };
}
