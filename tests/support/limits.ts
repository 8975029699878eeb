/**
 * Rate limits and quotas as clients meet them: the same tools/call in both protocol eras, a 429
 * checked for its code, limit and Retry-After, and a quota spent from two function processes at once
 * and checked against the limiter's bounds (data/limiter.ts's header).
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { callTool, post, rpc, type Target } from "./mcp_client.ts";
import { stack } from "./stack.ts";

export const MODERN = "2026-07-28";
export const modernHeaders = (method: string, name?: string) => ({
  "mcp-protocol-version": MODERN,
  "mcp-method": method,
  ...(name ? { "mcp-name": name } : {}),
});
export const meta = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "tests", version: "1.0.0" },
};

/** The same tools/call of echo in both eras; `credential` is an API key or an access token. */
export function callIn(era: "modern" | "legacy", target: Target, credential: string) {
  if (era === "legacy") {
    return post(target, callTool("echo", { text: "x" }), { key: credential });
  }
  return post(
    target,
    rpc("tools/call", { name: "echo", arguments: { text: "x" }, _meta: meta }),
    { key: credential, headers: modernHeaders("tools/call", "echo") },
  );
}

/** A 429 with `code`, naming `limit` in body and message, with a matching Retry-After; its message. */
export function assertLimited(
  reply: { status: number; headers: Headers; text: string },
  code: string,
  limit: string,
): string {
  equal(reply.status, 429, reply.text);
  const body = JSON.parse(reply.text);
  equal(body.code, code);
  equal(body.limit, limit);
  match(body.error, new RegExp(limit.replace(".", "\\.")));
  const retryAfter = Number(reply.headers.get("retry-after"));
  ok(retryAfter >= 1 && retryAfter === body.retry_after_s, reply.text);
  return body.error;
}

/** Tokens handed out so far in the current window of one limit (usage_counters). */
export async function leased(subject: string, subjectId: string, limit: string): Promise<number> {
  return Number(
    await stack.psql(`select coalesce(sum(leased), 0) from public.usage_counters
      where subject = '${subject}' and subject_id = '${subjectId}' and limit_name = '${limit}'`),
  );
}

/**
 * 50 tools/calls with one credential, interleaved across `targets` (two function processes) and
 * both eras, 5 at a time, against a daily quota of `limit` leased in batches of at most `batch`:
 * what was admitted stays within the limiter's bounds, and every refusal names `limitName`. Returns
 * how many were admitted.
 */
export async function spendSharedQuota(
  targets: string[],
  credential: string,
  { limit, batch, limitName }: { limit: number; batch: number; limitName: string },
): Promise<number> {
  const statuses: number[] = [];
  const codes = new Set<string>();
  for (let round = 0; round < 10; round++) {
    const replies = await Promise.all(
      Array.from(
        { length: 5 },
        (_, i) =>
          callIn(i % 2 ? "modern" : "legacy", targets[(round + i) % targets.length], credential),
      ),
    );
    for (const reply of replies) {
      statuses.push(reply.status);
      if (reply.status === 429) {
        const body = JSON.parse(reply.text);
        codes.add(`${body.code} ${body.limit}`);
      }
    }
  }
  const admitted = statuses.filter((s) => s === 200).length;
  // admitted ≤ limit; refused early ≤ (isolates − 1) × (b + ⌊b / 4⌋), b = min(B, ⌈limit / 10⌉)
  const b = Math.min(batch, Math.ceil(limit / 10));
  ok(admitted <= limit, `admitted ${admitted} > ${limit}`);
  ok(
    admitted >= limit - (targets.length - 1) * (b + Math.floor(b / 4)),
    `admitted only ${admitted}`,
  );
  deepStrictEqual(statuses.filter((s) => s !== 200 && s !== 429), [], "only 200s and 429s");
  deepStrictEqual([...codes], [`QUOTA_EXCEEDED ${limitName}`]);
  return admitted;
}
