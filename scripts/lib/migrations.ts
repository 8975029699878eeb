// Schema setup in the order `supabase db reset` uses: platform, migrations, then seed. The
// migrations and the seed go in through the real Supabase CLI (`supabase db push --db-url`),
// the command an admin runs against a hosted project.

import { runPsql } from "./psql.ts";
import { StackError } from "./errors.ts";
import { locateNpmTool, type NpmTool } from "./npm_tool.ts";

/** The Supabase CLI, pinned (its edge runtime embeds the Deno the function runs on). */
export const SUPABASE_CLI: NpmTool = {
  label: "Supabase CLI 2.117.0",
  spec: "supabase@2.117.0",
  // The platform package's binary itself: the package's Node launcher only spawns it.
  bin: "@supabase/cli-linux-x64/bin/supabase",
};

/** The Supabase CLI binary, installed from npm when missing (SUPABASE_CLI_BIN overrides). */
export function locateSupabaseCli(root: string, log?: (line: string) => void): Promise<string> {
  const fromEnv = Deno.env.get("SUPABASE_CLI_BIN");
  return fromEnv ? Promise.resolve(fromEnv) : locateNpmTool(root, SUPABASE_CLI, log);
}

/** Roles, schemas and defaults a hosted Supabase project starts with. */
export async function applyPlatform(dbUrl: string, platformSql: string): Promise<void> {
  try {
    await runPsql(dbUrl, { args: ["-1", "-f", platformSql] });
  } catch (err) {
    throw new StackError(`Applying ${platformSql} failed:\n${(err as Error).message}`);
  }
}

export interface PushOptions {
  cli: string;
  root: string;
  dbUrl: string;
  /** Also apply supabase/seed.sql (the CLI records it and skips it once applied). */
  seed: boolean;
}

/**
 * `supabase db push --db-url … [--include-seed]`: applies the migrations not yet recorded in
 * supabase_migrations.schema_migrations, each in its own transaction. Returns the CLI's output.
 */
export async function pushMigrations(opts: PushOptions): Promise<string> {
  const url = new URL(opts.dbUrl);
  url.searchParams.set("sslmode", "disable");
  const args = ["db", "push", "--db-url", url.href, "--workdir", opts.root, "--yes"];
  if (opts.seed) args.push("--include-seed");
  const out = await new Deno.Command(opts.cli, {
    args,
    cwd: opts.root,
    // No telemetry and no release check: both would reach out to the network on every start.
    env: {
      DO_NOT_TRACK: "1",
      SUPABASE_TELEMETRY_DISABLED: "1",
      SUPABASE_NO_UPDATE_NOTIFIER: "1",
      NO_COLOR: "1",
    },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  const output = (text.decode(out.stdout) + text.decode(out.stderr)).trim();
  if (out.code !== 0) {
    throw new StackError(`supabase db push failed (exit ${out.code}):\n${output}`);
  }
  return output;
}
