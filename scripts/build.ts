// `deno task build [--out DIR]`: the function as deployed — index.ts bundled with its npm
// dependencies, minified, split so that what only some requests need (tool families, the remote
// MCP client, user-token verification) stays in chunks loaded on first use. A fresh worker then
// reads a few files instead of resolving hundreds of modules. Default output:
// supabase/functions/mcp-tools-server/dist/ (config.toml's entrypoint is its index.js).

import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = join(import.meta.dirname!, "..");
const FUNCTION_DIR = join(ROOT, "supabase", "functions", "mcp-tools-server");
export const DEFAULT_BUILD_DIR = join(FUNCTION_DIR, "dist");

/** Builds index.ts into `outDir` (emptied first); returns the path of the entry, index.js. */
export async function buildFunction(outDir = DEFAULT_BUILD_DIR): Promise<string> {
  await Deno.remove(outDir, { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform=deno",
      "--minify",
      "--code-splitting",
      // The function's own import map, as a deploy reads it.
      "--config",
      join(FUNCTION_DIR, "deno.json"),
      "--no-lock",
      "--outdir",
      outDir,
      join(FUNCTION_DIR, "index.ts"),
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const entry = join(outDir, "index.js");
  if (!result.success) {
    const text = new TextDecoder().decode(result.stderr) + new TextDecoder().decode(result.stdout);
    throw new Error(`deno bundle failed:\n${text}`);
  }
  await Deno.stat(entry);
  return entry;
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
  const entry = await buildFunction(values.out ?? DEFAULT_BUILD_DIR);
  let bytes = 0;
  for await (const file of Deno.readDir(join(entry, ".."))) {
    if (file.isFile) bytes += (await Deno.stat(join(entry, "..", file.name))).size;
  }
  console.log(`built ${entry} (${Math.round(bytes / 1024)} KiB in all)`);
}
