/**
 * Bounds on a JSON text, checked by one pass over its characters before it is parsed: parsing a
 * hostile body (hundreds of thousands of nested `[`) costs far more memory and time than the body's
 * size suggests, and every later step (validation, copies) multiplies it. Nothing is allocated here.
 */

export const JSON_LIMITS = {
  /** Arrays and objects inside one another; MCP messages need a handful. */
  depth: 64,
  /** Values in all (array items, object members, scalars). */
  values: 100_000,
} as const;

/**
 * Scans JSON incrementally, as text or as UTF-8 bytes (every byte JSON's structure depends on is
 * ASCII, and UTF-8 never uses those values inside a multi-byte character), so a body can be
 * refused while it is still arriving, before it is buffered whole.
 */
export class JsonBoundsScanner {
  #depth = 0;
  #values = 0;
  #inString = false;
  #escaped = false;

  constructor(private readonly limits: { depth: number; values: number } = JSON_LIMITS) {}

  /** Feeds more of the text; returns the limit exceeded so far, or null. */
  feed(chunk: string | Uint8Array): string | null {
    const bytes = typeof chunk !== "string";
    for (let i = 0; i < chunk.length; i++) {
      const c = bytes ? (chunk as Uint8Array)[i] : (chunk as string).charCodeAt(i);
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === 0x5c) this.#escaped = true; // backslash: the next character is escaped
        else if (c === 0x22) this.#inString = false;
        continue;
      }
      switch (c) {
        case 0x22: // "
          this.#inString = true;
          this.#values++;
          break;
        case 0x5b: // [
        case 0x7b: // {
          this.#values++;
          if (++this.#depth > this.limits.depth) {
            return `JSON nested deeper than ${this.limits.depth} levels`;
          }
          break;
        case 0x5d: // ]
        case 0x7d: // }
          this.#depth--;
          break;
        case 0x2c: // , (one more value follows)
          if (++this.#values > this.limits.values) {
            return `more than ${this.limits.values} JSON values`;
          }
          break;
      }
    }
    return null;
  }
}

/** Which limit the text exceeds, or null. Malformed JSON is left to the parser to describe. */
export function exceededJsonLimit(
  text: string,
  limits: { depth: number; values: number } = JSON_LIMITS,
): string | null {
  return new JsonBoundsScanner(limits).feed(text);
}

/** The refusal of a body over the bounds (the same words whether found early or late). */
export function boundsMessage(exceeded: string): string {
  return `The request body has ${exceeded}; MCP messages need far less. Send smaller arguments.`;
}
