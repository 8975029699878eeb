// The function as one JavaScript file (its npm dependencies included, minified), for the cold
// start comparison: would deploying a bundle instead of index.ts make a fresh worker answer
// sooner? (Measured: no — see the README's Benchmarks; so the deploy ships index.ts.)
//
//   deno run -A bench/bundle.ts [--out FILE]

import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = join(import.meta.dirname!, "..");
const FUNCTION_DIR = join(ROOT, "supabase", "functions", "mcp-tools-server");

/** Bundles index.ts into `out`; throws with Deno's output when bundling fails. */
export async function buildFunction(out: string): Promise<void> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform=deno",
      "--minify",
      "--output",
      out,
      join(FUNCTION_DIR, "index.ts"),
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    const text = new TextDecoder().decode(result.stderr) + new TextDecoder().decode(result.stdout);
    throw new Error(`deno bundle failed:\n${text}`);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
  const out = values.out ?? join(ROOT, ".local", "bundle", "index.js");
  await buildFunction(out);
  console.log(`built ${out} (${Math.round((await Deno.stat(out)).size / 1024)} KiB)`);
}
