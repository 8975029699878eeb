/**
 * Notifications from a remote MCP server's tool reach the caller live: over real HTTP through a
 * function process (on the edge runtime's Deno), from local servers built with the official SDKs
 * in both protocol eras, to callers of both eras. The upstream waits after its first step until
 * the test has seen that step arrive, so a relay that held notifications back until the result
 * would leave the gate shut (and the upstream says so in its answer).
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { lit, MCP_PATH, tenantWithKey } from "../support/fixtures.ts";
import { rpc } from "../support/mcp_client.ts";
import { type RemoteMcp, startRemoteMcp } from "../support/remote_mcp.ts";
import { stack } from "../support/stack.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const MODERN = "2026-07-28";
const CAP_BYTES = 20_000;

/** A new tenant with a key and every upstream attached under its prefix. */
async function attachedTenant(upstreams: Record<string, RemoteMcp>) {
  const t = await tenantWithKey([]);
  for (const [prefix, upstream] of Object.entries(upstreams)) {
    await stack.psql(
      `select public.attach_remote_server(${lit(t.slug)}, ${lit(prefix)}, ${
        lit(upstream.url)
      }, null, null)`,
    );
  }
  return t;
}

/** Both upstream eras and one function process allowed to reach them. */
async function withUpstreams(
  fn: (endpoint: string, upstreams: { new_: RemoteMcp; old_: RemoteMcp }) => Promise<void>,
) {
  const upstreams = {
    new_: startRemoteMcp({ era: "modern" }),
    old_: startRemoteMcp({ era: "legacy" }),
  };
  const process = await stack.startFunction({
    UPSTREAM_ALLOW_HOSTS: Object.values(upstreams).map((u) => u.hostPort).join(","),
    UPSTREAM_MAX_RESPONSE_BYTES: String(CAP_BYTES),
    // Generous: a loaded machine must not make a healthy server look unreachable.
    REMOTE_LIST_TIMEOUT_MS: "10000",
  });
  try {
    await fn(`${process.url}${MCP_PATH}`, upstreams);
  } finally {
    await process.stop();
    for (const upstream of Object.values(upstreams)) await upstream.close();
  }
}

interface Arrival {
  at: number;
  message: Any;
}

interface Streamed {
  status: number;
  contentType: string;
  arrivals: Arrival[];
  /** The JSON-RPC response: the last message. */
  body: Any;
  progress: Any[];
  logs: Any[];
}

/**
 * One tools/call, its answer read as it arrives: every SSE message with the time it came in
 * (performance.now() of this process, the clock the local upstreams use too), handed to
 * `onMessage` at once.
 */
async function streamedCall(
  endpoint: string,
  key: string,
  options: {
    name: string;
    args: Record<string, unknown>;
    era: "legacy" | "modern";
    progressToken?: string | number;
    accept?: "json" | "sse";
    headers?: Record<string, string>;
    id?: number;
    signal?: AbortSignal;
    onMessage?: (message: Any) => void;
  },
): Promise<Streamed> {
  const meta: Record<string, unknown> = {};
  if (options.progressToken !== undefined) meta.progressToken = options.progressToken;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: options.accept === "json" ? "application/json" : "application/json, text/event-stream",
    authorization: `Bearer ${key}`,
    ...options.headers,
  };
  if (options.era === "modern") {
    Object.assign(meta, {
      "io.modelcontextprotocol/protocolVersion": MODERN,
      "io.modelcontextprotocol/clientCapabilities": {},
      "io.modelcontextprotocol/clientInfo": { name: "tests", version: "1.0.0" },
      "io.modelcontextprotocol/logLevel": "info",
    });
    Object.assign(headers, {
      "mcp-protocol-version": MODERN,
      "mcp-method": "tools/call",
      "mcp-name": options.name,
    });
  }
  const params: Record<string, unknown> = { name: options.name, arguments: options.args };
  if (Object.keys(meta).length > 0) params._meta = meta;
  const res = await fetch(endpoint, {
    method: "POST",
    headers,
    body: JSON.stringify(rpc("tools/call", params, options.id)),
    signal: options.signal,
  });
  const contentType = res.headers.get("content-type") ?? "";
  const arrivals: Arrival[] = [];
  const take = (json: string) => {
    const message = JSON.parse(json);
    arrivals.push({ at: performance.now(), message });
    options.onMessage?.(message);
  };
  if (!contentType.includes("text/event-stream")) {
    take(await res.text());
  } else {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of res.body!) {
      buffered += decoder.decode(chunk, { stream: true }).replaceAll("\r\n", "\n");
      let end;
      while ((end = buffered.indexOf("\n\n")) >= 0) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = event.split("\n").filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trim()).join("\n");
        if (data) take(data);
      }
    }
  }
  const messages = arrivals.map((a) => a.message);
  return {
    status: res.status,
    contentType,
    arrivals,
    body: messages.at(-1),
    progress: messages.filter((m) => m.method === "notifications/progress"),
    logs: messages.filter((m) => m.method === "notifications/message"),
  };
}

