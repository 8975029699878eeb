/**
 * Real MCP servers on 127.0.0.1 that a tenant attaches as remote tool sources, built with the
 * official SDKs: "modern" with @modelcontextprotocol/server 2.x serving only 2026-07-28
 * (`legacy: "reject"`), "legacy" with @modelcontextprotocol/sdk 1.x (stateless Streamable HTTP,
 * 2025 handshake only). Options make one slow, failing, or change its tool list.
 */
import { createMcpHandler, McpServer as ServerV2 } from "@modelcontextprotocol/server";
import { McpServer as ServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";

export type Era = "modern" | "legacy";

export interface RemoteMcpOptions {
  era: Era;
  /** Bearer token required on every request; absent: none. */
  token?: string;
  /** Delay before answering any request. */
  delayMs?: number;
  /** Answer every request 500 with this body. */
  broken?: string;
}

export interface RemoteMcp {
  url: string;
  hostPort: string;
  /** Extra tools listed (name → description); change it to change the list. */
  extraTools: Map<string, string>;
  /** Where `paced` calls wait after their first step, by tag, until the test opens them. */
  gates: Gates;
  /** When each `paced` call returned (performance.now(), by tag). */
  pacedFinished: Map<string, number>;
  /** SSE answers whose reader went away before the end (the client cancelled or disconnected). */
  readonly streamsCancelled: number;
  /** Authorization headers seen, in order. */
  authorizations: (string | null)[];
  options: RemoteMcpOptions;
  close(): Promise<void>;
}

type Notify = (notification: { method: string; params: Record<string, unknown> }) => Promise<void>;

/** Named one-shot gates: a tool waits on one (bounded), the test opens it. */
export class Gates {
  readonly #opened = new Set<string>();
  readonly #waiting = new Map<string, () => void>();

  open(tag: string): void {
    this.#opened.add(tag);
    this.#waiting.get(tag)?.();
  }

  /** True once `tag` is opened; false if it wasn't within `ms`. */
  wait(tag: string, ms: number): Promise<boolean> {
    if (this.#opened.has(tag)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(tag);
        resolve(false);
      }, ms);
      this.#waiting.set(tag, () => {
        clearTimeout(timer);
        this.#waiting.delete(tag);
        resolve(true);
      });
    });
  }
}

/** How long a gated `paced` call waits for the test before giving up. */
const GATE_WAIT_MS = 15_000;
const PACED_INTERVAL_MS = 300;

