// `deno task docs`: writes the README's generated tables (configuration, errors) from the code
// that defines them. tests/unit/readme_test.ts fails when the README disagrees with the code.

import { join } from "node:path";
import { configTable } from "../supabase/functions/mcp-tools-server/config.ts";
import { errorTable } from "../supabase/functions/mcp-tools-server/lib/api_error.ts";

export const README = join(import.meta.dirname!, "..", "README.md");

/** Generated blocks, by marker name. */
export const TABLES: Record<string, () => string> = {
  config: configTable,
  errors: errorTable,
};

const block = (name: string) =>
  new RegExp(`(<!-- generated:${name} -->\\n)([\\s\\S]*?)(\\n<!-- /generated:${name} -->)`);

/** The README's current text of a generated block, or null when its markers are missing. */
export function readBlock(readme: string, name: string): string | null {
  return block(name).exec(readme)?.[2] ?? null;
}

export function writeBlocks(readme: string): string {
  let out = readme;
  for (const [name, table] of Object.entries(TABLES)) {
    if (readBlock(out, name) === null) throw new Error(`README has no generated:${name} block`);
    out = out.replace(block(name), (_m, open, _body, close) => `${open}${table()}${close}`);
  }
  return out;
}

/** Markdown tables compared cell by cell, so `deno fmt`'s column padding doesn't matter. */
export function normalizeTable(text: string): string[][] {
  return text.trim().split("\n").map((line) =>
    line.trim().replace(/^\||\|$/g, "").split("|").map((cell) => cell.trim().replace(/^-+$/, "-"))
  );
}

if (import.meta.main) {
  await Deno.writeTextFile(README, writeBlocks(await Deno.readTextFile(README)));
  const fmt = new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", README] });
  if (!(await fmt.output()).success) throw new Error("deno fmt README.md failed");
}
