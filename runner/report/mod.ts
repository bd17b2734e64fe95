/**
 * Reporters by name: pretty (default), dot, tap, junit, json; plus GitHub annotations.
 *
 * @module
 */

import { dotReporter } from "./dot.ts";
import { githubReporter } from "./github.ts";
import { jsonReporter } from "./json.ts";
import { junitReporter } from "./junit.ts";
import { prettyReporter } from "./pretty.ts";
import type { Reporter, ReporterOptions, Summary } from "./reporter.ts";
import { tapReporter } from "./tap.ts";

export type { Reporter, ReporterOptions, Summary } from "./reporter.ts";
export { summarize } from "./reporter.ts";

/** The reporter names the CLI accepts. */
export const REPORTERS = ["pretty", "dot", "tap", "junit", "json"] as const;

/** A reporter name. */
export type ReporterName = (typeof REPORTERS)[number];

/**
 * Create a reporter by name.
 *
 * @example
 * ```ts
 * import { createReporter } from "./mod.ts";
 * const r = createReporter("tap", { write: () => {} });
 * r.end({ passed: 0, failed: 0, errors: 0, total: 0, wallMs: 0 });
 * ```
 */
export function createReporter(name: ReporterName, options: ReporterOptions): Reporter {
  switch (name) {
    case "pretty":
      return prettyReporter(options);
    case "dot":
      return dotReporter(options);
    case "tap":
      return tapReporter(options);
    case "junit":
      return junitReporter(options);
    case "json":
      return jsonReporter(options);
  }
}

/**
 * Fan results out to several reporters.
 *
 * @example
 * ```ts
 * import { combineReporters, createReporter } from "./mod.ts";
 * const r = combineReporters([createReporter("dot", { write: () => {} })]);
 * r.end({ passed: 0, failed: 0, errors: 0, total: 0, wallMs: 0 });
 * ```
 */
export function combineReporters(reporters: readonly Reporter[]): Reporter {
  return {
    result(r, ms) {
      for (const x of reporters) x.result(r, ms);
    },
    end(s: Summary) {
      for (const x of reporters) x.end(s);
    },
  };
}

export { dotReporter, githubReporter, jsonReporter, junitReporter, prettyReporter, tapReporter };
export type { ReporterOptions as Options };