interface Fixture {
  extra: Map<string, string>;
  token: string | undefined;
  gates: Gates;
  pacedFinished: Map<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The same tools in both eras: echo, progress (quick, paced and gated, flooding), a log message,
 * slow and big answers, an error result, a throw.
 */
function tools(
  register: (
    name: string,
    description: string,
    shape: Record<string, z.ZodType>,
    run: (
      args: Record<string, unknown>,
      notify: Notify,
      progressToken: unknown,
    ) => Promise<unknown>,
    annotations?: Record<string, boolean>,
  ) => void,
  { extra, token, gates, pacedFinished }: Fixture,
) {
  register(
    "echo",
    "Echoes text back.",
    { text: z.string() },
    (args) => Promise.resolve({ content: [{ type: "text", text: `echo: ${args.text}` }] }),
    {
      readOnlyHint: true,
    },
  );
  register(
    "steps",
    "Reports progress, then finishes.",
    {},
    async (_args, notify, progressToken) => {
      if (progressToken !== undefined) {
        for (const progress of [1, 2]) {
          await notify({
            method: "notifications/progress",
            params: {
              progressToken,
              progress,
              total: 2,
              // Quotes the credential when there is one, as careless servers do.
              message: token ? `step ${progress} for Bearer ${token}` : `step ${progress}`,
            },
          });
        }
      }
      return { content: [{ type: "text", text: "done" }] };
    },
  );
  register(
    "paced",
    "Three progress steps 300 ms apart and a log line, each tagged; with gate, waits after the " +
      "first step until the test opens the tag's gate.",
    { tag: z.string(), gate: z.boolean().optional() },
    async (args, notify, progressToken) => {
      const tag = String(args.tag);
      const step = (progress: number) =>
        progressToken === undefined ? Promise.resolve() : notify({
          method: "notifications/progress",
          params: { progressToken, progress, total: 3, message: `${tag} step ${progress}` },
        });
      await step(1);
      const opened = args.gate ? await gates.wait(tag, GATE_WAIT_MS) : true;
      await sleep(PACED_INTERVAL_MS);
      await notify({
        method: "notifications/message",
        params: { level: "warning", logger: "remote", data: `${tag} halfway` },
      });
      await step(2);
      await sleep(PACED_INTERVAL_MS);
      await step(3);
      pacedFinished.set(tag, performance.now());
      const text = opened ? `${tag} done` : `${tag} done, but its gate was never opened`;
      return { content: [{ type: "text", text }] };
    },
  );
  register(
    "flood",
    "Sends count progress notifications of size characters, intervalMs apart, then finishes.",
    { count: z.number(), size: z.number(), intervalMs: z.number() },
    async (args, notify, progressToken) => {
      for (let i = 1; i <= Number(args.count); i++) {
        await notify({
          method: "notifications/progress",
          params: { progressToken, progress: i, message: "y".repeat(Number(args.size)) },
        });
        await sleep(Number(args.intervalMs));
      }
      return { content: [{ type: "text", text: "flooded" }] };
    },
  );
  register("sleep", "Answers after ms milliseconds.", { ms: z.number() }, async (args) => {
    await new Promise((resolve) => setTimeout(resolve, Number(args.ms)));
    return { content: [{ type: "text", text: "awake" }] };
  });
  register(
    "big",
    "Answers with chars characters.",
    { chars: z.number() },
    (args) =>
      Promise.resolve({ content: [{ type: "text", text: "x".repeat(Number(args.chars)) }] }),
  );
  register("note", "Logs a message, then finishes.", {}, async (_args, notify) => {
    await notify({
      method: "notifications/message",
      params: {
        level: "warning",
        logger: "remote",
        data: token ? { text: "halfway there", auth: [`Bearer ${token}`] } : "halfway there",
      },
    });
    return { content: [{ type: "text", text: "noted" }] };
  });
  register(
    "refuse",
    "Always answers with an error result.",
    {},
    // Echoes the credential, as careless servers do in error messages.
    () =>
      Promise.resolve({
        isError: true,
        content: [{ type: "text", text: `quota exceeded for Bearer ${token ?? "anonymous"}` }],
      }),
  );
  register("crash", "Always throws.", {}, () => Promise.reject(new Error("database on fire")));
  register(
    "leak",
    "Quotes the credential in an embedded resource and in structured content.",
    {},
    () =>
      Promise.resolve({
        content: [
          { type: "text", text: "ok" },
          {
            type: "resource",
            resource: { uri: "mem://auth", mimeType: "text/plain", text: `Bearer ${token}` },
          },
        ],
        structuredContent: { auth: `Bearer ${token}`, nested: [{ token }] },
      }),
  );
  for (const [name, description] of extra) {
    register(
      name,
      description,
      {},
      () => Promise.resolve({ content: [{ type: "text", text: name }] }),
    );
  }
}

function modernHandler(fixture: Fixture) {
  return createMcpHandler(() => {
    const server = new ServerV2({ name: "remote-modern", version: "1.0.0" }, {
      capabilities: { logging: {} },
    });
    tools(
      (name, description, shape, run, annotations) => {
        server.registerTool(
          name,
          { description, inputSchema: z.object(shape), annotations },
          // deno-lint-ignore no-explicit-any
          (args: any, ctx: any) =>
            run(args, (n) => ctx.mcpReq.notify(n), ctx.mcpReq._meta?.progressToken) as never,
        );
      },
      fixture,
    );
    return server;
  }, { legacy: "reject" });
}

async function legacyHandle(request: Request, fixture: Fixture): Promise<Response> {
  const server = new ServerV1({ name: "remote-legacy", version: "1.0.0" }, {
    capabilities: { logging: {} },
  });
  tools(
    (name, description, shape, run, annotations) => {
      server.registerTool(
        name,
        { description, inputSchema: shape, annotations },
        // deno-lint-ignore no-explicit-any
        (args: any, ctx: any) =>
          run(args, (n) => ctx.sendNotification(n), ctx._meta?.progressToken) as never,
      );
    },
    fixture,
  );
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  return await transport.handleRequest(request);
}

/** `response` unchanged, except that `onCancel` runs if its body is cancelled before the end. */
function watchCancel(response: Response, onCancel: () => void): Response {
  if (!response.body || !response.headers.get("content-type")?.includes("text/event-stream")) {
    return response;
  }
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      onCancel();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status: response.status, headers: response.headers });
}

export function startRemoteMcp(options: RemoteMcpOptions): RemoteMcp {
  const fixture: Fixture = {
    extra: new Map(),
    token: options.token,
    gates: new Gates(),
    pacedFinished: new Map(),
  };
  const authorizations: (string | null)[] = [];
  const streamsCancelled = { value: 0 };
  const modern = options.era === "modern" ? modernHandler(fixture) : undefined;
  const closing = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    authorizations.push(req.headers.get("authorization"));
    if (options.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.delayMs);
        closing.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (options.broken !== undefined) {
      return new Response(`${options.broken} (you sent ${req.headers.get("authorization")})`, {
        status: 500,
      });
    }
    if (options.token && req.headers.get("authorization") !== `Bearer ${options.token}`) {
      return Response.json({ error: "unauthorized" }, { status: 401 });
    }
    const response = modern ? await modern.fetch(req) : await legacyHandle(req, fixture);
    return watchCancel(response, () => streamsCancelled.value++);
  });
  const { port } = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    hostPort: `127.0.0.1:${port}`,
    extraTools: fixture.extra,
    gates: fixture.gates,
    pacedFinished: fixture.pacedFinished,
    get streamsCancelled() {
      return streamsCancelled.value;
    },
    authorizations,
    options,
    close: () => {
      closing.abort();
      return server.shutdown();
    },
  };
}
