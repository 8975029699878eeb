/** Tenants and keys for the bench, on its own throwaway stack. */
import type { Stack } from "../scripts/stack.ts";
import { signEs256 } from "../scripts/lib/signing_key.ts";
import { BENCH_FAMILY, benchTools } from "./tools.ts";

const lit = (value: string) => `'${value.replaceAll("'", "''")}'`;
const textArray = (values: string[]) => `array[${values.map(lit).join(",")}]::text[]`;

/** Enabled tools must be in the catalog: the bench family is listed there on this stack only. */
export async function registerBenchFamily(stack: Stack): Promise<void> {
  const rows = benchTools.map((t) =>
    `(${lit(t.name)}, ${lit(BENCH_FAMILY)}, ${lit(t.description)})`
  );
  await stack.psql(`
    insert into public.tool_families (family, description)
    values (${lit(BENCH_FAMILY)}, 'Benchmark tools (never enabled outside the bench stack).');
    insert into public.tool_catalog (name, family, description) values ${rows.join(",")};`);
}

let counter = 0;

/** Creates one tenant per tool list, each with one key; returns the keys in order. */
export async function tenantsWithKeys(stack: Stack, toolSets: string[][]): Promise<string[]> {
  const keys: string[] = [];
  // Batches keep each psql script a sensible size.
  for (let from = 0; from < toolSets.length; from += 500) {
    const batch = toolSets.slice(from, from + 500);
    const slugs = batch.map(() => `bench-${Date.now().toString(36)}-${(counter++).toString(36)}`);
    const values = batch.map((tools, i) =>
      `(${lit(slugs[i])}, ${lit(`Bench ${slugs[i]}`)}, ${textArray(tools)})`
    );
    const out = await stack.psql(`
      insert into public.tenants (slug, name, enabled_tools) values ${values.join(",")};
      select public.issue_api_key(t.slug, 'bench') ->> 'key'
      from unnest(${textArray(slugs)}) with ordinality as t(slug, n) order by t.n;`);
    keys.push(...out.trim().split("\n"));
  }
  if (keys.length !== toolSets.length) throw new Error("could not create the bench tenants");
  return keys;
}

/** `count` distinct subsets of `names`, each dropping a different combination of the first 14. */
export function distinctToolSets(names: string[], count: number, offset = 0): string[][] {
  const bits = Math.min(14, names.length - 1);
  if (count + offset >= 2 ** bits) throw new Error(`at most ${2 ** bits - 1} distinct tool sets`);
  return Array.from({ length: count }, (_, i) => {
    const mask = i + 1 + offset;
    return names.filter((_, j) => j >= bits || (mask & (1 << j)) === 0);
  });
}

/**
 * A user who owns the key's tenant (with `limits`, an SQL assignment list, on the membership) and
 * their access token, as Supabase Auth issues it.
 */
export async function ownerToken(stack: Stack, key: string, limits?: string): Promise<string> {
  const id = crypto.randomUUID();
  await stack.psql(`insert into auth.users (id, aud, role, email, created_at, updated_at)
      values ('${id}', 'authenticated', 'authenticated', 'bench-${id}@example.com', now(), now());
    insert into public.tenant_members (tenant_id, user_id, role)
      select tenant_id, '${id}', 'owner' from public.api_keys where key_id = '${key.slice(5, 17)}';
    ${limits ? `update public.tenant_members set ${limits} where user_id = '${id}';` : ""}`);
  const now = Math.floor(Date.now() / 1000);
  return await signEs256({
    iss: stack.authIssuer,
    aud: "authenticated",
    sub: id,
    role: "authenticated",
    iat: now,
    exp: now + 7200,
  }, stack.signingKey);
}
