// The local Supabase-like stack: PostgreSQL, PostgREST, a Kong-like gateway and the edge
// function as separate processes. Importing this module starts nothing.

import { dirname, join, resolve } from "node:path";
import { StackError } from "./lib/errors.ts";
import {
  asFunctionProcess,
  awaitFunctionHealth,
  FUNCTION_NAME,
  functionDeno,
  type FunctionProcess,
  spawnFunction,
  startExtraFunction,
} from "./lib/function.ts";
import { claimRunDir } from "./lib/lock.ts";
import { withLogTail } from "./lib/logs.ts";
import { applyPlatform, locateSupabaseCli, pushMigrations } from "./lib/migrations.ts";
import { choosePorts } from "./lib/ports.ts";
import {
  checkClusterVersion,
  clusterExists,
  findPostgres,
  initCluster,
  markSeeded,
  type PgTools,
  seedPending,
  startPostgres,
  stopPostgres,
  stopStalePostgres,
} from "./lib/postgres.ts";
import { locatePostgrest, startPostgrest } from "./lib/postgrest.ts";
import { type Child, reapRecordedChildren, spawnChild } from "./lib/process.ts";
import { psql, psqlBinary } from "./lib/psql.ts";
import { loadSecrets, mintKeys, newSecrets } from "./lib/secrets.ts";
import { jwksJson, type SigningKey } from "./lib/signing_key.ts";
import { Teardown } from "./lib/teardown.ts";
import { waitForOk } from "./lib/wait.ts";

export type { FunctionProcess } from "./lib/function.ts";
export { MissingDependencyError, PortInUseError, StackError } from "./lib/errors.ts";
export { AUTHENTICATED_USER_ID } from "./lib/secrets.ts";

const SCRIPTS_DIR = import.meta.dirname!;
const REPO_ROOT = dirname(SCRIPTS_DIR);
const PLATFORM_SQL = join(SCRIPTS_DIR, "sql", "supabase_platform.sql");
const GATEWAY_SCRIPT = join(SCRIPTS_DIR, "gateway.ts");
const AUTH_SCRIPT = join(SCRIPTS_DIR, "auth_standin.ts");
const SERVICE_READY_TIMEOUT_MS = 30_000;

export interface StackOptions {
  /** Project root; default: the repository this script lives in. */
  root?: string;
  /** Persisted cluster directory. Absent: a fresh temporary cluster, deleted on stop. */
  dataDir?: string;
  /** Absent ports are chosen free. */
  ports?: { gateway?: number; db?: number; postgrest?: number; function?: number };
  /** Extra environment for function processes (may override the defaults). */
  functionEnv?: Record<string, string>;
  /** Script run as the function instead of its index.ts; default for startFunction() too. */
  functionEntry?: string;
  /** Which Deno runs function processes (see functionDeno); default FUNCTION_DENO, else 2.1.4. */
  functionDeno?: string;
  /** Progress lines; default silent. */
  log?: (line: string) => void;
  /** Where the Auth stand-in sends people to approve OAuth clients; default `<gateway>/consent/`. */
  consentUrl?: string;
  /** Aborting it while starting stops what was started and rejects. */
  signal?: AbortSignal;
  /**
   * Restart PostgREST or the function when it exits on its own, after a backoff (0.5 s doubling
   * to 30 s; back to 0.5 s once a process has run for a minute), telling `onRestart` each step.
   * `crashed` then settles only for the gateway. Absent: any exit is a crash (tests want that).
   */
  restart?: { onRestart: (line: string) => void };
}

