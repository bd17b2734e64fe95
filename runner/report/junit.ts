/**
 * JUnit XML: one `<testcase>` per scenario case, grouped in a `<testsuite>` per file.
 *
 * @module
 */

import { formatPosition } from "../errors.ts";
import { type CaseResult, formatResult } from "../run.ts";
import type { Reporter, ReporterOptions, Summary } from "./reporter.ts";

/**
 * Escape text for XML attributes and content (and drop characters XML 1.0 forbids).
 *
 * @example
 * ```ts
 * import { xmlEscape } from "./junit.ts";
 * xmlEscape('a<b & "c"'); // "a&lt;b &amp; &quot;c&quot;"
 * ```
 */
export function xmlEscape(s: string): string {
  return s
    // deno-lint-ignore no-control-regex
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, "")
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/**
 * Create the JUnit reporter (writes the XML document at the end).
 *
 * @example
 * ```ts
 * import { junitReporter } from "./junit.ts";
 * const out: string[] = [];
 * const r = junitReporter({ write: (s) => out.push(s) });
 * r.end({ passed: 0, failed: 0, errors: 0, total: 0, wallMs: 0 });
 * out.join("").startsWith("<?xml"); // true
 * ```
 */
export function junitReporter(options: ReporterOptions): Reporter {
  const rows: { r: CaseResult; ms: number }[] = [];
  return {
    result(r: CaseResult, wallMs: number) {
      rows.push({ r, ms: wallMs });
    },
    end(s: Summary) {
      const byFile = new Map<string, { r: CaseResult; ms: number }[]>();
      for (const row of rows) {
        const list = byFile.get(row.r.file) ?? [];
        list.push(row);
        byFile.set(row.r.file, list);
      }
      const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
      out.push(
        `<testsuites name="kexec-scenarios" tests="${s.total}" failures="${s.failed}" ` +
          `errors="${s.errors}" time="${(s.wallMs / 1000).toFixed(3)}">\n`,
      );
      for (const [file, list] of byFile) {
        const f = list.filter((x) => x.r.status === "failed").length;
        const e = list.filter((x) => x.r.status === "error").length;
        const t = list.reduce((a, x) => a + x.ms, 0);
        out.push(
          `  <testsuite name="${xmlEscape(file)}" tests="${list.length}" failures="${f}" ` +
            `errors="${e}" time="${(t / 1000).toFixed(3)}">\n`,
        );
        for (const { r, ms } of list) {
          out.push(
            `    <testcase name="${xmlEscape(r.name)}" classname="${xmlEscape(file)}" ` +
              `time="${(ms / 1000).toFixed(3)}"`,
          );
          if (r.status === "passed") {
            out.push("/>\n");
            continue;
          }
          out.push(">\n");
          const first = r.failures[0];
          const message = r.status === "failed"
            ? `${formatPosition(first?.position)}: ${first?.path}: ${first?.message}`
            : r.error?.message.split("\n")[0] ?? "could not run";
          const tag = r.status === "failed" ? "failure" : "error";
          out.push(
            `      <${tag} message="${xmlEscape(message)}" type="${tag}">` +
              `${xmlEscape(formatResult(r))}</${tag}>\n`,
          );
          out.push("    </testcase>\n");
        }
        out.push("  </testsuite>\n");
      }
      out.push("</testsuites>\n");
      options.write(out.join(""));
    },
  };
}
