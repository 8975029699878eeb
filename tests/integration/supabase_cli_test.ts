/**
 * The stack's schema came in through the real Supabase CLI (`supabase db push --db-url …
 * --include-seed`), the command an admin runs against a hosted project: its history holds every
 * migration file, pushing again has nothing left to do, and the CLI accepts config.toml (it
 * refuses a project whose config.toml it can't read, before touching any database).
 */
import { deepStrictEqual, equal, match, notEqual } from "node:assert/strict";
import { join } from "node:path";
import { locateSupabaseCli } from "../../scripts/lib/migrations.ts";
import { stack } from "../support/stack.ts";

async function cli(args: string[], workdir = stack.info.root) {
  const bin = await locateSupabaseCli(stack.info.root);
  const out = await new Deno.Command(bin, {
    args: [...args, "--workdir", workdir],
    env: { DO_NOT_TRACK: "1", SUPABASE_NO_UPDATE_NOTIFIER: "1", NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, output: text.decode(out.stdout) + text.decode(out.stderr) };
}

const dbUrl = () => `${stack.info.dbUrl}?sslmode=disable`;

const migrationFiles = () =>
  [...Deno.readDirSync(join(stack.info.root, "supabase", "migrations"))]
    .map((entry) => entry.name)
    .filter((name) => name.endsWith(".sql"))
    .sort();

Deno.test("supabase CLI: every migration file and the seed are recorded as applied", async () => {
  const versions = (await stack.psql(
    "select version || '_' || name || '.sql' from supabase_migrations.schema_migrations order by 1",
  )).trim().split("\n");
  deepStrictEqual(versions, migrationFiles());
  const seeds = await stack.psql("select path from supabase_migrations.seed_files");
  match(seeds, /seed\.sql/);
});

Deno.test("supabase CLI: pushing again finds the database up to date", async () => {
  const { code, output } = await cli(["db", "push", "--dry-run", "--db-url", dbUrl()]);
  equal(code, 0, output);
  match(output, /up to date/i);
});

Deno.test("supabase CLI: config.toml is read; a broken one is refused", async () => {
  // A copy of the project whose config.toml the test may break.
  const copy = await Deno.makeTempDir({ prefix: "cli-config-" });
  try {
    await Deno.mkdir(join(copy, "supabase", "migrations"), { recursive: true });
    for (const name of migrationFiles()) {
      const from = join(stack.info.root, "supabase", "migrations", name);
      await Deno.copyFile(from, join(copy, "supabase", "migrations", name));
    }
    const config = await Deno.readTextFile(join(stack.info.root, "supabase", "config.toml"));
    await Deno.writeTextFile(join(copy, "supabase", "config.toml"), config);
    const fine = await cli(["db", "push", "--dry-run", "--db-url", dbUrl()], copy);
    equal(fine.code, 0, fine.output);

    await Deno.writeTextFile(join(copy, "supabase", "config.toml"), config + '\n[db]\nport = "x\n');
    const broken = await cli(["db", "push", "--dry-run", "--db-url", dbUrl()], copy);
    notEqual(broken.code, 0);
    match(broken.output, /failed to load config/);
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});

Deno.test("migration versions are real UTC timestamps (YYYYMMDDHHmmss)", () => {
  for (const name of migrationFiles()) {
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})_[a-z0-9_]+\.sql$/.exec(name);
    if (!m) throw new Error(`${name}: not <YYYYMMDDHHmmss>_<name>.sql`);
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
    const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    const back = [
      date.getUTCFullYear(),
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
    ];
    deepStrictEqual(back, [y, mo, d, h, mi, s], `${name}: not a valid date and time`);
  }
});
