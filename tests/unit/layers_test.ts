/**
 * The function's shape, checked from its source text alone (no database, no network): every file
 * sits in a layer, imports point only sideways or down, and the import graph has no cycle.
 *
 * `checkLayers` is a pure function of a map file → import specifiers (paths relative to the
 * function root, specifiers as written), so the self-test below runs it on a made-up graph too.
 * `import type` counts like any import: a type dependency is still a dependency.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { join, posix, relative, sep } from "node:path";

// ---------------------------------------------------------------------------------------------
// The rules, as data.
//
// A file may import files of its own rank or of a strictly lower rank. `only` narrows that to
// the listed layers (its own layer is always allowed); `never` forbids listed layers outright.
// `prefix` ends in "/" for a folder (subfolders included) or names one file; the longest prefix
// wins, so mcp/protocol/ is not mcp/.

type Layer = {
  name: string;
  prefix: string;
  rank: number;
  only?: string[];
  never?: string[];
  why?: string;
};

const LAYERS: Layer[] = [
  { name: "lib", prefix: "lib/", rank: 0, only: [], why: "lib/ imports nothing outside lib/" },
  {
    name: "mcp/protocol",
    prefix: "mcp/protocol/",
    rank: 0,
    only: [],
    why:
      "mcp/protocol/ is pure wire rules: it imports nothing outside mcp/protocol/, not even lib/",
  },
  {
    name: "config",
    prefix: "config.ts",
    rank: 0,
    only: [],
    why: "config.ts imports npm packages only, no file of the function",
  },
  { name: "data", prefix: "data/", rank: 1 },
  { name: "upstream", prefix: "upstream/", rank: 1 },
  { name: "tools", prefix: "tools/", rank: 2 },
  { name: "auth", prefix: "auth/", rank: 3, never: ["mcp"], why: "auth/ and mcp/ stay apart" },
  { name: "mcp", prefix: "mcp/", rank: 3, never: ["auth"], why: "auth/ and mcp/ stay apart" },
  { name: "http", prefix: "http/", rank: 4 },
  { name: "compose", prefix: "compose.ts", rank: 5 },
  {
    name: "index",
    prefix: "index.ts",
    rank: 5,
    only: ["compose", "config", "lib"],
    why: "index.ts only serves: it imports compose.ts, config.ts and lib/",
  },
];

/** Entries at the function root that are configuration, not code, and belong to no layer. */
const ROOT_CONFIG = ["deno.json", "deno.jsonc"];

/** URL schemes an import may use; bare names (import map) and these are not files of ours. */
const ALLOWED_SCHEMES = ["npm:", "node:"];

/** Marks an `import(…)` whose argument is not a string literal (it cannot be checked). */
export const NON_LITERAL = "<non-literal import()>";

const CODE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

// ---------------------------------------------------------------------------------------------
// The checker.

export type Violation = {
  file: string;
  specifier?: string;
  target?: string;
  rule: string;
  cycle?: string[];
};

function layerOf(file: string): Layer | undefined {
  let best: Layer | undefined;
  for (const layer of LAYERS) {
    const hit = layer.prefix.endsWith("/") ? file.startsWith(layer.prefix) : file === layer.prefix;
    if (hit && (!best || layer.prefix.length > best.prefix.length)) best = layer;
  }
  return best;
}

function isRootConfig(file: string): boolean {
  return ROOT_CONFIG.includes(file);
}

