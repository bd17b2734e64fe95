/**
 * Writes `schema/scenario.v1.json` from `runner/schema.ts` (`deno task schema`).
 * A test fails when the committed file differs from what this produces.
 *
 * @module
 */

import { scenarioJsonSchema } from "./schema.ts";

/**
 * The exact text of `schema/scenario.v1.json`.
 *
 * @example
 * ```ts
 * import { schemaFileText } from "./schema_gen.ts";
 * schemaFileText().endsWith("\n"); // true
 * ```
 */
export function schemaFileText(): string {
  return JSON.stringify(scenarioJsonSchema(), null, 2) + "\n";
}

if (import.meta.main) {
  const target = new URL("../schema/scenario.v1.json", import.meta.url);
  await Deno.writeTextFile(target, schemaFileText());
  console.log(`Wrote ${target.pathname}`);
}
