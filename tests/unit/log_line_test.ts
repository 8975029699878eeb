import { deepStrictEqual, equal } from "node:assert/strict";
import { line } from "../../supabase/functions/mcp-tools-server/lib/log.ts";

// The log line is built by hand for speed; it must be exactly what JSON.stringify would write.
Deno.test("log line: the same text JSON.stringify gives, for every kind of field", () => {
  const cases: Record<string, unknown>[] = [
    {},
    { tenant: "acme", key: "mcpk_0123456789ab", status: 200, ms: 0, code: null },
    {
      method: 'tools/"call"',
      tool: "a\\b",
      note: "line\nbreak\ttab",
      uni: "é ✓ \u2028",
      ctl: "\u0001",
    },
    { n: -1.5, big: 1e21, tiny: 5e-7, nan: NaN, inf: Infinity, neg0: -0 },
    { yes: true, no: false, gone: undefined, fn: () => 1, sym: Symbol("s") },
    { nested: { a: [1, "two", null, { b: undefined }] }, list: ["x", 'y"'] },
    { 'odd key"': 1, "ключ": "значение", "back\\slash": "\u007f" },
    { level: "overridden", event: "also" },
    { lone: "\ud800x", pair: "\ud83d\ude00", del: "\u007f", space: " ", empty: "" },
  ];
  // Twice: the second pass takes the field names from the cache of quoted names.
  for (const fields of [...cases, ...cases]) {
    equal(
      line("info", "request", fields),
      JSON.stringify({ level: "info", event: "request", ...fields }),
    );
  }
  equal(line("error", "e"), JSON.stringify({ level: "error", event: "e" }));
});

Deno.test("log line: an Error is its name and message, never its stack", () => {
  const err = new TypeError('bad "thing"');
  const text = line("error", "request_failed", { error: err, ref: "r1" });
  deepStrictEqual(JSON.parse(text), {
    level: "error",
    event: "request_failed",
    error: 'TypeError: bad "thing"',
    ref: "r1",
  });
  equal(text.includes("at "), false);
});
