/**
 * The reporter contract and shared helpers: results arrive in case order; the summary at the
 * end. Wall-clock times are measured by the CLI and only shown by human-facing reporters.
 *
 * @module
 */

import type { CaseResult } from "../run.ts";

/** Totals of a run. */
export interface Summary {
  /** Cases that passed. */
  readonly passed: number;
  /** Cases with a failed expectation. */
  readonly failed: number;
  /** Cases that could not run. */
  readonly errors: number;
  /** All cases. */
  readonly total: number;
  /** Wall-clock milliseconds (0 when not measured). */
  readonly wallMs: number;
}

/** Receives results in case order and writes a report. */
export interface Reporter {
  /** One case finished; `wallMs` is its wall-clock time (0 when not measured). */
  result(result: CaseResult, wallMs: number): void;
  /** Every case finished. */
  end(summary: Summary): void;
}

/** Options shared by the reporters. */
export interface ReporterOptions {
  /** Where text goes (stdout by default in the CLI). */
  write: (text: string) => void;
  /** Use ANSI colours. */
  color?: boolean;
}

/**
 * Compute the summary of a list of results.
 *
 * @example
 * ```ts
 * import { summarize } from "./reporter.ts";
 * summarize([], 0).total; // 0
 * ```
 */
export function summarize(results: readonly CaseResult[], wallMs: number): Summary {
  let passed = 0, failed = 0, errors = 0;
  for (const r of results) {
    if (r.status === "passed") passed++;
    else if (r.status === "failed") failed++;
    else errors++;
  }
  return { passed, failed, errors, total: results.length, wallMs };
}

/**
 * Wrap text in an ANSI colour when enabled.
 *
 * @example
 * ```ts
 * import { paint } from "./reporter.ts";
 * paint("ok", "green", false); // "ok"
 * ```
 */
export function paint(
  text: string,
  color: "red" | "green" | "yellow" | "gray" | "bold",
  on: boolean,
): string {
  if (!on) return text;
  const codes = { red: 31, green: 32, yellow: 33, gray: 90, bold: 1 } as const;
  return `\x1b[${codes[color]}m${text}\x1b[0m`;
}

/** Milliseconds as `12ms` or `1.2s`. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms)}ms`;
}
