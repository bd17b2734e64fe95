/**
 * JSON output: every result and the summary, deterministic (no wall-clock times), so
 * `--jobs 1` and `--jobs N` give identical output.
 *
 * @module
 */

import type { CaseResult } from "../run.ts";
import type { Reporter, ReporterOptions, Summary } from "./reporter.ts";

/**
 * Create the JSON reporter (writes one JSON document at the end).
 *
 * @example
 * ```ts
 * import { jsonReporter } from "./json.ts";
 * const out: string[] = [];
 * const r = jsonReporter({ write: (s) => out.push(s) });
 * r.end({ passed: 0, failed: 0, errors: 0, total: 0, wallMs: 0 });
 * JSON.parse(out.join("")).summary.total; // 0
 * ```
 */
export function jsonReporter(options: ReporterOptions): Reporter {
  const results: CaseResult[] = [];
  return {
    result(r: CaseResult) {
      results.push(r);
    },
    end(s: Summary) {
      const doc = {
        results,
        summary: { passed: s.passed, failed: s.failed, errors: s.errors, total: s.total },
      };
      options.write(
        JSON.stringify(doc, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n",
      );
    },
  };
}