/** Every rule broken by `files` (paths relative to the function root → specifiers as written). */
export function checkLayers(files: Map<string, string[]>): Violation[] {
  const violations: Violation[] = [];
  const edges = new Map<string, Set<string>>();
  const misplacedRoots = new Set<string>();

  for (const [file, specifiers] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const from = layerOf(file);
    if (!from && !isRootConfig(file)) {
      const root = file.split("/")[0];
      if (!misplacedRoots.has(root)) {
        misplacedRoots.add(root);
        const kind = file.includes("/") ? "folder" : "file";
        violations.push({
          file: file.includes("/") ? `${root}/` : root,
          rule: `${kind} belongs to no layer: place it in one of ${
            LAYERS.map((l) => l.prefix).join(", ")
          } (or add it to the layer table in tests/unit/layers_test.ts with a rank)`,
        });
      }
    }
    const out = new Set<string>();
    edges.set(file, out);

    for (const specifier of specifiers) {
      const broken = (rule: string, target?: string) =>
        violations.push({ file, specifier, target, rule });

      if (specifier === NON_LITERAL) {
        broken("import() needs a string literal so the layers can be checked");
        continue;
      }
      if (!specifier.startsWith("./") && !specifier.startsWith("../")) {
        const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(specifier)?.[1];
        if (specifier.startsWith("/") || (scheme && !ALLOWED_SCHEMES.includes(scheme))) {
          broken(
            `only relative files and pinned npm: packages may be imported, not ${
              scheme ?? "absolute paths"
            }`,
          );
        }
        continue; // a bare name from the import map, npm: or node:
      }

      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      if (target.startsWith("../")) {
        broken("imports from outside the function root", target);
        continue;
      }
      if (!files.has(target)) {
        broken("imports a file that does not exist", target);
        continue;
      }
      out.add(target);

      const to = layerOf(target);
      if (!from || !to || from === to) continue;
      if (from.never?.includes(to.name)) {
        broken(`${from.name} must not import ${to.name}: ${from.why}`, target);
      } else if (from.only && !from.only.includes(to.name)) {
        const allowed = from.only.map((name) => LAYERS.find((l) => l.name === name)!.prefix);
        broken(
          from.only.length === 0
            ? `leaf layer: ${from.why}`
            : `${from.prefix} may import only ${allowed.join(", ")}: ${from.why}`,
          target,
        );
      } else if (to.rank > from.rank) {
        broken(
          `upward import: ${from.name} (rank ${from.rank}) may not import ${to.name} (rank ${to.rank})`,
          target,
        );
      }
    }
  }

  for (const cycle of findCycles(edges)) {
    violations.push({ file: cycle[0], cycle, rule: "import cycle" });
  }
  return violations;
}

/**
 * One shortest cycle per strongly connected component (Tarjan), starting at the component's
 * first file in sorted order, so the report is stable. Fixing it shows the next one, if any.
 */
function findCycles(edges: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;

  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of edges.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component);
    }
  };
  for (const node of [...edges.keys()].sort()) if (!index.has(node)) visit(node);

  const cycles: string[][] = [];
  for (const component of components) {
    const members = new Set(component);
    const start = [...component].sort()[0];
    if (component.length === 1 && !edges.get(start)?.has(start)) continue;
    // Breadth-first from start back to start, staying inside the component.
    const parent = new Map<string, string>();
    const queue = [start];
    let last: string | undefined;
    while (queue.length > 0 && last === undefined) {
      const node = queue.shift()!;
      for (const to of [...(edges.get(node) ?? [])].sort()) {
        if (to === start) {
          last = node;
          break;
        }
        if (members.has(to) && !parent.has(to)) {
          parent.set(to, node);
          queue.push(to);
        }
      }
    }
    const path = [last!];
    while (path[0] !== start) path.unshift(parent.get(path[0])!);
    cycles.push([...path, start]);
  }
  return cycles.sort((a, b) => a[0].localeCompare(b[0]));
}

export function formatViolation(v: Violation): string {
  if (v.cycle) return `import cycle: ${v.cycle.join(" → ")}`;
  const what = v.specifier === undefined
    ? ""
    : ` imports "${v.specifier}"${v.target ? ` (${v.target})` : ""}`;
  return `${v.file}${what}: ${v.rule}`;
}

// ---------------------------------------------------------------------------------------------
// Reading the real tree.

