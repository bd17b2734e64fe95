/**
 * Exact integers for scenario files: decimal, `0x` hex, `0o` octal and `0b` binary literals with
 * `_` separators and an optional binary size suffix (`K`, `M`, `G`, `T`). Values are `bigint`
 * from the first character to the last, so 64-bit addresses never pass through a float.
 *
 * @module
 */

/** The multiplier of each size suffix (binary units: `1K` is 1024). */
export const SIZE_SUFFIXES: Readonly<Record<string, bigint>> = {
  K: 1n << 10n,
  M: 1n << 20n,
  G: 1n << 30n,
  T: 1n << 40n,
};

/** The largest value a 64-bit unsigned field holds. */
export const U64_MAX: bigint = (1n << 64n) - 1n;

/** A text that is not an integer literal, or an integer that does not fit its field. */
export class IntegerFormatError extends RangeError {
  /** Short description of what was expected, used in schema error messages. */
  readonly expected: string;

  /** Create the error; `expected` says what a valid value looks like. */
  constructor(message: string, expected: string) {
    super(message);
    this.name = "IntegerFormatError";
    this.expected = expected;
  }
}

/** What an integer literal may look like, for error messages. */
export const INTEGER_SYNTAX =
  "an integer (decimal, 0x hex, 0o octal or 0b binary, `_` separators allowed) " +
  "with an optional size suffix K, M, G or T";

const LITERAL =
  /^(0[xX][0-9a-fA-F](?:_?[0-9a-fA-F])*|0[oO][0-7](?:_?[0-7])*|0[bB][01](?:_?[01])*|[0-9](?:_?[0-9])*)([A-Za-z]*)$/;

/** Options for {@linkcode parseInteger}. */
export interface ParseIntegerOptions {
  /** Largest accepted value (default {@linkcode U64_MAX}). */
  max?: bigint;
  /** Name of the limit for messages, e.g. `64 bits` (default `64 bits`). */
  limitName?: string;
}

/**
 * Parse an integer literal exactly.
 *
 * @example
 * ```ts
 * import { parseInteger } from "./numbers.ts";
 * parseInteger("0x10_0000"); // 1048576n
 * parseInteger("256M"); // 268435456n
 * ```
 */
export function parseInteger(text: string, options: ParseIntegerOptions = {}): bigint {
  const max = options.max ?? U64_MAX;
  const limitName = options.limitName ?? "64 bits";
  const m = LITERAL.exec(text.trim());
  if (!m || (m[1] === "0" && /^[xXoObB]/.test(m[2]))) {
    throw new IntegerFormatError(`Not an integer: ${JSON.stringify(text)}`, INTEGER_SYNTAX);
  }
  const digits = m[1].replaceAll("_", "");
  const suffix = m[2];
  let value = BigInt(digits);
  if (suffix !== "") {
    const mult = SIZE_SUFFIXES[suffix];
    if (mult === undefined) {
      throw new IntegerFormatError(
        `Unknown size suffix: ${JSON.stringify(suffix)} in ${JSON.stringify(text)}`,
        "a size suffix K, M, G or T (binary units)",
      );
    }
    value *= mult;
  }
  return checkRange(value, max, limitName);
}

/**
 * Convert a parsed YAML scalar (a `bigint` from the YAML parser, or a string literal) into an
 * exact integer; floats are rejected.
 *
 * @example
 * ```ts
 * import { toInteger } from "./numbers.ts";
 * toInteger(0x7c00n); // 31744n
 * toInteger("64K"); // 65536n
 * ```
 */
export function toInteger(value: unknown, options: ParseIntegerOptions = {}): bigint {
  if (typeof value === "bigint") {
    if (value < 0n) {
      throw new IntegerFormatError(`Negative value: ${value}`, "a non-negative integer");
    }
    return checkRange(value, options.max ?? U64_MAX, options.limitName ?? "64 bits");
  }
  if (typeof value === "string") return parseInteger(value, options);
  if (typeof value === "number") {
    throw new IntegerFormatError(`Not an integer: ${value}`, INTEGER_SYNTAX);
  }
  throw new IntegerFormatError(`Not an integer: ${describeValue(value)}`, INTEGER_SYNTAX);
}

function checkRange(value: bigint, max: bigint, limitName: string): bigint {
  if (value > max) {
    throw new IntegerFormatError(
      `Value does not fit in ${limitName}: 0x${value.toString(16)}`,
      `an integer that fits in ${limitName}`,
    );
  }
  return value;
}

/** A short description of a value's type for error messages (`a map`, `the string "x"`). */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "bigint":
      return `the integer ${value}`;
    case "number":
      return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
    case "string":
      return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 37) + "..." : value)}`;
    case "boolean":
      return `the boolean ${value}`;
    case "object":
      return "a map";
    default:
      return typeof value;
  }
}
