/**
 * `deno task dev` as a developer runs it: --json prints one line that works, the same JSON lands
 * in dev.json, SIGTERM stops every process it started, and a second start reuses the database.
 * Runs dev in a scratch MCP_DEV_HOME on free ports, beside the suite's own stack.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { choosePorts } from "../../scripts/lib/ports.ts";
import { callTool, listTools, post, toolNames } from "../support/mcp_client.ts";

const ROOT = join(import.meta.dirname!, "..", "..");

function startDev(home: string, env: Record<string, string> = {}) {
  const ports = choosePorts({ gateway: undefined, db: undefined });
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "scripts/dev.ts",
      "--json",
      "--port",
      `${ports.gateway}`,
      "--db-port",
      `${ports.db}`,
    ],
    cwd: ROOT,
    env: { MCP_DEV_HOME: home, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** The first stdout line, or the process's stderr if it exits before printing one. */
async function firstLine(dev: Deno.ChildProcess): Promise<string> {
  const reader = dev.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.split("\n")[0];
}

/** Every descendant of `pid`, from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry.name)]);
    } catch {
      // Exited while we looked.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => (parents.get(p) ?? []).forEach((c) => (out.push(c), walk(c)));
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/\) Z /.test(stat); // a zombie has exited
  } catch {
    return false;
  }
}

async function stopAndCheck(dev: Deno.ChildProcess, home: string) {
  const postmaster = Number(
    Deno.readTextFileSync(join(home, "db", "postmaster.pid")).split("\n")[0],
  );
  const started = [postmaster, ...descendants(dev.pid)];
  ok(started.length >= 4, `expected postgres, PostgREST, gateway and function: ${started}`);
  dev.kill("SIGTERM");
  const status = await dev.status;
  await dev.stderr.cancel();
  equal(status.code, 0);
  const left = started.filter(alive);
  deepStrictEqual(left, [], "every process dev started has stopped");
  equal(await Deno.stat(join(home, "dev.json")).then(() => true, () => false), false);
}

Deno.test("dev: --json prints a working URL and key, and SIGTERM stops everything", async () => {
  const home = await Deno.makeTempDir({ prefix: "mcp-dev-test-" });
  try {
    for (const run of ["cold", "warm"]) {
      const dev = startDev(home);
      const line = await firstLine(dev);
      const info = JSON.parse(line);
      for (const field of ["mcp_url", "api_key", "supabase_url", "service_role_key"]) {
        equal(typeof info[field], "string", `${run}: ${field} in ${line}`);
      }
      match(info.mcp_url, /\/functions\/v1\/mcp-tools-server\/mcp$/);
      deepStrictEqual(JSON.parse(await Deno.readTextFile(join(home, "dev.json"))), info);
      const tools = await post(info.mcp_url, listTools(), { key: info.api_key });
      deepStrictEqual(
        toolNames(tools),
        ["crm_read", "crm_write", "echo", "tenant_info"],
        `${run}: the demo tenant's tools`,
      );
      const deals = await post(info.mcp_url, callTool("crm_read", { entity: "deal" }), {
        key: info.api_key,
      });
      equal(deals.body.result.structuredContent.items.length, 2, `${run}: the demo CRM's deals`);
      await stopAndCheck(dev, home);
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("dev: missing Postgres binaries give one clear message", async () => {
  const home = await Deno.makeTempDir({ prefix: "mcp-dev-test-" });
  try {
    const dev = startDev(home, { PG_BINDIR: join(home, "no-postgres-here") });
    const { code, stdout, stderr } = await dev.output();
    equal(code, 1);
    equal(new TextDecoder().decode(stdout), "");
    const message = new TextDecoder().decode(stderr).trim();
    match(message, /PostgreSQL server binaries .* not found/);
    match(message, /apt-get install -y postgresql/);
    ok(!/\n\s+at /.test(message), "no stack trace");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