/**
 * The source with comments blanked and the insides of string, template and regex literals
 * blanked, same length and same line breaks, so a match in it is real code and its offsets
 * still point into the original text.
 */
function maskSource(src: string): string {
  const out = src.split("");
  const blank = (from: number, to: number) => {
    for (let k = from; k < to && k < out.length; k++) if (out[k] !== "\n") out[k] = " ";
  };
  const templates: number[] = []; // brace depth at each open `${`
  let braces = 0;
  let i = 0;

  const regexMayStart = () => {
    let k = i - 1;
    while (k >= 0 && /\s/.test(out[k])) k--;
    if (k < 0) return true;
    if ("(,=:[!&|?{};+-*%<>~^}".includes(out[k])) return true;
    let w = k;
    while (w >= 0 && /[\w$]/.test(out[w])) w--;
    const word = out.slice(w + 1, k + 1).join("");
    return /^(return|typeof|case|do|else|in|of|void|yield|await|throw|new|delete)$/.test(word);
  };

  const scanTemplate = (open: number) => {
    let j = open + 1;
    while (j < src.length && src[j] !== "`") {
      if (src[j] === "\\") j += 2;
      else if (src[j] === "$" && src[j + 1] === "{") break;
      else j++;
    }
    blank(open + 1, j);
    if (src[j] === "`") {
      i = j + 1;
    } else {
      templates.push(braces);
      i = j + 2;
    }
  };

  while (i < src.length) {
    const c = src[i];
    const n = src[i + 1];
    if (c === "/" && n === "/") {
      const end = src.indexOf("\n", i);
      const stop = end < 0 ? src.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && n === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      blank(i + 1, j);
      i = j + 1;
    } else if (c === "`") {
      scanTemplate(i);
    } else if (c === "}" && templates.length > 0 && templates[templates.length - 1] === braces) {
      templates.pop();
      scanTemplate(i);
    } else if (c === "/" && regexMayStart()) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && src[j] !== "\n" && (inClass || src[j] !== "/")) {
        if (src[j] === "\\") j++;
        else if (src[j] === "[") inClass = true;
        else if (src[j] === "]") inClass = false;
        j++;
      }
      blank(i + 1, j);
      i = j + 1;
    } else {
      if (c === "{") braces++;
      if (c === "}") braces--;
      i++;
    }
  }
  return out.join("");
}

