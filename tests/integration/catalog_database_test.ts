/**
 * The tool catalog in the database: tenants may enable only catalog tools, each family's config
 * requirements are enforced on save with messages an admin can act on, versions move with
 * definitions, and the code-defined tools and their catalog rows agree.
 */
import { ALL_FAMILIES as FAMILIES } from "../../supabase/functions/mcp-tools-server/tools/all_families.ts";
import { deepStrictEqual, equal, match } from "node:assert/strict";
import { z } from "zod";
import { builtinTools } from "../../supabase/functions/mcp-tools-server/tools/builtin.ts";
import { ToolCatalog } from "../../supabase/functions/mcp-tools-server/tools/catalog.ts";
import { defineTool } from "../../supabase/functions/mcp-tools-server/tools/contract.ts";
import { createTenant, inProcessApp, issueKey, lit, registerTools } from "../support/fixtures.ts";
import { listTools, post } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";

const attempt = (sql: string) =>
  stack.psql(sql).then(() => "accepted", (err: Error) => err.message);
const sql = async (query: string) => (await stack.psql(query)).trim();

let counter = 0;
const unique = (stem: string) => `${stem}_${Date.now().toString(36)}_${counter++}`;

/** A family with config requirements and one tool in it, for this test run only. */
async function familyWithRequirements() {
  const family = unique("svc");
  const tool = `${family}_lookup`;
  await stack.psql(`
    insert into public.tool_families (family, description, config_schema) values (
      ${lit(family)}, 'Calls a service.', ${
    lit(JSON.stringify({
      type: "object",
      required: ["svc"],
      properties: {
        svc: {
          type: "object",
          required: ["base_url", "token_secret"],
          properties: {
            base_url: { type: "string", format: "uri", description: "the service's address" },
            token_secret: { type: "string", format: "uuid" },
            retries: { type: "integer", minimum: 0, maximum: 5 },
            mode: { enum: ["fast", "safe"] },
          },
          additionalProperties: false,
        },
      },
    }))
  });
    insert into public.tool_catalog (name, family, description)
    values (${lit(tool)}, ${lit(family)}, 'Looks something up.');`);
  return { family, tool };
}

Deno.test("catalog: an unknown tool name is refused, naming it and listing valid ones", async () => {
  const t = await createTenant(["echo"]);
  const message = await attempt(
    `update public.tenants set enabled_tools = '{echo,ecko,tenant_inf}' where id = '${t.id}'`,
  );
  match(message, /Tenant "t-[^"]+": enabled_tools names 2 unknown tools: ecko, tenant_inf\./);
  match(message, /Valid tools: [^.]*echo, [^.]*tenant_info/);
  match(
    await attempt(`insert into public.tenants (slug, name, enabled_tools)
      values (${lit(unique("x").replaceAll("_", "-"))}, 'x', '{nope}')`),
    /enabled_tools names an unknown tool: nope\./,
  );
});

Deno.test("catalog: a tenant's own tool can't be enabled by another tenant", async () => {
  const owner = await createTenant([]);
  const other = await createTenant([]);
  const tool = unique("own");
  await stack.psql(`insert into public.tool_families (family, description)
      values ('test', 'Tools used by the test suite.') on conflict do nothing;
    insert into public.tool_catalog (name, family, description, tenant_id)
      values (${lit(tool)}, 'test', 'Private.', '${owner.id}')`);
  equal(
    await attempt(`update public.tenants set enabled_tools = array[${lit(tool)}]
      where id = '${owner.id}'`),
    "accepted",
  );
  match(
    await attempt(`update public.tenants set enabled_tools = array[${lit(tool)}]
      where id = '${other.id}'`),
    new RegExp(`belong to another tenant: ${tool}`),
  );
  // And it is not offered to others as a valid choice either.
  const message = await attempt(
    `update public.tenants set enabled_tools = '{nope}' where id = '${other.id}'`,
  );
  equal(message.includes(tool), false);
});

