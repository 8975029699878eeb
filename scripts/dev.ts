// `deno task dev`: the local stack on a persisted database, plus a demo API key.
//
//   deno task dev [--port 54321] [--db-port 54322] [--json]
//
// Env MCP_DEV_PORT / MCP_DEV_DB_PORT work like the flags. Variables in supabase/functions/.env
// reach the function, as with `supabase functions serve`. Remove .local/db for a clean slate.

import { join } from "node:path";
import { parseArgs } from "node:util";
import { devHome, devJsonPath } from "./lib/dev_home.ts";
import { readDotenv } from "./lib/dotenv.ts";
import { PortInUseError, type Stack, StackError, startStack } from "./stack.ts";

const ROOT = join(import.meta.dirname!, "..");
/** MCP_DEV_HOME moves the cluster, logs and dev.json (tests run dev in a scratch folder). */
const DEV_HOME = devHome();
const DEV_JSON = devJsonPath();
const USAGE = "usage: deno task dev [--port <gateway port>] [--db-port <port>] [--json]";
const PORT_FLAGS: Record<string, string> = {
  gateway: "--port (or MCP_DEV_PORT)",
  db: "--db-port (or MCP_DEV_DB_PORT)",
};

function fail(message: string): never {
  console.error(message);
  Deno.exit(1);
}

function port(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${flag}: not a port number: ${value}`);
  return n;
}

function parseFlags() {
  try {
    const { values } = parseArgs({
      args: Deno.args,
      options: {
        port: { type: "string" },
        "db-port": { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      Deno.exit(0);
    }
    return {
      json: values.json,
      gateway: port(values.port ?? Deno.env.get("MCP_DEV_PORT"), 54321, "--port"),
      db: port(values["db-port"] ?? Deno.env.get("MCP_DEV_DB_PORT"), 54322, "--db-port"),
    };
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
}

function explain(err: unknown): string {
  if (err instanceof PortInUseError) {
    const flag = PORT_FLAGS[err.service];
    return flag ? `${err.message} Choose another one with ${flag}.` : err.message;
  }
  if (err instanceof StackError) return err.message;
  return `dev: ${err instanceof Error ? err.message : String(err)}`;
}

/** supabase/functions/.env without SUPABASE_* names, which the Supabase CLI skips too. */
async function functionSecrets(): Promise<Record<string, string>> {
  const env = await readDotenv(join(ROOT, "supabase", "functions", ".env"));
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith("SUPABASE_")));
}

/** Revokes earlier dev keys and issues a new one for the seeded `demo` tenant. */
async function issueDemoKey(stack: Stack): Promise<string> {
  const key = await stack.psql(`
    update public.api_keys set revoked_at = now() where label = 'local dev' and revoked_at is null;
    select public.issue_api_key('demo', 'local dev') ->> 'key';
  `);
  return key.trim();
}

function printBanner(info: Record<string, string>, seconds: string): void {
  console.log(`
mcp-tools-server is running (ready in ${seconds}s)

  MCP URL        ${info.mcp_url}
  API key        ${info.api_key}   (tenant "demo")
  Supabase URL   ${info.supabase_url}
  Database       ${info.db_url}
  Logs           ${join(DEV_HOME, "logs")}

Connect an MCP client:
  claude mcp add --transport http mcp-tools-server ${info.mcp_url} --header "Authorization: Bearer ${info.api_key}"

Ctrl-C to stop.`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const flags = parseFlags();
  const progress = flags.json ? () => {} : (line: string) => console.error(`· ${line}`);

  // First signal: stop cleanly. Another one a second later while stopping: leave now. (Under
  // `deno task`, one Ctrl-C can arrive twice: from the terminal and forwarded by the task.)
  const interrupted = new AbortController();
  let firstSignalAt = 0;
  const onSignal = () => {
    if (!interrupted.signal.aborted) {
      firstSignalAt = Date.now();
      interrupted.abort();
    } else if (Date.now() - firstSignalAt > 1000) {
      Deno.exit(130);
    }
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  let stack: Stack;
  try {
    stack = await startStack({
      dataDir: join(DEV_HOME, "db"),
      ports: { gateway: flags.gateway, db: flags.db },
      functionEnv: await functionSecrets(),
      log: progress,
      signal: interrupted.signal,
      // Always on stderr, --json too: a restart is news for whoever watches the terminal.
      restart: { onRestart: (line) => console.error(`· ${line}`) },
    });
  } catch (err) {
    if (interrupted.signal.aborted) Deno.exit(0);
    fail(explain(err));
  }

  let apiKey: string;
  try {
    apiKey = await issueDemoKey(stack);
  } catch (err) {
    await stack.stop();
    fail(`Could not issue the demo API key:\n${(err as Error).message}`);
  }

  const info = {
    mcp_url: stack.mcpUrl,
    api_key: apiKey,
    supabase_url: stack.supabaseUrl,
    functions_url: `${stack.supabaseUrl}/functions/v1`,
    service_role_key: stack.serviceRoleKey,
    anon_key: stack.anonKey,
    db_url: stack.dbUrl,
    metrics_token: stack.metricsToken,
    tenant_secrets_key: stack.tenantSecretsKey,
  };
  const line = JSON.stringify(info);
  await Deno.writeTextFile(DEV_JSON, line + "\n", { mode: 0o600 });
  await Deno.chmod(DEV_JSON, 0o600);

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (flags.json) console.log(line);
  else printBanner(info, seconds);

  const stopRequested = new Promise<void>((resolve) => {
    if (interrupted.signal.aborted) resolve();
    interrupted.signal.addEventListener("abort", () => resolve());
  });
  const crash = await Promise.race([stopRequested, stack.crashed]);
  progress("stopping");
  await stack.stop();
  await Deno.remove(DEV_JSON).catch(() => {});
  if (crash) fail(crash);
  Deno.exit(0);
}

await main();