/** Where the running stack is and how to reach it: all a separate process needs. */
export interface StackEndpoints {
  /** Gateway base, e.g. http://127.0.0.1:54321 */
  supabaseUrl: string;
  /** `${supabaseUrl}/functions/v1/mcp-tools-server/mcp` */
  mcpUrl: string;
  serviceRoleKey: string;
  anonKey: string;
  /** role "authenticated", sub = AUTHENTICATED_USER_ID */
  authenticatedKey: string;
  jwtSecret: string;
  /** Signs user access tokens (ES256); the function verifies them against its JWKS. */
  signingKey: SigningKey;
  /** `${supabaseUrl}/auth/v1`: the issuer of user tokens. */
  authIssuer: string;
  /** Passed to the function as MCP_METRICS_TOKEN. */
  metricsToken: string;
  /** The function's TENANT_SECRETS_KEY (what set_tenant_secret needs here, without Vault). */
  tenantSecretsKey: string;
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth) */
  dbUrl: string;
  /** PostgREST without the gateway. */
  postgrestUrl: string;
  /** Environment every function process gets (besides MCP_FUNCTION_PORT). */
  functionEnv: Record<string, string>;
  /** Set when the stack runs another script than the function's index.ts. */
  functionEntry?: string;
  /** The deno binary function processes run on. */
  functionDeno: string;
  root: string;
  /** Holds logs/ (one file per process) and pids/. */
  runDir: string;
}

export interface Stack extends StackEndpoints, StackOperations {
  /** The function process behind the gateway. */
  function: FunctionProcess;
  /** Stops everything started; removes a temporary cluster. Idempotent. */
  stop(): Promise<void>;
  /**
   * Settles with an explanation (including the log tail) if PostgREST, the gateway or the
   * function exits on its own after start; never settles once stop() has begun.
   */
  crashed: Promise<string>;
}

function stopAll(children: Child[]): Promise<unknown> {
  return Promise.all(children.map((child) => child.stop()));
}

function firstCrash(children: Child[], stopping: () => boolean): Promise<string> {
  return Promise.race(children.map(async (child) => {
    const { code } = await child.status;
    if (stopping()) return new Promise<never>(() => {});
    return withLogTail(`${child.name} exited unexpectedly with code ${code}`, child.logPath);
  }));
}

/** Starts the whole stack and resolves once the function answers through the gateway. */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const log = opts.log ?? (() => {});
  const teardown = new Teardown(log);
  try {
    return await boot(opts, log, teardown);
  } catch (err) {
    await teardown.run();
    throw err;
  }
}

interface RunDirs {
  persisted: boolean;
  runDir: string;
  dataDir: string;
  logDir: string;
  pidDir: string;
}

/**
 * The directory holding the cluster, logs and pid records. A persisted one is claimed for
 * this process and cleared of whatever a crashed earlier run left running.
 */
async function openRunDir(
  opts: StackOptions,
  pg: PgTools,
  teardown: Teardown,
  log: (line: string) => void,
): Promise<RunDirs> {
  const persisted = opts.dataDir !== undefined;
  const runDir = persisted
    ? dirname(resolve(opts.dataDir!))
    : await Deno.makeTempDir({ prefix: "mcp-stack-" });
  if (!persisted) teardown.add(() => Deno.remove(runDir, { recursive: true }));
  const dirs = {
    persisted,
    runDir,
    dataDir: persisted ? resolve(opts.dataDir!) : join(runDir, "db"),
    logDir: join(runDir, "logs"),
    pidDir: join(runDir, "pids"),
  };
  await Deno.mkdir(dirs.logDir, { recursive: true });
  // The server runs as `postgres` when we are root and must be able to reach its directory.
  if (pg.runAs) await Deno.chmod(runDir, 0o755);
  if (!persisted) return dirs;

  teardown.add(await claimRunDir(runDir));
  const reaped = await reapRecordedChildren(dirs.pidDir);
  if (reaped.length) log(`stopped processes left by an earlier run: ${reaped.join(", ")}`);
  // Each run starts its logs afresh so failure tails belong to this run.
  await Deno.remove(dirs.logDir, { recursive: true });
  await Deno.mkdir(dirs.logDir);
  if (clusterExists(dirs.dataDir)) {
    checkClusterVersion(pg, dirs.dataDir);
    if (await stopStalePostgres(pg, dirs.dataDir)) log("stopped a PostgreSQL left running earlier");
  }
  return dirs;
}

