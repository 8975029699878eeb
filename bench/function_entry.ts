/**
 * The function exactly as index.ts composes and runs it (compose.ts, Deno.serve), except that its
 * catalog also holds the benchmark's tool family. With BENCH_PROBE_PORT set it also answers,
 * on that separate port so the measured path stays untouched:
 *   GET /timings  start-up and first-MCP-request times, ms since the process started
 *   GET /memory   Deno.memoryUsage() after a full GC (run with --expose-gc for a real GC)
 */
const entered = performance.now();
// Imported dynamically so their cost can be told apart from the runtime's own start.
const [{ composeApp }, { loadConfig }, { FAMILIES }, { benchTools }] = await Promise.all([
  import("../supabase/functions/mcp-tools-server/compose.ts"),
  import("../supabase/functions/mcp-tools-server/config.ts"),
  import("../supabase/functions/mcp-tools-server/tools/registry.ts"),
  import("./tools.ts"),
]);
const imported = performance.now();

const env = (name: string) => Deno.env.get(name);
const config = loadConfig(env);
// BENCH_METERING=off: no request log, usage events or limits, to measure what they cost.
const metering = env("BENCH_METERING") !== "off";
const { app } = composeApp(config, { families: [...FAMILIES, benchTools], metering });
const timings: Record<string, number> = { entered, imported, built: performance.now() };

/** The first MCP request is timed in full (body included); every later one goes straight on. */
type Handler = (request: Request) => Response | Promise<Response>;
let handle: Handler = async (request) => {
  if (!new URL(request.url).pathname.endsWith("/mcp")) return app.fetch(request);
  handle = app.fetch;
  timings.firstRequestStart = performance.now();
  const response = await app.fetch(request);
  const body = await response.arrayBuffer();
  timings.firstRequestEnd = performance.now();
  return new Response(body, response);
};

Deno.serve(
  {
    port: config.port,
    hostname: "127.0.0.1",
    onListen: () => timings.listening = performance.now(),
  },
  (request) => handle(request),
);

const probePort = env("BENCH_PROBE_PORT");
if (probePort) {
  const gc = (globalThis as { gc?: () => void }).gc;
  Deno.serve({ port: Number(probePort), hostname: "127.0.0.1", onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/timings") return Response.json(timings);
    if (path === "/memory") {
      gc?.();
      gc?.();
      return Response.json({ gc: gc !== undefined, ...Deno.memoryUsage() });
    }
    return new Response("not found", { status: 404 });
  });
}
