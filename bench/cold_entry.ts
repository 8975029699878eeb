/**
 * The function exactly as deployed — index.ts, or its build (`deno task build`), or the runtime's
 * floor (cold_floor.ts), named by BENCH_COLD_MODULE — with one addition outside it: Deno.serve is wrapped before the function
 * is imported, so the first answer says, in an `x-bench-first-answer-ms` header, how long after
 * the runtime started (performance.now()'s origin) its body was ready. Everything the function
 * does — its imports, configuration, composition, serving — falls inside that time.
 */
const serve = Deno.serve;
let first = true;

type Handler = (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;

function timed(handler: Handler): Handler {
  return async (request, info) => {
    if (!first) return handler(request, info);
    first = false;
    const response = await handler(request, info);
    const body = await response.arrayBuffer();
    const headers = new Headers(response.headers);
    headers.set("x-bench-first-answer-ms", performance.now().toFixed(2));
    return new Response(body, { status: response.status, headers });
  };
}

Deno.serve =
  ((options: Deno.ServeOptions, handler: Handler) =>
    serve(options, timed(handler))) as typeof Deno.serve;

// Named at run time only: a literal specifier here would make Deno load index.ts's whole module
// graph before this script's first line, whatever the run measures.
const module = Deno.env.get("BENCH_COLD_MODULE");
if (!module) throw new Error("BENCH_COLD_MODULE must name the module to start");
await import(module);
