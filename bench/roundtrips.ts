/**
 * Database round-trips per 1,000 MCP requests for one key, counted twice: by the function
 * (/metrics storeLookups) and independently by a counting proxy between the function and the
 * gateway, which sees every PostgREST request the function actually sends.
 */
import type { Stack } from "../scripts/stack.ts";
import { mcpBody, mcpHeaders } from "./mcp.ts";
import { round, sleep } from "./stats.ts";

export interface RoundTripFigures {
  ttlMs: number;
  requests: number;
  elapsedMs: number;
  /** TTL windows the run spans: the design allows one lookup per window. */
  windows: number;
  storeLookups: number;
  /** Key lookups (resolve_api_key) the proxy saw. */
  postgrestRequests: number;
  /** Everything else the function sent: limiter leases, usage writes and prunes. */
  meteringRequests: number;
  perThousand: number;
}

/** Forwards everything to `upstream`, counting requests to the REST API: key lookups apart. */
function countingProxy(upstream: string) {
  let rest = 0;
  let lookups = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/rest/v1/")) rest++;
    if (url.pathname === "/rest/v1/rpc/resolve_api_key") lookups++;
    return fetch(upstream + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    count: () => rest,
    lookups: () => lookups,
    stop: () => server.shutdown(),
  };
}

export async function roundTrips(
  stack: Stack,
  opts: { key: string; ttlMs: number; requests: number; spreadMs: number; entry?: string },
): Promise<RoundTripFigures> {
  const proxy = countingProxy(stack.supabaseUrl);
  const fn = await stack.startFunction(
    { SUPABASE_URL: proxy.url, TENANT_CACHE_TTL_MS: String(opts.ttlMs) },
    opts.entry,
  );
  try {
    const url = `${fn.url}/mcp-tools-server/mcp`;
    const headers = mcpHeaders(opts.key);
    const body = mcpBody("tools/call");
    const workers = 4;
    const interval = opts.spreadMs / opts.requests;
    const started = performance.now();
    let failed = 0;
    // Requests paced evenly over spreadMs, so the run crosses TTL windows at a known rate.
    await Promise.all(Array.from({ length: workers }, async (_, w) => {
      for (let i = w; i < opts.requests; i += workers) {
        const due = started + i * interval;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const res = await fetch(url, { method: "POST", headers, body });
        const text = await res.text();
        if (res.status !== 200 || !text.includes(`"result"`)) failed++;
      }
    }));
    const elapsedMs = performance.now() - started;
    if (failed) throw new Error(`${failed} of ${opts.requests} requests failed`);
    const metrics = await (await fetch(`${fn.url}/mcp-tools-server/metrics`, {
      headers: { authorization: `Bearer ${stack.metricsToken}` },
    })).json();
    return {
      ttlMs: opts.ttlMs,
      requests: opts.requests,
      elapsedMs: round(elapsedMs, 0),
      windows: Math.ceil(elapsedMs / opts.ttlMs),
      storeLookups: metrics.storeLookups,
      postgrestRequests: proxy.lookups(),
      meteringRequests: proxy.count() - proxy.lookups(),
      perThousand: round(metrics.storeLookups * 1000 / opts.requests, 1),
    };
  } finally {
    await fn.stop();
    await proxy.stop();
  }
}
