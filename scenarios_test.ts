/**
 * Every bundled scenario (scenarios/**\/*.yaml) as a `Deno.test`: one test per file, one step per
 * matrix case. `deno test --filter <name>` selects scenarios; `--reporter=junit` reports them.
 *
 * @module
 */

import { registerScenarios } from "./mod.ts";

await registerScenarios(new URL("./scenarios/", import.meta.url));
