/**
 * `deno task dev` as a developer runs it: --json prints one line that works, the same JSON lands
 * in dev.json, SIGTERM stops every process it started, and a second start reuses the database.
 * Runs dev in a scratch MCP_DEV_HOME on free ports, beside the suite's own stack.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { choosePorts } from "../../scripts/lib/ports.ts";
import { withChecksum } from "../../supabase/functions/mcp-tools-server/auth/api_key.ts";
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
  // Already cancelled when a test read it.
  if (!dev.stderr.locked) await dev.stderr.cancel();
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

/** Lines of `dev`'s stderr, read as they come, until `pattern` appears (or it ends). */
async function stderrUntil(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
  seen: string[],
): Promise<string> {
  let buffer = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`dev's stderr ended before ${pattern}: ${seen.join("\n")}`);
    buffer += value;
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    for (const line of lines) {
      seen.push(line);
      if (pattern.test(line)) return line;
    }
  }
}

function processWith(pids: number[], part: string): number {
  const pid = pids.find((p) => {
    try {
      return Deno.readTextFileSync(`/proc/${p}/cmdline`).includes(part);
    } catch {
      return false;
    }
  });
  if (pid === undefined) throw new Error(`no process with ${part} among ${pids}`);
  return pid;
}

Deno.test("dev: a crashed PostgREST or function is restarted with backoff, and says so", async () => {
  const home = await Deno.makeTempDir({ prefix: "mcp-dev-test-" });
  try {
    const dev = startDev(home);
    const info = JSON.parse(await firstLine(dev));
    const stderr = dev.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const seen: string[] = [];

    Deno.kill(processWith(descendants(dev.pid), "postgrest"), "SIGKILL");
    match(
      await stderrUntil(stderr, /postgrest exited unexpectedly/, seen),
      /signal SIGKILL.*restarting in 0\.5 s \(restart #1\)/,
    );
    await stderrUntil(stderr, /postgrest restarted/, seen);
    // The store answers again: an unknown key is plainly unknown, not "store unavailable".
    const hex = (n: number) =>
      Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0"))
        .join("");
    const unknown = await post(info.mcp_url, listTools(), {
      key: await withChecksum(`mcpk_${hex(6)}_${hex(32)}`),
    });
    equal(unknown.status, 401, unknown.text);
    match(unknown.text, /not recognised/);

    Deno.kill(processWith(descendants(dev.pid), "mcp-tools-server"), "SIGKILL");
    await stderrUntil(stderr, /mcp-tools-server exited unexpectedly/, seen);
    await stderrUntil(stderr, /mcp-tools-server restarted/, seen);
    const tools = await post(info.mcp_url, listTools(), { key: info.api_key });
    equal(tools.status, 200, tools.text);
    ok(toolNames(tools).includes("echo"));

    await stderr.cancel();
    await stopAndCheck(dev, home);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
