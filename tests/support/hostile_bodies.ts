/**
 * A seeded generator of hostile MCP requests (bodies and headers): malformed and truncated JSON,
 * wrong types at every level, odd ids, deep and wide nesting, huge and ill-formed strings, unknown
 * methods and tools, conflicting protocol headers. The same seed gives the same cases, so a
 * failure is reproduced by its seed and index. What every answer must be: checkAnswer.
 */

/** mulberry32: small, fast, good enough to spread cases. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface HostileCase {
  what: string;
  body: string;
  headers: Record<string, string>;
}

const METHODS = [
  "tools/call",
  "tools/list",
  "initialize",
  "ping",
  "server/discover",
  "logging/setLevel",
  "resources/list",
  "notifications/initialized",
  "",
  "tools/call\u0000",
  "__proto__",
  "constructor",
];
const VERSIONS = ["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28", "1999-01-01", "", "x"];
const TOOLS = ["echo", "tenant_info", "nope", "", "__proto__", "echo\n", "a".repeat(300)];

export function hostileCases(seed: number, count: number): HostileCase[] {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];

  const scalar = (): unknown =>
    pick([
      () => null,
      () => true,
      () => int(1e9) - 5e8,
      () => random() * 1e300,
      () => -0,
      () => "",
      () => "x".repeat(int(5000)),
      () => "\ud800 lone",
      () => "\u0000\u202e",
      () => "😀".repeat(int(100)),
    ])();
  const value = (depth: number): unknown => {
    if (depth <= 0 || random() < 0.4) return scalar();
    return random() < 0.5
      ? Array.from({ length: int(5) }, () => value(depth - 1))
      : Object.fromEntries(
        Array.from(
          { length: int(5) },
          (_, i) => [pick(["a", "__proto__", "", `k${i}`]), value(depth - 1)],
        ),
      );
  };
  const nested = (depth: number, open = "[", close = "]") =>
    open.repeat(depth) + close.repeat(depth);

  const bodies: [string, () => string][] = [
    ["random message", () =>
      JSON.stringify({
        jsonrpc: pick(["2.0", "1.0", 2, undefined]),
        id: pick([int(1000), "s", null, 1.5, {}, [], true, undefined]),
        method: pick(METHODS),
        params: pick([undefined, null, [], "x", value(3)]),
      })],
    ["tools/call with odd arguments", () =>
      JSON.stringify({
        jsonrpc: "2.0",
        id: int(1000),
        method: "tools/call",
        params: {
          name: pick(TOOLS),
          arguments: pick([undefined, null, "x", [], value(4), { text: scalar() }]),
          _meta: pick([undefined, null, "x", { progressToken: value(2) }]),
        },
      })],
    [
      "deep nesting",
      () =>
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x","n":${
          nested(60 + int(5000), pick(["[", '{"a":']), "")
        }`,
    ],
    [
      "deep nesting, closed",
      () =>
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":${
          nested(40 + int(200))
        }}}}`,
    ],
    [
      "wide array",
      () =>
        `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":[${
          Array(int(150_000)).fill(0).join(",")
        }]}}`,
    ],
    ["truncated JSON", () => {
      const text = JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/list",
        params: value(3),
      });
      return text.slice(0, int(text.length));
    }],
    ["batch", () => JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "ping" }, value(2)])],
    [
      "garbage",
      () =>
        pick(["", " ", "null", "[]", "{}", "\u0000", "\ufeff{}", "1e400", '{"id":1e400}', "NaN"]),
    ],
    [
      "odd ids",
      () =>
        `{"jsonrpc":"2.0","id":${
          pick(["1e400", "-1e400", "9007199254740993", "0.1", '"' + "i".repeat(3000) + '"', "-0"])
        },"method":"ping"}`,
    ],
    [
      "duplicate keys",
      () => '{"jsonrpc":"2.0","id":1,"id":"2","method":"ping","method":"tools/list","params":{}}',
    ],
  ];
  const headerSets: [string, () => Record<string, string>][] = [
    ["plain", () => ({})],
    ["protocol version", () => ({ "mcp-protocol-version": pick(VERSIONS) })],
    ["modern headers", () => ({
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": pick(METHODS.filter((m) => !m.includes("\u0000"))),
      "mcp-name": pick(["echo", "x", "=?base64?ZWNobw==?=", ""]),
    })],
    ["accept", () => ({ accept: pick(["*/*", "text/event-stream", "", "application/xml"]) })],
    [
      "content type",
      () => ({ "content-type": pick(["text/plain", "", "application/json; charset=latin1"]) }),
    ],
    ["origin", () => ({ origin: pick(["null", "https://evil.example", "http://localhost:3000"]) })],
    ["session", () => ({ "mcp-session-id": pick(["", "x".repeat(500), "../../etc"]) })],
  ];
  return Array.from({ length: count }, (_, i) => {
    const [bodyKind, body] = pick(bodies);
    const [headerKind, headers] = pick(headerSets);
    return { what: `#${i} ${bodyKind}, ${headerKind} headers`, body: body(), headers: headers() };
  });
}

/** Why an answer is unacceptable, or null: no 5xx, JSON (or empty 202), no stack trace. */
export function answerProblem(status: number, contentType: string, text: string): string | null {
  if (status >= 500) return `status ${status}: ${text.slice(0, 200)}`;
  if (/\bat [\w.]+ \(|\.ts:\d+:\d+|\bstack\b/i.test(text)) {
    return `stack trace: ${text.slice(0, 200)}`;
  }
  if (status === 202 || status === 204) return text === "" ? null : `${status} with a body`;
  if (contentType.includes("text/event-stream")) {
    return text.includes("data:") ? null : "an event stream without data";
  }
  if (!contentType.includes("application/json")) return `content-type ${contentType}`;
  try {
    JSON.parse(text);
  } catch {
    return `not JSON: ${text.slice(0, 200)}`;
  }
  return null;
}
