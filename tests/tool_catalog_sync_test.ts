/** Every tool defined in code is listed in the database catalog, with the same family and text. */
import { deepStrictEqual, equal } from "node:assert/strict";
import { ToolCatalog } from "../supabase/functions/mcp-tools-server/tools/catalog.ts";
import { lit } from "./support/fixtures.ts";
import { stack } from "./support/stack.ts";

Deno.test("code tools ⇔ public.tool_catalog: names, families and descriptions agree", async () => {
  const code = new ToolCatalog().codeTools();
  const names = code.map((tool) => tool.name);
  const rows = JSON.parse(
    await stack.psql(
      `select coalesce(json_agg(json_build_object('name', name, 'family', family,
         'description', description) order by name), '[]') from public.tool_catalog
       where name = any (array[${names.map(lit).join(",")}]::text[])`,
    ),
  );
  const expected = code.map(({ name, family, description }) => ({ name, family, description }))
    .sort((a, b) => a.name.localeCompare(b.name));
  deepStrictEqual(rows, expected);
});

Deno.test("conformance fixtures are never enabled by the seed", async () => {
  const seed = await Deno.readTextFile(new URL("../supabase/seed.sql", import.meta.url));
  equal(/\btest_[a-z_]+/.test(seed) || /conformance/.test(seed), false);
});
