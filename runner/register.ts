/**
 * Register YAML scenarios as `Deno.test`s: one test per file (named after the scenario), one
 * test step per case, so `deno test --filter`, `--reporter=junit` and coverage work.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { walk } from "./discover.ts";
import { loadScenarioFile } from "./load.ts";
import { formatResult, runScenario, type RunScenarioOptions } from "./run.ts";

/** Options for {@linkcode registerScenarios}. */
export interface RegisterScenariosOptions extends RunScenarioOptions {
  /** Prefix of every test name (default none). */
  prefix?: string;
}

/**
 * A scenario that failed or could not run inside `deno test` (the message is the report).
 *
 * @example
 * ```ts
 * import { ScenarioTestFailure } from "./register.ts";
 * const e = new ScenarioTestFailure("FAIL  bootsector-hello");
 * e.stack; // "ScenarioTestFailure: FAIL  bootsector-hello" (no JavaScript frames)
 * ```
 */
export class ScenarioTestFailure extends Error {
  /** Create the failure; no stack trace is shown, only the report. */
  constructor(message: string) {
    super(message);
    this.name = "ScenarioTestFailure";
    this.stack = `${this.name}: ${message}`;
  }
}

/**
 * Register every scenario file under a directory (recursively; files starting with `_` are
 * `extends:` bases) as a `Deno.test`. Call it at the top level of a test module; returns the
 * number of files registered.
 *
 * @example
 * ```ts ignore
 * // my_scenarios_test.ts
 * import { registerScenarios } from "https://example.com/kexec-scenarios/mod.ts";
 * await registerScenarios(new URL("./scenarios/", import.meta.url));
 * ```
 */
export async function registerScenarios(
  dir: string | URL,
  options: RegisterScenariosOptions = {},
): Promise<number> {
  const path = dir instanceof URL ? fileURLToPath(dir) : dir;
  const files = await walk(path);
  for (const file of files) {
    let loaded;
    let loadError: unknown;
    try {
      loaded = await loadScenarioFile(file);
    } catch (e) {
      loadError = e;
    }
    const name = `${options.prefix ?? ""}${loaded?.name ?? file}`;
    if (!loaded) {
      Deno.test(name, () => {
        throw new ScenarioTestFailure(
          `${file} could not be loaded:\n${(loadError as Error).message}`,
        );
      });
      continue;
    }
    const cases = loaded.cases;
    Deno.test(name, async (t) => {
      const failed: string[] = [];
      for (const c of cases) {
        const run = async () => {
          const r = await runScenario(c, options);
          if (r.status !== "passed") {
            failed.push(c.name);
            throw new ScenarioTestFailure(formatResult(r));
          }
        };
        if (cases.length === 1 && Object.keys(c.matrix).length === 0) await run();
        else await t.step(c.name, run);
      }
      if (failed.length && cases.length > 1) {
        throw new ScenarioTestFailure(`Cases that did not pass: ${failed.join(", ")}`);
      }
    });
  }
  return files.length;
}
