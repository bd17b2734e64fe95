/**
 * Every bundled scenario (scenarios/**\/*.yaml) as a `Deno.test`: one test per file, one step per
 * matrix case. `deno test --filter <name>` selects scenarios; `--reporter=junit` reports them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { registerScenarios } from "./mod.ts";

const registered = await registerScenarios(new URL("./scenarios/", import.meta.url));

// A moved or emptied corpus must fail here instead of passing as "no scenario tests".
Deno.test("the bundled scenario corpus is registered", () => {
  assert.ok(registered >= 100, `only ${registered} scenario files found under scenarios/`);
});
