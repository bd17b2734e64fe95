/**
 * TAP version 14 output: one test point per case, YAML diagnostics for failures.
 *
 * @module
 */

import { formatPosition } from "../errors.ts";
import type { CaseResult } from "../run.ts";
import type { Reporter, ReporterOptions, Summary } from "./reporter.ts";

/**
 * Create the TAP reporter (the plan comes last, as TAP allows).
 *
 * @example
 * ```ts
 * import { tapReporter } from "./tap.ts";
 * const out: string[] = [];
 * const r = tapReporter({ write: (s) => out.push(s) });
 * r.end({ passed: 0, failed: 0, errors: 0, total: 0, wallMs: 0 });
 * out.join(""); // "TAP version 14\n1..0\n"
 * ```
 */
export function tapReporter(options: ReporterOptions): Reporter {
  let n = 0;
  let started = false;
  const start = () => {
    if (!started) options.write("TAP version 14\n");
    started = true;
  };
  return {
    result(r: CaseResult) {
      start();
      n++;
      if (r.status === "passed") {
        options.write(`ok ${n} - ${escape(r.name)}\n`);
        return;
      }
      options.write(`not ok ${n} - ${escape(r.name)}\n  ---\n`);
      options.write(`  file: ${JSON.stringify(r.file)}\n`);
      options.write(`  status: ${r.status}\n`);
      if (r.error) {
        options.write(`  message: ${JSON.stringify(r.error.message)}\n`);
        if (r.error.position) {
          options.write(`  at: ${JSON.stringify(formatPosition(r.error.position))}\n`);
        }
      }
      if (r.failures.length) {
        options.write("  failures:\n");
        for (const f of r.failures) {
          options.write(`    - at: ${JSON.stringify(formatPosition(f.position))}\n`);
          options.write(`      path: ${JSON.stringify(f.path)}\n`);
          options.write(`      message: ${JSON.stringify(f.message)}\n`);
          if (f.expected !== undefined) {
            options.write(`      expected: ${JSON.stringify(f.expected)}\n`);
          }
          if (f.actual !== undefined) options.write(`      actual: ${JSON.stringify(f.actual)}\n`);
        }
      }
      options.write("  ...\n");
    },
    end(_s: Summary) {
      start();
      options.write(`1..${n}\n`);
    },
  };
}

function escape(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/#/g, "\\#");
}