/** Waits (up to 5 s) until one more of the upstream's answer streams has been cancelled. */
async function cancelledSince(upstream: RemoteMcp, before: number) {
  const since = performance.now();
  while (upstream.streamsCancelled === before && performance.now() - since < 5_000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  equal(upstream.streamsCancelled, before + 1, "the server's answer stream was cancelled");
}

/** Opens the upstream's gate for `tag` as soon as its first progress step arrives. */
function openOnFirstProgress(upstream: RemoteMcp, tag: string) {
  return (message: Any) => {
    if (message.method === "notifications/progress") upstream.gates.open(tag);
  };
}

/** What every live relay must show; `finishedAt` is when the upstream returned. */
function assertRelayedLive(got: Streamed, tag: string, token: string | number, finishedAt: number) {
  const all = JSON.stringify(got.arrivals);
  equal(got.status, 200, all);
  match(got.contentType, /text\/event-stream/);
  deepStrictEqual(got.body.result.content, [{ type: "text", text: `${tag} done` }], all);
  // The caller's own token on every step, never the one the upstream was given; steps increase.
  deepStrictEqual(
    got.progress.map((m) => [m.params.progressToken, m.params.progress, m.params.message]),
    [1, 2, 3].map((step) => [token, step, `${tag} step ${step}`]),
    all,
  );
  deepStrictEqual(got.logs.map((m) => [m.params.level, m.params.data]), [
    ["warning", `${tag} halfway`],
  ], all);
  const first = got.arrivals.find((a) => a.message.method === "notifications/progress")!;
  const last = got.arrivals.findLast((a) => a.message.method === "notifications/progress")!;
  const result = got.arrivals.at(-1)!;
  // The upstream then still had two 300 ms pauses ahead of it.
  ok(first.at < finishedAt - 500, `first step at ${first.at}, upstream done at ${finishedAt}`);
  ok(last.at - first.at >= 500, "the steps arrive as they are sent, not bunched at the end");
  ok(result.at >= last.at, "the result comes after every notification");
}

Deno.test("remote progress and log lines reach the caller while the upstream still runs (both upstream eras, both caller eras)", async () => {
  await withUpstreams(async (endpoint, upstreams) => {
    const t = await attachedTenant(upstreams);
    for (const [prefix, upstream] of Object.entries(upstreams)) {
      for (const era of ["legacy", "modern"] as const) {
        const tag = `${prefix}${era}-${crypto.randomUUID()}`;
        const token = era === "legacy" ? `caller-${tag}` : 7_000 + Math.floor(Math.random() * 1e6);
        const got = await streamedCall(endpoint, t.key, {
          name: `${prefix}paced`,
          args: { tag, gate: true },
          era,
          progressToken: token,
          onMessage: openOnFirstProgress(upstream, tag),
        });
        assertRelayedLive(got, tag, token, upstream.pacedFinished.get(tag)!);
      }
    }
  });
});

Deno.test("a caller that asked for no stream gets the same answer as before: JSON-only Accept, or no progress token", async () => {
  await withUpstreams(async (endpoint, upstreams) => {
    const t = await attachedTenant(upstreams);
    for (const prefix of Object.keys(upstreams)) {
      const json = await streamedCall(endpoint, t.key, {
        name: `${prefix}paced`,
        args: { tag: "json" },
        era: "legacy",
        progressToken: "ignored",
        accept: "json",
      });
      match(json.contentType, /application\/json/);
      equal(json.arrivals.length, 1, "one JSON answer, no notifications");
      deepStrictEqual(json.body.result.content, [{ type: "text", text: "json done" }]);

      // No token: no progress; a 2026 caller that asked for no log level gets no log line either,
      // so its answer is plain JSON.
      const modern = await streamedCall(endpoint, t.key, {
        name: `${prefix}paced`,
        args: { tag: "quiet" },
        era: "modern",
        headers: {},
      });
      equal(modern.progress.length, 0);
      deepStrictEqual(modern.body.result.content, [{ type: "text", text: "quiet done" }]);

      // A handshake-era caller gets info and above: the log line, but still no progress.
      const legacy = await streamedCall(endpoint, t.key, {
        name: `${prefix}paced`,
        args: { tag: "untracked" },
        era: "legacy",
      });
      equal(legacy.progress.length, 0, JSON.stringify(legacy.arrivals));
      deepStrictEqual(legacy.logs.map((m) => m.params.data), ["untracked halfway"]);
      deepStrictEqual(legacy.body.result.content, [{ type: "text", text: "untracked done" }]);
    }
  });
});

Deno.test("the size cap is counted as the upstream's answer streams: past it, the call ends with an error naming the server", async () => {
  await withUpstreams(async (endpoint, upstreams) => {
    const t = await attachedTenant(upstreams);
    for (const [prefix, upstream] of Object.entries(upstreams)) {
      const before = upstream.streamsCancelled;
      // 200 notifications of 1 kB, 20 ms apart: 4 s and 200 kB if nothing stopped it.
      const started = performance.now();
      const got = await streamedCall(endpoint, t.key, {
        name: `${prefix}flood`,
        args: { count: 200, size: 1_000, intervalMs: 20 },
        era: "legacy",
        progressToken: "flood",
      });
      const elapsed = performance.now() - started;
      const all = JSON.stringify(got.body);
      equal(got.body.result.isError, true, all);
      match(
        got.body.result.content[0].text,
        new RegExp(`remote MCP server "${prefix}" \\(127\\.0\\.0\\.1:\\d+\\).*${CAP_BYTES} bytes`),
      );
      // Steps before the cap were relayed live; none after it.
      ok(got.progress.length > 0, "steps before the cap reach the caller");
      ok(got.progress.length < CAP_BYTES / 1_000, `${got.progress.length} steps relayed`);
      ok(got.progress.every((m) => m.params.progressToken === "flood"));
      ok(
        elapsed < 3_000,
        `cut at the cap, not at the end of the flood (${Math.round(elapsed)} ms)`,
      );
      await cancelledSince(upstream, before);
    }
  });
});

Deno.test("isolation: interleaved callers of two tenants on one process and one upstream, same request id, token and session id, each see only their own notifications", async () => {
  await withUpstreams(async (endpoint, upstreams) => {
    const a = await attachedTenant(upstreams);
    const b = await attachedTenant(upstreams);
    for (let round = 0; round < 2; round++) {
      for (const [prefix, upstream] of Object.entries(upstreams)) {
        const tags = [`A-${crypto.randomUUID()}`, `B-${crypto.randomUUID()}`];
        const same = { id: 42, progressToken: "same", headers: { "mcp-session-id": "shared" } };
        const [gotA, gotB] = await Promise.all([a, b].map((t, i) =>
          streamedCall(endpoint, t.key, {
            name: `${prefix}paced`,
            args: { tag: tags[i], gate: true },
            era: "legacy",
            ...same,
            onMessage: openOnFirstProgress(upstream, tags[i]),
          })
        ));
        assertRelayedLive(gotA, tags[0], "same", upstream.pacedFinished.get(tags[0])!);
        assertRelayedLive(gotB, tags[1], "same", upstream.pacedFinished.get(tags[1])!);
        ok(!JSON.stringify(gotA.arrivals).includes(tags[1]), "A never sees B's notifications");
        ok(!JSON.stringify(gotB.arrivals).includes(tags[0]), "B never sees A's notifications");
      }
    }
  });
});

Deno.test("a caller that closes its stream mid-call ends the call to the remote server too", async () => {
  await withUpstreams(async (endpoint, upstreams) => {
    const t = await attachedTenant(upstreams);
    for (const [prefix, upstream] of Object.entries(upstreams)) {
      const tag = `${prefix}${crypto.randomUUID()}`;
      const before = upstream.streamsCancelled;
      const leaving = new AbortController();
      // The caller leaves after the first step; the gate stays shut, so the server's answer
      // would stay open until the gate gives up, unless the call to it is cancelled.
      await streamedCall(endpoint, t.key, {
        name: `${prefix}paced`,
        args: { tag, gate: true },
        era: "legacy",
        progressToken: "leaving",
        signal: leaving.signal,
        onMessage: (message) => {
          if (message.method === "notifications/progress") leaving.abort();
        },
      }).catch((err) => {
        if (!leaving.signal.aborted) throw err;
      });
      await cancelledSince(upstream, before);
      upstream.gates.open(tag);
    }
  });
});
