// `deno task build [--out FILE]`: the function as one JavaScript file (its npm dependencies
// included, minified), which is what `supabase functions deploy` ships (config.toml's
// entrypoint). A fresh worker then loads one file instead of resolving ~170 modules: the first
// request comes back markedly sooner on the edge runtime. The tests run this artefact too
// (tests/e2e/bundle_test.ts).

import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = join(import.meta.dirname!, "..");
export const FUNCTION_DIR = join(ROOT, "supabase", "functions", "mcp-tools-server");
export const BUNDLE = join(FUNCTION_DIR, "dist", "index.js");

/** Bundles index.ts into `out`; throws with Deno's output when bundling fails. */
export async function buildFunction(out = BUNDLE): Promise<void> {
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
  const out = values.out ?? BUNDLE;
  await buildFunction(out);
  console.log(`built ${out} (${Math.round((await Deno.stat(out)).size / 1024)} KiB)`);
}
