/**
 * GitHub Actions workflow annotations (`::error file=...,line=...,col=...::message`) for every
 * failed expectation and every case that could not run; used when `GITHUB_ACTIONS=true`.
 *
 * @module
 */

import type { CaseResult } from "../run.ts";
import type { Reporter, ReporterOptions } from "./reporter.ts";

function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/**
 * Create the annotation reporter.
 *
 * @example
 * ```ts
 * import { githubReporter } from "./github.ts";
 * const r = githubReporter({ write: () => {} });
 * r.end({ passed: 0, failed: 0, errors: 0, total: 0, wallMs: 0 });
 * ```
 */
export function githubReporter(options: ReporterOptions): Reporter {
  return {
    result(r: CaseResult) {
      const title = escapeProperty(r.name);
      for (const f of r.failures) {
        let msg = `${f.path}: ${f.message}`;
        if (f.expected !== undefined) msg += `\nexpected: ${f.expected}\nactual:   ${f.actual}`;
        options.write(
          `::error file=${escapeProperty(f.position.file)},line=${f.position.line},` +
            `col=${f.position.column},title=${title}::${escapeData(msg)}\n`,
        );
      }
      if (r.error) {
        const p = r.error.position;
        const where = p
          ? `file=${escapeProperty(p.file)},line=${p.line},col=${p.column},`
          : `file=${escapeProperty(r.file)},`;
        options.write(`::error ${where}title=${title}::${escapeData(r.error.message)}\n`);
      }
    },
    end() {},
  };
}