/** Creates the cluster if needed, starts it and brings the schema up to date. */
async function startDatabase(
  pg: PgTools,
  cli: Promise<string>,
  dirs: RunDirs,
  port: number,
  root: string,
  teardown: Teardown,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<string> {
  if (!clusterExists(dirs.dataDir)) {
    log(`creating database cluster in ${dirs.dataDir}`);
    await initCluster(pg, dirs.dataDir);
  }
  signal?.throwIfAborted();
  const unhook = await startPostgres(pg, dirs.dataDir, { port, durable: dirs.persisted });
  teardown.add(async () => {
    await stopPostgres(pg, dirs.dataDir);
    unhook();
  });
  log(`postgres listening on 127.0.0.1:${port}`);

  const dbUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await applyPlatform(dbUrl, PLATFORM_SQL);
  // Like `supabase db reset`: the seed goes into a new cluster only.
  const seed = seedPending(dirs.dataDir);
  const output = await pushMigrations({ cli: await cli, root, dbUrl, seed });
  for (const line of output.split("\n")) {
    if (/^(Applying|Seeding)/.test(line)) log(line.trim());
  }
  if (seed) await markSeeded(dirs.dataDir);
  return dbUrl;
}

function spawnGateway(
  port: number,
  upstreams: { postgrestUrl: string; functionUrl: string; authUrl: string },
  dirs: RunDirs,
) {
  return spawnChild({
    name: "gateway",
    cmd: Deno.execPath(),
    args: ["run", "--no-prompt", "--allow-net", "--allow-env", "--allow-read", GATEWAY_SCRIPT],
    // The repository's deno.json maps "hono" for the gateway.
    cwd: dirname(SCRIPTS_DIR),
    env: {
      GATEWAY_PORT: String(port),
      POSTGREST_URL: upstreams.postgrestUrl,
      FUNCTION_URL: upstreams.functionUrl,
      AUTH_URL: upstreams.authUrl,
      CONSENT_DIR: join(dirs.runDir, "consent"),
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    },
    logPath: join(dirs.logDir, "gateway.log"),
    pidDir: dirs.pidDir,
  });
}

async function boot(
  opts: StackOptions,
  log: (line: string) => void,
  teardown: Teardown,
): Promise<Stack> {
  const { signal } = opts;
  const root = resolve(opts.root ?? REPO_ROOT);
  const pg = await findPostgres();
  psqlBinary(pg.binDir);
  const dirs = await openRunDir(opts, pg, teardown, log);

  const ports = choosePorts({
    gateway: opts.ports?.gateway,
    db: opts.ports?.db,
    postgrest: opts.ports?.postgrest,
    postgrestAdmin: undefined,
    function: opts.ports?.function,
    auth: undefined,
  });
  const secrets = dirs.persisted
    ? await loadSecrets(join(dirs.runDir, "stack-secrets.json"))
    : await newSecrets();
  const keys = await mintKeys(secrets);
  const supabaseUrl = `http://127.0.0.1:${ports.gateway}`;
  const postgrestUrl = `http://127.0.0.1:${ports.postgrest}`;
  const functionUrl = `http://127.0.0.1:${ports.function}`;
  const authUrl = `http://127.0.0.1:${ports.auth}`;
  const authIssuer = `${supabaseUrl}/auth/v1`;

  // Found (or installed) while the database starts; a failure surfaces when awaited.
  const postgrestBin = locatePostgrest(root, log);
  postgrestBin.catch(() => {});
  const denoBin = functionDeno(root, opts.functionDeno, log);
  denoBin.catch(() => {});
  const supabaseCli = locateSupabaseCli(root, log);
  supabaseCli.catch(() => {});

  const dbUrl = `postgres://postgres@127.0.0.1:${ports.db}/postgres`;
  const functionEnv = {
    SUPABASE_URL: supabaseUrl,
    SUPABASE_ANON_KEY: keys.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
    SUPABASE_DB_URL: dbUrl,
    MCP_METRICS_TOKEN: secrets.metricsToken,
    TENANT_SECRETS_KEY: secrets.tenantSecretsKey,
    // As Supabase injects it; user tokens are accepted locally so people can try signing in.
    SUPABASE_JWKS: jwksJson(secrets.signingKey),
    MCP_USER_TOKENS: "on",
    ...opts.functionEnv,
  };

  const children: Child[] = [];
  let stopping = false;
  teardown.add(async () => {
    stopping = true;
    await stopAll(children);
    // Function processes started by other processes (tests) against this stack.
    await reapRecordedChildren(dirs.pidDir);
  });
  signal?.throwIfAborted();

  // The function and the gateway need nothing from the database to start: they boot while the
  // schema goes in (the function's start is the slowest part on the runtime's Deno).
  const gateway = await spawnGateway(ports.gateway, { postgrestUrl, functionUrl, authUrl }, dirs);
  children.push(gateway);
  const denoPath = await denoBin;
  const startFn = () =>
    spawnFunction({
      root,
      entry: opts.functionEntry,
      deno: denoPath,
      env: functionEnv,
      port: ports.function,
      logPath: join(dirs.logDir, "function.log"),
      pidDir: dirs.pidDir,
    });
  const fn = await startFn();
  children.push(fn);

  await startDatabase(pg, supabaseCli, dirs, ports.db, root, teardown, log, signal);
  // Teardown runs backwards: the processes using the database stop before it (stop is idempotent).
  teardown.add(() => {
    stopping = true;
    return stopAll(children);
  });
  signal?.throwIfAborted();

  const postgrest = await startPostgrest({
    bin: await postgrestBin,
    dbPort: ports.db,
    port: ports.postgrest,
    adminPort: ports.postgrestAdmin,
    jwtSecret: secrets.jwtSecret,
    logPath: join(dirs.logDir, "postgrest.log"),
    pidDir: dirs.pidDir,
  });
  children.push(postgrest);
  await ready("PostgREST", `http://127.0.0.1:${ports.postgrestAdmin}/ready`, postgrest, signal);
  log(`postgrest listening on ${postgrestUrl}`);

  const auth = await spawnChild({
    name: "auth",
    cmd: Deno.execPath(),
    args: [
      "run",
      "--no-prompt",
      "--allow-net",
      "--allow-env",
      "--allow-run",
      "--allow-read",
      AUTH_SCRIPT,
    ],
    cwd: dirname(SCRIPTS_DIR),
    env: {
      AUTH_PORT: String(ports.auth),
      DB_URL: dbUrl,
      AUTH_ISSUER: authIssuer,
      AUTH_SIGNING_KEY: JSON.stringify(secrets.signingKey),
      JWT_SECRET: secrets.jwtSecret,
      AUTH_CONSENT_URL: opts.consentUrl ?? `${supabaseUrl}/consent/`,
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    },
    logPath: join(dirs.logDir, "auth.log"),
    pidDir: dirs.pidDir,
  });
  children.push(auth);
  await ready("The gateway", `${supabaseUrl}/health`, gateway, signal);
  await ready("The Auth stand-in", `${supabaseUrl}/auth/v1/.well-known/jwks.json`, auth, signal);
  const health = `${supabaseUrl}/functions/v1/${FUNCTION_NAME}/health`;
  await awaitFunctionHealth(health, fn, [gateway], signal);
  log(`function ready behind ${supabaseUrl}`);

  if (opts.restart) {
    const { onRestart } = opts.restart;
    const keep = (
      index: number,
      start: () => Promise<Child>,
      readyCheck: (c: Child) => Promise<void>,
    ) => superviseChild(children, index, start, readyCheck, onRestart, () => stopping);
    keep(children.indexOf(postgrest), async () =>
      startPostgrest({
        bin: await postgrestBin,
        dbPort: ports.db,
        port: ports.postgrest,
        adminPort: ports.postgrestAdmin,
        jwtSecret: secrets.jwtSecret,
        logPath: join(dirs.logDir, "postgrest.log"),
        pidDir: dirs.pidDir,
      }), (child) => ready("PostgREST", `http://127.0.0.1:${ports.postgrestAdmin}/ready`, child));
    keep(children.indexOf(fn), startFn, (child) => awaitFunctionHealth(health, child));
  }

  const endpoints: StackEndpoints = {
    supabaseUrl,
    mcpUrl: `${supabaseUrl}/functions/v1/${FUNCTION_NAME}/mcp`,
    ...keys,
    jwtSecret: secrets.jwtSecret,
    signingKey: secrets.signingKey,
    authIssuer,
    metricsToken: secrets.metricsToken,
    tenantSecretsKey: functionEnv.TENANT_SECRETS_KEY,
    dbUrl,
    postgrestUrl,
    functionEnv,
    functionEntry: opts.functionEntry,
    functionDeno: await denoBin,
    root,
    runDir: dirs.runDir,
  };
  return {
    ...endpoints,
    ...stackOperations(endpoints),
    function: asFunctionProcess(fn, ports.function),
    stop: () => teardown.run(),
    crashed: firstCrash(opts.restart ? [gateway] : children, () => stopping),
  };
}

const RESTART_BACKOFF_MS = [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000];
const STABLE_MS = 60_000;

/**
 * Keeps `children[index]` running: when it exits on its own, waits the next backoff step, starts
 * it again in the same slot (so stopping the stack stops the new one) and waits until it is
 * ready. A start that fails counts as one more exit.
 */
function superviseChild(
  children: Child[],
  index: number,
  start: () => Promise<Child>,
  readyCheck: (child: Child) => Promise<void>,
  onRestart: (line: string) => void,
  stopping: () => boolean,
): void {
  let attempt = 0;
  const watch = async (child: Child, startedAt: number) => {
    const { code, signal } = await child.status;
    if (stopping()) return;
    if (Date.now() - startedAt > STABLE_MS) attempt = 0;
    while (!stopping()) {
      const delay = RESTART_BACKOFF_MS[Math.min(attempt, RESTART_BACKOFF_MS.length - 1)];
      attempt++;
      onRestart(
        `${child.name} exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`}); ` +
          `restarting in ${delay / 1000} s (restart #${attempt}); log: ${child.logPath}`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (stopping()) return;
      try {
        const next = await start();
        children[index] = next;
        await readyCheck(next);
        onRestart(`${child.name} restarted (pid ${next.pid})`);
        watch(next, Date.now());
        return;
      } catch (err) {
        onRestart(`${child.name} did not start again: ${(err as Error).message.split("\n")[0]}`);
        const current = children[index];
        if (current !== child && current.exited() === undefined) await current.stop();
      }
    }
  };
  watch(children[index], Date.now());
}

async function ready(what: string, url: string, child: Child, signal?: AbortSignal) {
  try {
    await waitForOk(url, { timeoutMs: SERVICE_READY_TIMEOUT_MS, children: [child], signal });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new StackError(
      await withLogTail(`${what} did not become ready: ${(err as Error).message}`, child.logPath),
    );
  }
}

/** What a separate process (the test runner) needs to use a running stack; see connectStack. */
export interface TestStackInfo extends StackEndpoints {
  /** The main function process, without the gateway. */
  functionUrl: string;
  functionPid: number;
}

export function testStackInfo(stack: Stack): TestStackInfo {
  const { function: fn, startFunction: _s, psql: _p, stop: _t, crashed: _c, ...endpoints } = stack;
  return { ...endpoints, functionUrl: fn.url, functionPid: fn.pid };
}

/** What any process can do with a running stack, knowing only where it is. */
interface StackOperations {
  /** Runs SQL as superuser; returns stdout, throws with psql's stderr. */
  psql(sql: string): Promise<string>;
  /**
   * A function process on a free port with the main one's environment plus `env`, running the
   * stack's function entry unless `entry` names another script.
   */
  startFunction(env?: Record<string, string>, entry?: string): Promise<FunctionProcess>;
}

function stackOperations(at: StackEndpoints): StackOperations {
  return {
    psql: (sql) => psql(at.dbUrl, sql),
    startFunction: (env = {}, entry = at.functionEntry) =>
      startExtraFunction({
        root: at.root,
        entry,
        deno: at.functionDeno,
        env: { ...at.functionEnv, ...env },
        logDir: join(at.runDir, "logs"),
        pidDir: join(at.runDir, "pids"),
      }),
  };
}

export interface ConnectedStack extends StackOperations {
  info: TestStackInfo;
}

/**
 * Uses a stack started by another process, described by `info` (default: the TEST_STACK
 * environment variable). Function processes started here are also stopped by the owning
 * stack's stop(), should a test leave one behind.
 */
export function connectStack(info: TestStackInfo | string | undefined = undefined): ConnectedStack {
  const raw = info ?? Deno.env.get("TEST_STACK");
  if (!raw) throw new StackError("TEST_STACK is not set: run the tests with `deno task test`.");
  const parsed: TestStackInfo = typeof raw === "string" ? JSON.parse(raw) : raw;
  return { info: parsed, ...stackOperations(parsed) };
}
