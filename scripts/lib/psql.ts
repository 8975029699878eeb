// Running SQL through the psql client: it reports errors with file and line, which makes
// failing migrations easy to locate.

import { join } from "node:path";
import { MissingDependencyError, StackError } from "./errors.ts";
import { isExecutable, which } from "./which.ts";

let cached: string | undefined;

/** /usr/bin/psql, else psql on PATH, else the one next to the server binaries. */
export function psqlBinary(serverBinDir?: string): string {
  if (cached) return cached;
  const found = [
    "/usr/bin/psql",
    which("psql"),
    serverBinDir && join(serverBinDir, "psql"),
  ].find((p): p is string => !!p && isExecutable(p));
  if (!found) {
    throw new MissingDependencyError(
      "psql not found. Install it: apt-get install -y postgresql-client (Debian/Ubuntu).",
    );
  }
  return cached = found;
}

export interface PsqlOptions {
  /** Extra psql arguments placed before the stdin script, e.g. ["-1", "-f", file]. */
  args?: string[];
  /** SQL fed on stdin after the other arguments. */
  stdin?: string;
}

/**
 * Runs psql as the superuser behind `dbUrl`, stopping at the first error. Returns stdout
 * without its trailing newline; throws a StackError with psql's stderr on failure.
 */
export async function runPsql(dbUrl: string, opts: PsqlOptions): Promise<string> {
  const args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-d", dbUrl, ...(opts.args ?? [])];
  if (opts.stdin !== undefined) args.push("-f", "-");
  const child = new Deno.Command(psqlBinary(), {
    args,
    env: { PGCONNECT_TIMEOUT: "10" },
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(opts.stdin));
    await writer.close();
  }
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout).replace(/\n$/, "");
  if (out.code !== 0) {
    const stderr = new TextDecoder().decode(out.stderr).trim();
    throw new StackError(stderr || `psql exited with code ${out.code}`);
  }
  return stdout;
}

/** Runs one SQL script (several statements allowed) and returns psql's output. */
export function psql(dbUrl: string, sql: string): Promise<string> {
  return runPsql(dbUrl, { stdin: sql });
}
