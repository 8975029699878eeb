/**
 * The one load generator every variant is driven by: a fixed number of keep-alive HTTP/1.1
 * connections over loopback, each sending the same pre-encoded POST back to back (closed loop).
 * Raw sockets rather than fetch: it costs the shared 2 cores far less per request, so the
 * servers, not the client, set the pace.
 */

export interface LoadTarget {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadOptions {
  concurrency: number;
  durationMs: number;
  /** Requests in this first stretch are sent but not recorded. */
  warmupMs: number;
}

export interface LoadSample {
  requests: number;
  errors: number;
  /** Measured time, warm-up excluded. */
  elapsedMs: number;
  /** Every request answered, warm-up included (what the server did in the whole run). */
  sent: number;
  /** Latency of every recorded request, ms. */
  latencies: Float64Array;
  /** The first failure, to say what went wrong. */
  firstError?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CRLF2 = [13, 10, 13, 10];

export function encodeRequest(target: LoadTarget): Uint8Array {
  const url = new URL(target.url);
  const body = encoder.encode(target.body);
  const lines = [
    `POST ${url.pathname}${url.search} HTTP/1.1`,
    `host: ${url.host}`,
    ...Object.entries(target.headers).map(([k, v]) => `${k}: ${v}`),
    `content-length: ${body.length}`,
  ];
  const head = encoder.encode(lines.join("\r\n") + "\r\n\r\n");
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** A byte buffer over one connection that reads more only when a parse step needs it. */
class Reader {
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  constructor(private readonly conn: Deno.Conn) {}

  async #fill(): Promise<void> {
    if (this.#start > 0 && this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      const live = this.#end - this.#start;
      const next = live * 2 > this.#buf.length ? new Uint8Array(this.#buf.length * 2) : this.#buf;
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#start = 0;
      this.#end = live;
    }
    const n = await this.conn.read(this.#buf.subarray(this.#end));
    if (n === null) throw new Error("connection closed by server");
    this.#end += n;
  }

  #find(pattern: number[], from: number): number {
    outer: for (let i = from; i + pattern.length <= this.#end; i++) {
      for (let j = 0; j < pattern.length; j++) if (this.#buf[i + j] !== pattern[j]) continue outer;
      return i;
    }
    return -1;
  }

  /** Bytes up to (excluding) `pattern`, which is consumed too. */
  async until(pattern: number[]): Promise<Uint8Array> {
    // Searched from the start each time: what it looks for (a header block, a chunk size) is short.
    while (true) {
      const at = this.#find(pattern, this.#start);
      if (at >= 0) {
        const out = this.#buf.slice(this.#start, at);
        this.#start = at + pattern.length;
        return out;
      }
      await this.#fill();
    }
  }

  async take(n: number): Promise<Uint8Array> {
    while (this.#end - this.#start < n) await this.#fill();
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }
}

interface Answer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** Headers are collected only when asked for: the load loop needs none, and they cost. */
async function readAnswer(reader: Reader, keepHeaders = false): Promise<Answer> {
  const head = decoder.decode(await reader.until(CRLF2)).split("\r\n");
  const status = Number(head[0].split(" ")[1]);
  let length = -1;
  let chunked = false;
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (keepHeaders) headers.append(name, value);
    if (name === "content-length") length = Number(value);
    if (name === "transfer-encoding") chunked = value.toLowerCase().includes("chunked");
  }
  if (!chunked) {
    if (length < 0) throw new Error("response has neither content-length nor chunked encoding");
    return { status, headers, body: await reader.take(length) };
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const size = parseInt(decoder.decode(await reader.until([13, 10])), 16);
    if (size === 0) {
      await reader.until([13, 10]); // no trailers are sent; the empty line ends the body
      break;
    }
    const part = await reader.take(size);
    await reader.take(2);
    parts.push(part);
    total += size;
  }
  const body = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    body.set(part, at);
    at += part.length;
  }
  return { status, headers, body };
}

const RESULT = encoder.encode(`"result"`);

/** A JSON-RPC success starts with its result within the first bytes, in JSON or SSE framing. */
function isSuccess(answer: Answer): boolean {
  if (answer.status !== 200) return false;
  const head = answer.body.subarray(0, 96);
  outer: for (let i = 0; i + RESULT.length <= head.length; i++) {
    for (let j = 0; j < RESULT.length; j++) if (head[i + j] !== RESULT[j]) continue outer;
    return true;
  }
  return false;
}

/** One request over a fresh connection, fully parsed: for checks before timing. */
export async function sendOnce(
  target: LoadTarget,
): Promise<{ status: number; headers: Headers; text: string }> {
  const url = new URL(target.url);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  try {
    await conn.write(encodeRequest(target));
    const answer = await readAnswer(new Reader(conn), true);
    return { status: answer.status, headers: answer.headers, text: decoder.decode(answer.body) };
  } finally {
    conn.close();
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

export async function runLoad(target: LoadTarget, opts: LoadOptions): Promise<LoadSample> {
  const url = new URL(target.url);
  const request = encodeRequest(target);
  const started = performance.now();
  const measureFrom = started + opts.warmupMs;
  const stopAt = measureFrom + opts.durationMs;
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  let firstError: string | undefined;

  const worker = async () => {
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    conn.setNoDelay(true);
    const reader = new Reader(conn);
    try {
      while (true) {
        const t0 = performance.now();
        if (t0 >= stopAt) return;
        await writeAll(conn, request);
        const answer = await readAnswer(reader);
        const t1 = performance.now();
        sent++;
        if (t0 < measureFrom) continue;
        if (isSuccess(answer)) latencies.push(t1 - t0);
        else {
          errors++;
          firstError ??= `HTTP ${answer.status}: ${decoder.decode(answer.body).slice(0, 300)}`;
        }
      }
    } finally {
      conn.close();
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const elapsedMs = performance.now() - measureFrom;
  return {
    requests: latencies.length,
    sent,
    errors,
    elapsedMs,
    latencies: Float64Array.from(latencies),
    firstError,
  };
}
