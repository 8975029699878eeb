/**
 * The function's code on the Deno the stack runs it on (FUNCTION_DENO; by default the edge
 * runtime's 2.1.4): it type-checks there with the function's own deno.json, as a deploy bundles
 * it, so an API newer than that Deno fails here; and the upstream guard's tests (pinned plain
 * HTTP, redirects, credentials across origins) pass there, not only on current Deno.
 */
import { equal, match } from "node:assert/strict";
import { join } from "node:path";
import { stack } from "../support/stack.ts";

async function onFunctionDeno(args: string[]): Promise<{ code: number; output: string }> {
  const { root, functionDeno } = stack.info;
  const out = await new Deno.Command(functionDeno, {
    args: [
      args[0],
      "--config",
      join(root, "supabase", "functions", "mcp-tools-server", "deno.json"),
      "--no-lock",
      ...args.slice(1),
    ],
    cwd: root,
    env: {
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
      DENO_TLS_CA_STORE: Deno.env.get("DENO_TLS_CA_STORE") ?? "system,mozilla",
    },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, output: text.decode(out.stdout) + text.decode(out.stderr) };
}

Deno.test("the function type-checks on the Deno it runs on", async () => {
  const { code, output } = await onFunctionDeno([
    "check",
    join(stack.info.root, "supabase", "functions", "mcp-tools-server", "index.ts"),
  ]);
  equal(code, 0, output);
});

Deno.test("the upstream guard's tests pass on the Deno the function runs on", async () => {
  const { code, output } = await onFunctionDeno([
    "test",
    "--allow-net",
    "--allow-read",
    "--allow-env",
    join(stack.info.root, "tests", "unit", "upstream_guard_test.ts"),
  ]);
  equal(code, 0, output);
  match(output, /plain HTTP connects to the address that was checked/);
  match(output, /ok \| \d+ passed \| 0 failed/);
});

Deno.test("the stack runs the function on the edge runtime's Deno unless told otherwise", async () => {
  const out = await new Deno.Command(stack.info.functionDeno, { args: ["--version"] }).output();
  const version = new TextDecoder().decode(out.stdout).split("\n")[0];
  const wanted = Deno.env.get("FUNCTION_DENO");
  if (!wanted) match(version, /^deno 2\.1\.4 /);
  else if (/^\d+\.\d+\.\d+$/.test(wanted)) match(version, new RegExp(`^deno ${wanted} `));
});

Deno.test("nothing under supabase/functions/ needs what a deploy leaves out or the runtime refuses", async () => {
  const dir = join(stack.info.root, "supabase", "functions");
  const found: string[] = [];
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = join(path, entry.name);
      if (entry.isDirectory) await walk(full);
      // Deno 2.1.4 refuses the workspace's lockfile version; a deploy never sends one anyway.
      else if (entry.name === "deno.lock") found.push(full);
    }
  };
  await walk(dir);
  equal(found.join(", "), "");
  const config = JSON.parse(
    await Deno.readTextFile(join(dir, "mcp-tools-server", "deno.json")),
  );
  equal(config.workspace, undefined, "the function's deno.json is its whole configuration");
  for (const [name, target] of Object.entries(config.imports as Record<string, string>)) {
    match(target, /^npm:\/?[^@]*@?[^@]+@\d+\.\d+\.\d+/, `${name}: a pinned npm: specifier`);
  }
});
