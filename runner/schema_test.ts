import assert from "node:assert/strict";
import { walk } from "./discover.ts";
import { schemaFileText } from "./schema_gen.ts";

Deno.test("schema/scenario.v1.json is up to date (run `deno task schema`)", async () => {
  const committed = await Deno.readTextFile(new URL("../schema/scenario.v1.json", import.meta.url));
  assert.ok(
    committed === schemaFileText(),
    "schema/scenario.v1.json is stale: run `deno task schema`",
  );
});

Deno.test("the JSON Schema describes every step and rejects unknown keys", () => {
  const schema = JSON.parse(schemaFileText());
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.anyOf, [
    { required: ["apiVersion", "name", "machine", "steps"] },
    { required: ["extends"] },
  ]);
  const steps = JSON.stringify(schema.properties.steps);
  for (const step of ["power_on", "boot", "kexec_load", "kexec_unload", "reboot", "panic", "run"]) {
    assert.ok(steps.includes(`"${step}"`), step);
  }
  const memory = schema.properties.machine.properties.memory;
  assert.match(JSON.stringify(memory), /\[KMGT\]\?\$/);
});

Deno.test("bundled scenarios start with the yaml-language-server $schema line", async () => {
  const dir = new URL("../scenarios/", import.meta.url).pathname;
  for (const file of await walk(dir)) {
    const first = (await Deno.readTextFile(file)).split("\n")[0];
    const depth = file.slice(dir.length).split("/").length - 1;
    assert.equal(
      first,
      `# yaml-language-server: $schema=${"../".repeat(depth + 1)}schema/scenario.v1.json`,
      file,
    );
  }
});

Deno.test("the committed JSON Schema accepts every bundled scenario and rejects misspelled keys", async () => {
  // A real JSON Schema 2020-12 validator, as an editor would use (zod's converter drops anyOf).
  const { Ajv2020 } = await import("npm:ajv@^8.17.1/dist/2020.js");
  const { parseYaml } = await import("./yaml.ts");
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(
    JSON.parse(schemaFileText()),
  );
  const schema = {
    safeParse: (v: unknown) => {
      const success = validate(v) as boolean;
      return { success, error: success ? undefined : { issues: validate.errors } };
    },
  };
  // JSON has no 64-bit integers: large values go as hex strings, which the schema also accepts.
  const toJson = (v: unknown) =>
    JSON.parse(
      JSON.stringify(v, (_k, x) =>
        typeof x === "bigint"
          ? (x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : `0x${x.toString(16)}`)
          : x),
    );
  const dir = new URL("../scenarios/", import.meta.url).pathname;
  const files = await walk(dir);
  for (const file of files) {
    const { value } = parseYaml(await Deno.readTextFile(file), file);
    const r = schema.safeParse(toJson(value));
    assert.ok(r.success, `${file}: ${JSON.stringify(r.error?.issues)}`);
  }
  const bad = {
    apiVersion: "kexec-scenario/v1",
    name: "x",
    machine: { board: "pc-legacy", memroy: "16M" },
    steps: [{ run: { max_instructions: 1 } }],
  };
  assert.equal(schema.safeParse(bad).success, false);
  // Without `extends:` the top-level keys are required; with it, the base supplies them.
  const { steps: _steps, ...noSteps } = { ...bad, machine: { board: "pc-legacy" } };
  assert.equal(schema.safeParse(noSteps).success, false);
  assert.equal(schema.safeParse({ ...noSteps, extends: "./base.yaml" }).success, true);
  assert.equal(
    schema.safeParse({ ...bad, machine: { board: "pc-legacy", memory: "16Q" } }).success,
    false,
  );
  assert.equal(
    schema.safeParse({ ...bad, machine: { board: "pc-legacy", memory: "16M" } }).success,
    true,
  );
});
