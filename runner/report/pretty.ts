/**
 * The default reporter: one line per case with its time, details of failures, then a summary
 * line `N passed, N failed` alone on a line.
 *
 * @module
 */

import { formatResult } from "../run.ts";
import type { CaseResult } from "../run.ts";
import { formatMs, paint, type Reporter, type ReporterOptions, type Summary } from "./reporter.ts";

/**
 * Create the pretty reporter.
 *
 * @example
 * ```ts
 * import { prettyReporter } from "./pretty.ts";
 * const out: string[] = [];
 * const r = prettyReporter({ write: (s) => out.push(s) });
 * r.end({ passed: 0, failed: 0, errors: 0, total: 0, wallMs: 0 });
 * ```
 */
export function prettyReporter(options: ReporterOptions): Reporter {
  const c = options.color ?? false;
  const w = options.write;
  return {
    result(r: CaseResult, wallMs: number) {
      const time = paint(`(${formatMs(wallMs)})`, "gray", c);
      if (r.status === "passed") w(`${paint("ok", "green", c)}    ${r.name} ${time}\n`);
      else if (r.status === "failed") w(`${paint("FAIL", "red", c)}  ${r.name} ${time}\n`);
      else w(`${paint("ERROR", "yellow", c)} ${r.name} ${time}\n`);
      if (r.status !== "passed") {
        w(formatResult(r).split("\n").slice(1).map((l) => l + "\n").join(""));
      }
    },
    end(s: Summary) {
      if (s.total === 0) w("No scenario cases selected.\n");
      w("\n");
      const failed = s.failed + s.errors;
      w(`${paint(`${s.passed} passed`, s.passed ? "green" : "gray", c)}, ${
        paint(`${failed} failed`, failed ? "red" : "gray", c)
      }\n`);
      if (s.errors > 0) w(`(${s.errors} of them could not run)\n`);
    },
  };
}
