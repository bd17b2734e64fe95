/**
 * Typed errors for scenario files. Every error that a user's input can cause names the file,
 * line and column, so the CLI prints one precise line and never a stack trace.
 *
 * @module
 */

/** A place in a scenario file (1-based line and column). */
export interface SourcePosition {
  /** Path of the YAML file (as the user named it, or a URL). */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

/**
 * Format a position as `file:line:col`.
 *
 * @example
 * ```ts
 * import { formatPosition } from "./errors.ts";
 * formatPosition({ file: "a.yaml", line: 3, column: 7 }); // "a.yaml:3:7"
 * ```
 */
export function formatPosition(pos: SourcePosition | undefined): string {
  if (!pos) return "<unknown>";
  return pos.line > 0 ? `${pos.file}:${pos.line}:${pos.column}` : pos.file;
}

/**
 * Malformed YAML: tabs as indentation, duplicate keys, an empty file, a top level that is not a
 * map, an alias bomb.
 *
 * @example
 * ```ts
 * import { ScenarioSyntaxError } from "./errors.ts";
 * const e = new ScenarioSyntaxError("Duplicate key: name", { file: "a.yaml", line: 2, column: 1 });
 * e.message; // "a.yaml:2:1: Duplicate key: name"
 * ```
 */
export class ScenarioSyntaxError extends SyntaxError {
  /** File of the error. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** The message without the position prefix. */
  readonly detail: string;

  /** Create the error at a position. */
  constructor(detail: string, position: SourcePosition) {
    super(`${formatPosition(position)}: ${detail}`);
    this.name = "ScenarioSyntaxError";
    this.file = position.file;
    this.line = position.line;
    this.column = position.column;
    this.detail = detail;
  }
}

/** One schema problem: where, which key path, what was expected, and a suggestion. */
export interface SchemaIssue {
  /** Position of the offending key or value. */
  readonly position: SourcePosition;
  /** Key path, e.g. `machine.cpu.count` or `steps[2].run.until`. */
  readonly path: string;
  /** What is wrong, in sentence case. */
  readonly message: string;
  /** What would have been accepted, if known. */
  readonly expected?: string;
  /** The closest valid key or value (a "did you mean"), if one is close enough. */
  readonly suggestion?: string;
}

/**
 * Format one schema issue as a single line:
 * `file:line:col: machine.cpu.cuont: Unknown key (did you mean "count"?)`.
 *
 * @example
 * ```ts
 * import { formatSchemaIssue } from "./errors.ts";
 * formatSchemaIssue({
 *   position: { file: "a.yaml", line: 4, column: 3 },
 *   path: "stesp",
 *   message: "Unknown key",
 *   suggestion: "steps",
 * }); // 'a.yaml:4:3: stesp: Unknown key (did you mean "steps"?)'
 * ```
 */
export function formatSchemaIssue(issue: SchemaIssue): string {
  let s = `${formatPosition(issue.position)}: ${issue.path || "(top level)"}: ${issue.message}`;
  if (issue.expected) s += `: expected ${issue.expected}`;
  if (issue.suggestion !== undefined) s += ` (did you mean ${JSON.stringify(issue.suggestion)}?)`;
  return s;
}

/**
 * A scenario that parses as YAML but does not fit the scenario schema.
 *
 * @example
 * ```ts
 * import { ScenarioSchemaError } from "./errors.ts";
 * const e = new ScenarioSchemaError([{
 *   position: { file: "a.yaml", line: 1, column: 1 },
 *   path: "nmae",
 *   message: "Unknown key",
 *   suggestion: "name",
 * }]);
 * e.issues.length; // 1
 * ```
 */
export class ScenarioSchemaError extends TypeError {
  /** Every problem found, in file order. */
  readonly issues: readonly SchemaIssue[];
  /** File of the first issue. */
  readonly file: string;
  /** Line of the first issue. */
  readonly line: number;
  /** Column of the first issue. */
  readonly column: number;

  /** Create the error from at least one issue. */
  constructor(issues: readonly SchemaIssue[]) {
    super(issues.map(formatSchemaIssue).join("\n"));
    this.name = "ScenarioSchemaError";
    this.issues = issues;
    const first = issues[0]?.position;
    this.file = first?.file ?? "";
    this.line = first?.line ?? 0;
    this.column = first?.column ?? 0;
  }
}

/**
 * A scenario that cannot be loaded or run: a missing file, an `extends` cycle, a kernel step
 * while the kernel model is not available, an image that does not assemble, an impossible
 * machine.
 *
 * @example
 * ```ts
 * import { ScenarioLoadError } from "./errors.ts";
 * const e = new ScenarioLoadError("File not found: base.yaml", { file: "a.yaml", line: 3, column: 10 });
 * e.message; // "a.yaml:3:10: File not found: base.yaml"
 * ```
 */
export class ScenarioLoadError extends Error {
  /** File of the error. */
  readonly file: string;
  /** 1-based line (0 when the error concerns the whole file). */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** The message without the position prefix. */
  readonly detail: string;

  /** Create the error at a position. */
  constructor(detail: string, position: SourcePosition) {
    super(`${formatPosition(position)}: ${detail}`);
    this.name = "ScenarioLoadError";
    this.file = position.file;
    this.line = position.line;
    this.column = position.column;
    this.detail = detail;
  }
}

/** Any error a scenario's input can cause. */
export type ScenarioError = ScenarioSyntaxError | ScenarioSchemaError | ScenarioLoadError;

/**
 * True for the errors a scenario's input can cause (as opposed to bugs).
 *
 * @example
 * ```ts
 * import { isScenarioError, ScenarioLoadError } from "./errors.ts";
 * isScenarioError(new ScenarioLoadError("x", { file: "a", line: 0, column: 0 })); // true
 * ```
 */
export function isScenarioError(e: unknown): e is ScenarioError {
  return e instanceof ScenarioSyntaxError || e instanceof ScenarioSchemaError ||
    e instanceof ScenarioLoadError;
}

/**
 * The closest candidate to `word` by edit distance, if it is close enough to be a likely typo.
 *
 * @example
 * ```ts
 * import { didYouMean } from "./errors.ts";
 * didYouMean("stesp", ["steps", "expect", "name"]); // "steps"
 * didYouMean("zzz", ["steps"]); // undefined
 * ```
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  return bestDistance <= limit ? best : undefined;
}

/** Damerau-Levenshtein distance (optimal string alignment), so swapped letters count once. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(
        d[(i - 1) * cols + j] + 1,
        d[i * cols + j - 1] + 1,
        d[(i - 1) * cols + j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[(i - 2) * cols + j - 2] + 1);
      }
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1];
}
