/** HTTP tools, tenants with an upstream, and their secrets on the test stack. */
import { issueKey, lit } from "./fixtures.ts";
import { stack } from "./stack.ts";

let counter = 0;

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${(counter++).toString(36)}`;
}

/** Adds an `http` tool to the catalog; returns its name. */
export async function addHttpTool(
  definition: Record<string, unknown>,
  options: { name?: string; description?: string; tenantId?: string } = {},
): Promise<string> {
  const name = options.name ?? uniqueName("api");
  await stack.psql(
    `insert into public.tool_catalog (name, family, description, definition, tenant_id)
     values (${lit(name)}, 'http', ${lit(options.description ?? `Test tool ${name}`)},
             ${lit(JSON.stringify(definition))}::jsonb,
             ${options.tenantId ? `${lit(options.tenantId)}::uuid` : "null"})`,
  );
  return name;
}

/** A tenant with this config and these tools enabled, and a key for it. */
export async function httpTenant(tools: string[], config: Record<string, unknown>) {
  const slug = `h-${Date.now().toString(36)}-${(counter++).toString(36)}`;
  const id = (await stack.psql(
    `insert into public.tenants (slug, name, config, enabled_tools)
     values (${lit(slug)}, ${lit(`Tenant ${slug}`)}, ${lit(JSON.stringify(config))}::jsonb,
             array[${tools.map(lit).join(",")}]::text[])
     returning id`,
  )).trim();
  return { id, slug, key: await issueKey(slug) };
}

/** Stores a tenant secret the way an admin does on a database without Vault. */
export async function setSecret(slug: string, name: string, value: string): Promise<void> {
  await stack.psql(
    `select public.set_tenant_secret(${lit(slug)}, ${lit(name)}, ${lit(value)}, ${
      lit(stack.info.tenantSecretsKey)
    })`,
  );
}
