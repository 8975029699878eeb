// The PostgreSQL cluster: finding the server binaries, initdb, start and stop via pg_ctl.
// PostgreSQL refuses to run as root, so as root every server tool runs as `postgres`.

import { dirname, join } from "node:path";
import { MissingDependencyError, StackError } from "./errors.ts";
import { onExit } from "./exit_hook.ts";
import { withLogTail } from "./logs.ts";
import { isExecutable, which } from "./which.ts";

const TOOLS = ["initdb", "pg_ctl", "postgres"];
const SEED_PENDING = "seed-pending";

export interface PgTools {
  binDir: string;
  major: number;
  /** Set when running as root: the system user that owns and runs clusters. */
  runAs?: { name: string; uid: number; gid: number };
}

function hasTools(dir: string): boolean {
  return TOOLS.every((tool) => isExecutable(join(dir, tool)));
}

function candidateDirs(): string[] {
  // An explicit choice is honoured or reported, never silently replaced by another install.
  const override = Deno.env.get("PG_BINDIR");
  if (override) return [override];
  const dirs: string[] = [];
  const onPath = which("pg_ctl");
  if (onPath) dirs.push(dirname(Deno.realPathSync(onPath)));
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((entry) => entry.name)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // Not a Debian-style layout.
  }
  dirs.push("/usr/local/pgsql/bin");
  return dirs;
}

function postgresUser(): PgTools["runAs"] {
  let passwd = "";
  try {
    passwd = Deno.readTextFileSync("/etc/passwd");
  } catch {
    // Handled below like a missing user.
  }
  const line = passwd.split("\n").find((l) => l.startsWith("postgres:"));
  if (!line) {
    throw new MissingDependencyError(
      "Running as root, but PostgreSQL refuses root and there is no 'postgres' system user " +
        "to run it as. Create one (useradd --system postgres) or run as a normal user.",
    );
  }
  const [, , uid, gid] = line.split(":");
  return { name: "postgres", uid: Number(uid), gid: Number(gid) };
}