/** The specifiers a source file imports: static, side-effect, re-export, type and dynamic. */
export function parseImports(src: string): string[] {
  const masked = maskSource(src);
  const found: { at: number; specifier: string }[] = [];
  const literalAt = (quote: number) => {
    const q = src[quote];
    const end = src.indexOf(q, quote + 1);
    return src.slice(quote + 1, end);
  };
  const patterns = [
    // import … from "x", import type … from "x", export … from "x", export type … from "x"
    /(?<![\w$.])(?:import|export)\s+(?:type\s+)?[\w$\s{},*]*?\bfrom\s*(["'])/g,
    // import "x"
    /(?<![\w$.])import\s*(["'])/g,
  ];
  for (const pattern of patterns) {
    for (const m of masked.matchAll(pattern)) {
      const quote = m.index! + m[0].length - 1;
      found.push({ at: quote, specifier: literalAt(quote) });
    }
  }
  // import("x"), typeof import("x"), and import(expression)
  for (const m of masked.matchAll(/(?<![\w$.])import\s*\(\s*/g)) {
    const at = m.index! + m[0].length;
    const q = src[at];
    const literal = q === '"' || q === "'" || q === "`";
    const specifier = literal ? literalAt(at) : NON_LITERAL;
    const closes = literal && /^\s*[,)]/.test(masked.slice(at + specifier.length + 2));
    found.push({
      at,
      specifier: closes && !(q === "`" && specifier.includes("${")) ? specifier : NON_LITERAL,
    });
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.specifier);
}

export const FUNCTION_ROOT = join(
  import.meta.dirname!,
  "..",
  "..",
  "supabase",
  "functions",
  "mcp-tools-server",
);

/** `deno task build`'s output: generated from the sources checked here, not a layer of its own. */
const BUILD_DIR = "dist";

/** Every file under the function root → what it imports (non-code files import nothing). */
export function loadFunctionGraph(root = FUNCTION_ROOT): Map<string, string[]> {
  const files = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) {
        if (dir === root && entry.name === BUILD_DIR) continue;
        walk(path);
      } else {
        const key = relative(root, path).split(sep).join("/");
        files.set(key, CODE.test(entry.name) ? parseImports(Deno.readTextFileSync(path)) : []);
      }
    }
  };
  walk(root);
  return files;
}

// ---------------------------------------------------------------------------------------------
// Tests.

Deno.test("layers: the function's import graph has no cycle and no upward import", () => {
  const files = loadFunctionGraph();
  ok(files.has("index.ts"), `no index.ts under ${FUNCTION_ROOT}`);
  const violations = checkLayers(files);
  if (violations.length > 0) {
    throw new Error(
      `${violations.length} layer rule(s) broken in supabase/functions/mcp-tools-server:\n` +
        violations.map((v) => `  - ${formatViolation(v)}`).join("\n"),
    );
  }
});

Deno.test("layers: the checker reports cycles, upward imports and every other rule", () => {
  const graph = new Map<string, string[]>([
    ["index.ts", ["./compose.ts", "./http/app.ts"]],
    ["compose.ts", ["./http/app.ts", "./config.ts", "zod"]],
    ["config.ts", ["zod", "node:process", "./lib/log.ts"]],
    ["deno.json", []],
    ["http/app.ts", ["../mcp/front.ts", "../auth/key.ts"]],
    ["auth/key.ts", ["../tools/contract.ts", "../mcp/front.ts"]],
    ["mcp/front.ts", ["./protocol/jsonrpc.ts", "../http/app.ts"]],
    ["mcp/protocol/jsonrpc.ts", ["../../lib/log.ts", "./versions.ts"]],
    ["mcp/protocol/versions.ts", ["./jsonrpc.ts"]],
    ["tools/contract.ts", ["../data/rpc.ts", "../upstream/fetch.ts"]],
    ["data/rpc.ts", ["../tools/contract.ts", "jsr:@std/assert", "npm:zod@4.6.7"]],
    ["upstream/fetch.ts", ["https://deno.land/x/y.ts", "./missing.ts", NON_LITERAL]],
    ["lib/log.ts", ["./clock.ts", "../../outside.ts"]],
    ["lib/clock.ts", []],
    ["util/helpers.ts", []],
    ["util/more.ts", []],
    ["stray.ts", []],
  ]);
  const got = checkLayers(graph).map(formatViolation);
  const want = [
    'auth/key.ts imports "../mcp/front.ts" (mcp/front.ts): auth must not import mcp: ' +
    "auth/ and mcp/ stay apart",
    'config.ts imports "./lib/log.ts" (lib/log.ts): leaf layer: config.ts imports npm packages ' +
    "only, no file of the function",
    'data/rpc.ts imports "../tools/contract.ts" (tools/contract.ts): upward import: data ' +
    "(rank 1) may not import tools (rank 2)",
    'data/rpc.ts imports "jsr:@std/assert": only relative files and pinned npm: packages may ' +
    "be imported, not jsr:",
    'index.ts imports "./http/app.ts" (http/app.ts): index.ts may import only compose.ts, ' +
    "config.ts, lib/: index.ts only serves: it imports compose.ts, config.ts and lib/",
    'lib/log.ts imports "../../outside.ts" (../outside.ts): imports from outside the function root',
    'mcp/front.ts imports "../http/app.ts" (http/app.ts): upward import: mcp (rank 3) may not ' +
    "import http (rank 4)",
    'mcp/protocol/jsonrpc.ts imports "../../lib/log.ts" (lib/log.ts): leaf layer: mcp/protocol/ ' +
    "is pure wire rules: it imports nothing outside mcp/protocol/, not even lib/",
    "stray.ts: file belongs to no layer: place it in one of lib/, mcp/protocol/, config.ts, " +
    "data/, upstream/, tools/, auth/, mcp/, http/, compose.ts, index.ts (or add it to the " +
    "layer table in tests/unit/layers_test.ts with a rank)",
    'upstream/fetch.ts imports "https://deno.land/x/y.ts": only relative files and pinned npm: ' +
    "packages may be imported, not https:",
    'upstream/fetch.ts imports "./missing.ts" (upstream/missing.ts): imports a file that does ' +
    "not exist",
    `upstream/fetch.ts imports "${NON_LITERAL}": import() needs a string literal so the ` +
    "layers can be checked",
    "util/: folder belongs to no layer: place it in one of lib/, mcp/protocol/, config.ts, " +
    "data/, upstream/, tools/, auth/, mcp/, http/, compose.ts, index.ts (or add it to the " +
    "layer table in tests/unit/layers_test.ts with a rank)",
    "import cycle: auth/key.ts → mcp/front.ts → http/app.ts → auth/key.ts",
    "import cycle: data/rpc.ts → tools/contract.ts → data/rpc.ts",
    "import cycle: mcp/protocol/jsonrpc.ts → mcp/protocol/versions.ts → mcp/protocol/jsonrpc.ts",
  ];
  deepStrictEqual(got, want);

  // A graph that keeps every rule reports nothing.
  const clean = new Map<string, string[]>([
    ["index.ts", ["./compose.ts", "./config.ts", "./lib/log.ts"]],
    ["compose.ts", ["./http/app.ts", "./upstream/fetch.ts"]],
    ["config.ts", ["zod"]],
    ["http/app.ts", ["../mcp/front.ts", "../auth/key.ts", "hono/cors"]],
    ["auth/key.ts", ["../data/rpc.ts", "../lib/log.ts"]],
    ["mcp/front.ts", ["./protocol/jsonrpc.ts", "../tools/contract.ts"]],
    ["mcp/protocol/jsonrpc.ts", []],
    ["tools/contract.ts", ["../data/rpc.ts"]],
    ["tools/http/family.ts", ["../contract.ts", "../../upstream/fetch.ts"]],
    ["data/rpc.ts", ["../upstream/fetch.ts", "../config.ts"]],
    ["upstream/fetch.ts", ["../lib/log.ts", "node:dns"]],
    ["lib/log.ts", []],
  ]);
  deepStrictEqual(checkLayers(clean).map(formatViolation), []);
});

Deno.test("layers: imports are read from code, not from comments or strings", () => {
  const src = [
    "// import { a } from './commented.ts';",
    "/* export * from '../block.ts'; */",
    'import type { A } from "./a.ts";',
    "import {",
    "  b,",
    "  type C,",
    '} from "../b.ts";',
    'import "./side.ts";',
    "export * from './reexport.ts';",
    'export type { D } from "./d.ts";',
    "const s = \"import { e } from './in_string.ts'\";",
    "const t = `import x from './in_template.ts' ${'${'}`;",
    "const r = /import('\\.\\/in_regex.ts')/;",
    'const lazy = await import("./lazy.ts");',
    "type T = typeof import('./typed.ts');",
    "const name = './x.ts';",
    "await import(name);",
    "const x = a / b; const y = c / d; // import './after_division.ts'",
    "console.log(import.meta.url);",
  ].join("\n");
  deepStrictEqual(parseImports(src), [
    "./a.ts",
    "../b.ts",
    "./side.ts",
    "./reexport.ts",
    "./d.ts",
    "./lazy.ts",
    "./typed.ts",
    NON_LITERAL,
  ]);
});
