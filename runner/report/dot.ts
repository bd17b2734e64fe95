/**
 * The dot reporter: `.` per passed case, `F` per failure, `E` per case that could not run;
 * details and the summary at the end.
 *
 * @module
 */

import { type CaseResult, formatResult } from "../run.ts";
import { paint, type Reporter, type ReporterOptions, type Summary } from "./reporter.ts";

/**
 * Create the dot reporter.
 *
 * @example
 * ```ts
 * import { dotReporter } from "./dot.ts";
 * const r = dotReporter({ write: () => {} });
 * r.end({ passed: 0, failed: 0, errors: 0, total: 0, wallMs: 0 });
 * ```
 */
export function dotReporter(options: ReporterOptions): Reporter {
  const c = options.color ?? false;
  const bad: CaseResult[] = [];
  return {
    result(r: CaseResult) {
      if (r.status === "passed") options.write(paint(".", "green", c));
      else {
        bad.push(r);
        options.write(r.status === "failed" ? paint("F", "red", c) : paint("E", "yellow", c));
      }
    },
    end(s: Summary) {
      options.write("\n");
      for (const r of bad) options.write("\n" + formatResult(r) + "\n");
      options.write(`\n${s.passed} passed, ${s.failed + s.errors} failed\n`);
    },
  };
}