async function run(tools: PgTools, tool: string, args: string[]) {
  const path = join(tools.binDir, tool);
  const [cmd, cmdArgs] = tools.runAs
    ? ["runuser", ["-u", tools.runAs.name, "--", path, ...args]]
    : [path, args];
  const out = await new Deno.Command(cmd, { args: cmdArgs, stdin: "null" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text: text.trim() };
}

/** Finds initdb, pg_ctl and postgres; throws MissingDependencyError saying what to install. */
export async function findPostgres(): Promise<PgTools> {
  const binDir = candidateDirs().find(hasTools);
  if (!binDir) {
    const where = Deno.env.get("PG_BINDIR")
      ? `in PG_BINDIR (${Deno.env.get("PG_BINDIR")})`
      : "on PATH or in /usr/lib/postgresql/*/bin";
    throw new MissingDependencyError(
      `PostgreSQL server binaries (initdb, pg_ctl, postgres) not found ${where}. ` +
        "Install them: apt-get install -y postgresql " +
        "(Debian/Ubuntu), brew install postgresql@15 (macOS); or set PG_BINDIR to their directory.",
    );
  }
  const out = await new Deno.Command(join(binDir, "pg_ctl"), { args: ["--version"] }).output();
  const major = Number(new TextDecoder().decode(out.stdout).match(/(\d+)(\.\d+)?/)?.[1]);
  const runAs = Deno.uid() === 0 ? postgresUser() : undefined;
  return { binDir, major, runAs };
}

/** Hands `path` to the user that runs the server (no-op when not root). */
export async function giveToServer(tools: PgTools, path: string): Promise<void> {
  if (tools.runAs) await Deno.chown(path, tools.runAs.uid, tools.runAs.gid);
}

export function clusterExists(dataDir: string): boolean {
  try {
    return Deno.statSync(join(dataDir, "PG_VERSION")).isFile;
  } catch {
    return false;
  }
}

async function runInitdb(tools: PgTools, dir: string, locale: string) {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await giveToServer(tools, dir);
  const args = ["-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", locale];
  return await run(tools, "initdb", args);
}

/**
 * Creates a cluster with trust auth for the `postgres` superuser and marks the seed as
 * pending. It is built next to `dataDir` and moved into place when complete, so an
 * interrupted initdb never leaves a half-made cluster behind.
 */
export async function initCluster(tools: PgTools, dataDir: string): Promise<void> {
  const building = `${dataDir}.init`;
  let result = await runInitdb(tools, building, "--locale=C.UTF-8");
  if (result.code !== 0 && /invalid locale/i.test(result.text)) {
    // Systems without the C.UTF-8 locale: plain C sorts the same way.
    result = await runInitdb(tools, building, "--no-locale");
  }
  if (result.code !== 0) {
    await Deno.remove(building, { recursive: true }).catch(() => {});
    const tail = result.text.split("\n").slice(-20).join("\n");
    throw new StackError(`initdb failed for ${dataDir}:\n${tail}`);
  }
  await Deno.writeTextFile(join(building, SEED_PENDING), "");
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  await Deno.rename(building, dataDir);
}

export function seedPending(dataDir: string): boolean {
  try {
    Deno.statSync(join(dataDir, SEED_PENDING));
    return true;
  } catch {
    return false;
  }
}

export async function markSeeded(dataDir: string): Promise<void> {
  await Deno.remove(join(dataDir, SEED_PENDING));
}

/** Refuses clusters made by another major version, which the server could not open. */
export function checkClusterVersion(tools: PgTools, dataDir: string): void {
  const version = Number(Deno.readTextFileSync(join(dataDir, "PG_VERSION")).trim());
  if (version !== tools.major) {
    throw new StackError(
      `The database cluster in ${dataDir} was created by PostgreSQL ${version}, but the ` +
        `server binaries are PostgreSQL ${tools.major}. Remove that directory to recreate it.`,
    );
  }
}

/** Stops a server left running in `dataDir` by an earlier run that crashed. */
export async function stopStalePostgres(tools: PgTools, dataDir: string): Promise<boolean> {
  const status = await run(tools, "pg_ctl", ["status", "-D", dataDir]);
  if (status.code !== 0) return false;
  await stopPostgres(tools, dataDir);
  return true;
}

export interface StartOptions {
  port: number;
  /** False for throwaway clusters: skip fsync and friends. */
  durable: boolean;
}

/** Starts the server on 127.0.0.1 only (no Unix socket) and waits until it accepts work. */
export async function startPostgres(
  tools: PgTools,
  dataDir: string,
  opts: StartOptions,
): Promise<() => void> {
  const logPath = join(dataDir, "server.log");
  const options = [
    `-p ${opts.port}`,
    "-c listen_addresses=127.0.0.1",
    "-c unix_socket_directories=''",
    ...(opts.durable
      ? []
      : ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]),
  ].join(" ");
  // One log per run keeps the failure tail relevant.
  await Deno.remove(logPath).catch(() => {});
  const result = await run(tools, "pg_ctl", [
    "start",
    "-w",
    "-t",
    "60",
    "-D",
    dataDir,
    "-l",
    logPath,
    "-o",
    options,
  ]);
  if (result.code !== 0) {
    throw new StackError(
      await withLogTail(`PostgreSQL failed to start on port ${opts.port}: ${result.text}`, logPath),
    );
  }
  // If this process exits without stop(), still ask the server for a fast shutdown.
  return onExit(() => {
    const pid = Number(Deno.readTextFileSync(join(dataDir, "postmaster.pid")).split("\n")[0]);
    if (pid > 0) Deno.kill(pid, "SIGINT");
  });
}

/** Fast shutdown (rolls back open transactions), falling back to immediate. */
export async function stopPostgres(tools: PgTools, dataDir: string): Promise<void> {
  const fast = await run(tools, "pg_ctl", ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "30"]);
  if (fast.code === 0 || !clusterRunning(dataDir)) return;
  const immediate = await run(tools, "pg_ctl", ["stop", "-D", dataDir, "-m", "immediate", "-w"]);
  if (immediate.code !== 0) {
    throw new StackError(`Could not stop PostgreSQL in ${dataDir}: ${immediate.text}`);
  }
}

function clusterRunning(dataDir: string): boolean {
  try {
    Deno.statSync(join(dataDir, "postmaster.pid"));
    return true;
  } catch {
    return false;
  }
}
