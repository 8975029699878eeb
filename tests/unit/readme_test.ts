/** The README's configuration and error tables are the code's, not a copy that can drift. */
import { deepStrictEqual, ok } from "node:assert/strict";
import { normalizeTable, readBlock, README, TABLES } from "../../scripts/readme_tables.ts";

for (const [name, table] of Object.entries(TABLES)) {
  Deno.test(`README: the ${name} table is generated from the code (deno task docs)`, async () => {
    const current = readBlock(await Deno.readTextFile(README), name);
    ok(current !== null, `README.md lacks the generated:${name} markers`);
    deepStrictEqual(normalizeTable(current), normalizeTable(table()));
  });
}
