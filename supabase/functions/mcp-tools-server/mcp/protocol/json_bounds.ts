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

/** Which limit the text exceeds, or null. Malformed JSON is left to the parser to describe. */
export function exceededJsonLimit(
  text: string,
  limits: { depth: number; values: number } = JSON_LIMITS,
): string | null {
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    switch (c) {
      case 0x22: // "
        inString = true;
        values++;
        break;
      case 0x5b: // [
      case 0x7b: // {
        values++;
        if (++depth > limits.depth) {
          return `JSON nested deeper than ${limits.depth} levels`;
        }
        break;
      case 0x5d: // ]
      case 0x7d: // }
        depth--;
        break;
      case 0x2c: // , (one more value follows)
        if (++values > limits.values) {
          return `more than ${limits.values} JSON values`;
        }
        break;
    }
  }
  return null;
}
