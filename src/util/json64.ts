// Exact 64-bit integers in JSON text: parse integers beyond 2^53 as bigint, print bigint exactly.

/** The parts of ES2025 JSON source-text access that the TypeScript lib does not declare yet. */
interface JsonWithRaw {
  rawJSON(text: string): unknown;
  parse(
    text: string,
    reviver: (key: string, value: unknown, context: { source?: string }) => unknown,
  ): unknown;
}

const J = JSON as unknown as JsonWithRaw;
const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;
const SIXTEEN_DIGITS = /[0-9]{16}/;

/**
 * Parses JSON text like `JSON.parse`, except that an integer literal whose value is not a safe
 * double (|n| > 2^53 - 1) becomes a `bigint` holding its exact value. Throws `SyntaxError` on
 * malformed text, as `JSON.parse` does.
 */
export function parseJson64(text: string): unknown {
  // an integer beyond 2^53 - 1 has at least 16 digits: text without such a run parses as usual
  if (!SIXTEEN_DIGITS.test(text)) return JSON.parse(text);
  return J.parse(text, (_key, value, context) => {
    if (
      typeof value === "number" && !Number.isSafeInteger(value) && context.source !== undefined &&
      INTEGER_TEXT.test(context.source)
    ) {
      return BigInt(context.source);
    }
    return value;
  });
}

/** `JSON.stringify` replacer printing a `bigint` as its exact integer literal. */
function replacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? J.rawJSON(value.toString()) : value;
}

/**
 * Serializes like `JSON.stringify(value, null, indent)`, printing every `bigint` as an exact
 * integer literal (so a 64-bit ID such as 959721338713334732 is not rounded to a double).
 */
export function stringifyJson64(value: unknown, indent?: number | string): string {
  return JSON.stringify(value, replacer, indent) ?? "null";
}
