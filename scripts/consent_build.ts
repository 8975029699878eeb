// `deno task consent --out <dir> [--supabase-url <url> --supabase-key <key>]`: the consent page as
// static files ready for any static host: index.html, consent.css, consent.js (the page's code with
// supabase-js from npm, bundled for browsers) and, given the project's URL and publishable key,
// config.js.

import { parseArgs } from "node:util";
import { dirname, join } from "node:path";

const SOURCE = join(dirname(import.meta.dirname!), "consent");

export async function buildConsentPage(
  out: string,
  project?: { supabaseUrl: string; supabaseKey: string },
): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  const bundled = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--minify",
      "-o",
      join(out, "consent.js"),
      join(SOURCE, "consent.ts"),
    ],
    cwd: dirname(SOURCE),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!bundled.success) {
    throw new Error(
      `bundling the consent page failed: ${new TextDecoder().decode(bundled.stderr)}`,
    );
  }
  for (const file of ["index.html", "consent.css"]) {
    await Deno.copyFile(join(SOURCE, file), join(out, file));
  }
  if (project) {
    await Deno.writeTextFile(
      join(out, "config.js"),
      `globalThis.CONSENT_CONFIG = ${JSON.stringify(project)};\n`,
    );
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string" },
      "supabase-url": { type: "string" },
      "supabase-key": { type: "string" },
    },
  });
  if (!values.out) {
    console.error(
      "usage: deno task consent --out <dir> [--supabase-url <url> --supabase-key <key>]",
    );
    Deno.exit(1);
  }
  const url = values["supabase-url"];
  const key = values["supabase-key"];
  await buildConsentPage(
    values.out,
    url && key ? { supabaseUrl: url, supabaseKey: key } : undefined,
  );
  console.log(
    `consent page written to ${values.out}${
      url && key ? "" : " (add config.js: see consent/config.example.js)"
    }`,
  );
}
