// Schema setup in the order `supabase db reset` uses: platform, migrations, then seed.

import { join } from "node:path";
import { runPsql } from "./psql.ts";
import { StackError } from "./errors.ts";

const MIGRATION_FILE = /^(\d+)_(.*)\.sql$/;

export interface Migration {
  version: string;
  name: string;
  path: string;
}

/** Migrations in filename order; files not named `<digits>_<name>.sql` are skipped. */
export function listMigrations(root: string): Migration[] {
  const dir = join(root, "supabase", "migrations");
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name);
  } catch {
    return [];
  }
  return names.sort().flatMap((file) => {
    const match = MIGRATION_FILE.exec(file);
    return match ? [{ version: match[1], name: match[2], path: join(dir, file) }] : [];
  });
}

async function applyFile(dbUrl: string, path: string, extraSql = ""): Promise<void> {
  try {
    await runPsql(dbUrl, { args: ["-1", "-f", path], stdin: extraSql });
  } catch (err) {
    throw new StackError(`Applying ${path} failed:\n${(err as Error).message}`);
  }
}

/** Roles, schemas and defaults a hosted Supabase project starts with. */
export function applyPlatform(dbUrl: string, platformSql: string): Promise<void> {
  return applyFile(dbUrl, platformSql);
}

function dollarQuote(text: string): string {
  let tag = "migration";
  while (text.includes(`$${tag}$`)) tag += "_";
  return `$${tag}$${text}$${tag}$`;
}

/**
 * Applies each migration not yet recorded in supabase_migrations.schema_migrations, in one
 * transaction together with its record. Returns the files applied.
 */
export async function applyMigrations(dbUrl: string, root: string): Promise<Migration[]> {
  const applied = new Set(
    (await runPsql(dbUrl, { stdin: "select version from supabase_migrations.schema_migrations" }))
      .split("\n")
      .filter(Boolean),
  );
  const pending = listMigrations(root).filter((m) => !applied.has(m.version));
  for (const migration of pending) {
    const statements = dollarQuote(await Deno.readTextFile(migration.path));
    const record = `insert into supabase_migrations.schema_migrations (version, name, statements)
      values ('${migration.version}', ${dollarQuote(migration.name)}, array[${statements}]);`;
    await applyFile(dbUrl, migration.path, record);
  }
  return pending;
}

/** Applies supabase/seed.sql when present; returns whether it existed. */
export async function applySeed(dbUrl: string, root: string): Promise<boolean> {
  const path = join(root, "supabase", "seed.sql");
  try {
    await Deno.stat(path);
  } catch {
    return false;
  }
  await applyFile(dbUrl, path);
  return true;
}