Deno.test("catalog: tenant config is checked against the families of its tools", async () => {
  const { family, tool } = await familyWithRequirements();
  const t = await createTenant([]);
  const enable = (config: unknown) =>
    attempt(`update public.tenants set enabled_tools = array[${lit(tool)}],
      config = ${lit(JSON.stringify(config))} where id = '${t.id}'`);

  match(
    await enable({}),
    new RegExp(
      `config does not fit the ${family} tools enabled \\(${tool}\\): config.svc is required`,
    ),
  );
  match(
    await enable({ svc: { token_secret: "x" } }),
    /config.svc.base_url is required \(the service's address\); config.svc.token_secret must be a UUID/,
  );
  match(await enable({ svc: "https://x" }), /config.svc must be an object, not a string/);
  const several = await enable({
    svc: {
      base_url: "ftp://x",
      token_secret: "6c0d6d53-6c8b-4a4e-9c9a-2f0a3c1c1c1c",
      retries: 1.5,
      mode: "turbo",
      extra: 1,
    },
  });
  match(several, /config.svc.base_url must be an http\(s\) URL \(the service's address\)/);
  match(several, /config.svc.retries must be a whole number, not 1.5/);
  match(several, /config.svc.mode must be one of "fast", "safe"/);
  match(
    several,
    /config.svc.extra is not a known setting \(known: base_url, mode, retries, token_secret\)/,
  );
  const good = {
    svc: { base_url: "https://svc.example", token_secret: "6c0d6d53-6c8b-4a4e-9c9a-2f0a3c1c1c1c" },
  };
  equal(await enable(good), "accepted");

  // Once enabled, the config can't be broken by a later edit...
  match(
    await attempt(`update public.tenants set config = '{}' where id = '${t.id}'`),
    /config.svc is required/,
  );
  // ...nor by tightening the family's requirements under it.
  match(
    await attempt(`update public.tool_families
      set config_schema = jsonb_set(config_schema, '{required}', '["svc", "region"]')
      where family = ${lit(family)}`),
    new RegExp(`This change would break tenant "${t.slug}": .*config.region is required`),
  );
  // Tenants without tools of the family don't care.
  const bystander = await createTenant(["echo"]);
  equal(
    await attempt(
      `update public.tenants set config = '{"anything": 1}' where id = '${bystander.id}'`,
    ),
    "accepted",
  );
});

Deno.test("catalog: a tool in use can't be deleted; the version follows every edit", async () => {
  const { family, tool } = await familyWithRequirements();
  await stack.psql(`insert into public.tool_catalog (name, family, description)
    values (${lit(`${tool}_2`)}, ${lit(family)}, 'Unused.')`);
  const t = await createTenant(["echo"]);
  match(
    await attempt(`delete from public.tool_catalog where name = 'echo'`),
    new RegExp(`would break tenant "[^"]+": enabled_tools names an unknown tool: echo`),
  );
  equal(
    await attempt(`delete from public.tool_catalog where name = ${lit(`${tool}_2`)}`),
    "accepted",
  );

  const version = () => sql(`select version from public.tool_catalog where name = ${lit(tool)}`);
  equal(await version(), "1");
  await stack.psql(
    `update public.tool_catalog set description = 'Looks it up.' where name = ${lit(tool)}`,
  );
  equal(await version(), "2");
  await stack.psql(
    `update public.tool_catalog set definition = '{"x":1}' where name = ${lit(tool)}`,
  );
  equal(await version(), "3");
  await stack.psql(`update public.tool_catalog set updated_at = now() where name = ${lit(tool)}`);
  equal(await version(), "3", "edits that change nothing served keep the version");
  equal(t.slug.length > 0, true);
});

Deno.test("catalog: an edited description is served, as a new fingerprint, after the TTL", async () => {
  const tool = defineTool({
    name: unique("worded"),
    family: "test",
    description: "Old wording.",
    input: z.object({}),
    run: () => ({ content: [{ type: "text", text: "ok" }] }),
  });
  await registerTools([tool]);
  const fn = inProcessApp({
    config: { tenantCacheTtlMs: 10_000 },
    families: [builtinTools, [tool]],
  });
  const t = await createTenant([tool.name]);
  const key = await issueKey(t.slug);
  const describe = async () =>
    (await post(fn, listTools(), { key })).body.result.tools[0].description as string;
  equal(await describe(), "Old wording.");
  await stack.psql(`update public.tool_catalog set description = 'Reworded by an admin.'
    where name = ${lit(tool.name)}`);
  equal(await describe(), "Old wording.", "cached until the TTL passes");
  fn.clock.advance(10_000);
  equal(await describe(), "Reworded by an admin.");
  equal(fn.metrics.serverBuilds, 2, "a new version is a new fingerprint, so a new server");
});

Deno.test("catalog: every tool defined in code has a matching catalog row, and back", async () => {
  const code = new ToolCatalog(FAMILIES).codeTools();
  const families = [...new Set(code.map((tool) => tool.family))].sort();
  const rows = JSON.parse(
    await sql(`select coalesce(jsonb_agg(jsonb_build_object(
      'name', name, 'family', family, 'description', description) order by name), '[]')
    from public.tool_catalog
    where family = any (array[${families.map(lit).join(",")}]::text[])`),
  );
  deepStrictEqual(
    rows,
    code.map(({ name, family, description }) => ({ name, family, description }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  );
  const known = await sql(`select string_agg(family, ',' order by family) from public.tool_families
    where family = any (array[${families.map(lit).join(",")}]::text[])`);
  equal(known, families.join(","));
});
