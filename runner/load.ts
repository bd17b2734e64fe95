/**
 * Loading scenario files: YAML with positions, `extends:` (another file, relative path, cycles
 * detected), `matrix:` expansion into named cases, and validation against the schema with
 * errors that name `file:line:col`, the key path, what was expected and a "did you mean".
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "npm:zod@^4.1.0";
import {
  didYouMean,
  ScenarioLoadError,
  ScenarioSchemaError,
  ScenarioSyntaxError,
  type SchemaIssue,
} from "./errors.ts";
import { describeValue } from "./numbers.ts";
import {
  API_VERSION,
  BARE_STEPS,
  matrixSchema,
  type Scenario,
  scenarioSchema,
  type StepArgs,
  type StepName,
  stepSchemas,
} from "./schema.ts";
import { formatPath, parseYaml, type SourceMap, type ValuePath, type YamlValue } from "./yaml.ts";

/** One step of a case, normalised: its name, validated arguments and path in the file. */
export interface ScenarioStep<N extends StepName = StepName> {
  /** Step name, e.g. `run`. */
  readonly op: N;
  /** Validated arguments (`{}` for a bare step). */
  readonly args: StepArgs[N];
  /** Index in `steps:`. */
  readonly index: number;
  /** Path of the step's arguments in the file, e.g. `["steps", 2, "run"]`. */
  readonly path: ValuePath;
}

/** One runnable case of a scenario (a scenario without `matrix:` has exactly one). */
export interface ScenarioCase {
  /** Case name: the scenario name, plus `[axis=value,...]` for matrix cases. */
  readonly name: string;
  /** The scenario's own name. */
  readonly scenarioName: string;
  /** The YAML file (as named by the user). */
  readonly file: string;
  /** Matrix values of this case (empty without a matrix). */
  readonly matrix: Readonly<Record<string, string>>;
  /** Tags of the scenario. */
  readonly tags: readonly string[];
  /** The validated scenario with matrix values substituted. */
  readonly scenario: Scenario;
  /** The steps, normalised. */
  readonly steps: readonly ScenarioStep[];
  /** Positions of every key and value (across `extends:` files). */
  readonly positions: SourceMap;
}

/** A loaded scenario file. */
export interface ScenarioFile {
  /** The YAML file (as named by the user). */
  readonly file: string;
  /** The scenario's name. */
  readonly name: string;
  /** Tags of the scenario. */
  readonly tags: readonly string[];
  /** Its cases, in matrix order. */
  readonly cases: readonly ScenarioCase[];
}

/** Options for {@linkcode loadScenario} and {@linkcode loadScenarioFile}. */
export interface LoadOptions {
  /** Path or URL of the file the text came from (for messages and relative paths). */
  file?: string;
  /** Reads another file (for `extends:`); defaults to `Deno.readTextFile` or `fetch`. */
  readTextFile?: (location: string) => Promise<string>;
}

/**
 * Load a scenario file from disk (or a URL).
 *
 * @example
 * ```ts ignore
 * import { loadScenarioFile } from "./load.ts";
 * const s = await loadScenarioFile("scenarios/bootsector_console.yaml");
 * s.cases.map((c) => c.name);
 * ```
 */
export async function loadScenarioFile(
  location: string | URL,
  options: Omit<LoadOptions, "file"> = {},
): Promise<ScenarioFile> {
  const file = locationString(location);
  const read = options.readTextFile ?? defaultRead;
  let text: string;
  try {
    text = await read(file);
  } catch (e) {
    throw new ScenarioLoadError(readFailure(file, e), { file, line: 0, column: 0 });
  }
  return await loadScenario(text, { ...options, file });
}

/**
 * Load a scenario from YAML text.
 *
 * @example
 * ```ts
 * import { loadScenario } from "./load.ts";
 * const s = await loadScenario(
 *   [
 *     "apiVersion: kexec-scenario/v1",
 *     "name: demo",
 *     "matrix: { cpu: [i486, pentium] }",
 *     "machine: { board: pc-legacy, cpu: { model: \"${cpu}\" } }",
 *     "steps: [ { run: { max_instructions: 100 } } ]",
 *     "expect: { run: { reason: halted } }",
 *   ].join("\n"),
 *   { file: "demo.yaml" },
 * );
 * s.cases.map((c) => c.name); // ["demo[cpu=i486]", "demo[cpu=pentium]"]
 * ```
 */
export async function loadScenario(text: string, options: LoadOptions = {}): Promise<ScenarioFile> {
  const file = options.file ?? "<scenario>";
  const read = options.readTextFile ?? defaultRead;
  const { value, positions } = await loadWithExtends(text, file, read, []);
  const base = value as Record<string, YamlValue>;
  delete base.extends;

  // Matrix expansion.
  const matrixValue = base.matrix;
  delete base.matrix;
  let combos: Record<string, YamlValue>[] = [{}];
  if (matrixValue !== undefined) {
    const parsed = matrixSchema.safeParse(matrixValue, { error: errorMap });
    if (!parsed.success) {
      throw new ScenarioSchemaError(convertIssues(parsed.error.issues, ["matrix"], positions));
    }
    for (const [axis, values] of Object.entries(parsed.data)) {
      const next: Record<string, YamlValue>[] = [];
      for (const c of combos) for (const v of values) next.push({ ...c, [axis]: v as YamlValue });
      combos = next;
    }
  }

  const cases: ScenarioCase[] = [];
  for (const combo of combos) {
    const issues: SchemaIssue[] = [];
    const substituted = substitute(base, combo, [], positions, issues);
    if (issues.length > 0) throw new ScenarioSchemaError(issues);
    const scenario = validate(substituted as Record<string, YamlValue>, positions);
    const matrix: Record<string, string> = {};
    for (const [k, v] of Object.entries(combo)) matrix[k] = String(v);
    const suffix = Object.entries(matrix).map(([k, v]) => `${k}=${v}`).join(",");
    cases.push({
      name: suffix ? `${scenario.scenario.name}[${suffix}]` : scenario.scenario.name,
      scenarioName: scenario.scenario.name,
      file,
      matrix,
      tags: scenario.scenario.tags ?? [],
      scenario: scenario.scenario,
      steps: scenario.steps,
      positions,
    });
  }
  const names = new Set<string>();
  for (const c of cases) {
    if (names.has(c.name)) {
      throw new ScenarioLoadError(
        `Matrix cases have the same name: ${c.name}`,
        positions.keyAt(["matrix"]),
      );
    }
    names.add(c.name);
  }
  return { file, name: cases[0].scenarioName, tags: cases[0].tags, cases };
}

// ---------------------------------------------------------------------------------------------

async function loadWithExtends(
  text: string,
  file: string,
  read: (location: string) => Promise<string>,
  chain: string[],
): Promise<{ value: Record<string, YamlValue>; positions: SourceMap }> {
  const { value, positions } = parseYaml(text, file);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ScenarioSyntaxError(
      `The top level is ${describeValue(value)}: expected a map of scenario keys ` +
        "(apiVersion, name, machine, steps, expect)",
      positions.valueAt([]),
    );
  }
  const ext = value.extends;
  if (ext === undefined) return { value, positions };
  if (typeof ext !== "string" || ext === "") {
    throw new ScenarioSchemaError([{
      position: positions.valueAt(["extends"]),
      path: "extends",
      message: `Wrong type: got ${describeValue(ext)}`,
      expected: "a relative path to another YAML file",
    }]);
  }
  const target = resolveRelative(file, ext);
  const here = [...chain, canonical(file)];
  if (here.includes(canonical(target))) {
    const cycle = [...here, canonical(target)].map((p) => p.split("/").pop()).join(" -> ");
    throw new ScenarioLoadError(`extends: cycle: ${cycle}`, positions.valueAt(["extends"]));
  }
  let baseText: string;
  try {
    baseText = await read(target);
  } catch (e) {
    throw new ScenarioLoadError(
      `extends: ${readFailure(target, e)}`,
      positions.valueAt(["extends"]),
    );
  }
  const base = await loadWithExtends(baseText, target, read, here);
  delete base.value.extends;
  const merged = mergeValues(base.value, value) as Record<string, YamlValue>;
  positions.addMissing(base.positions);
  return { value: merged, positions };
}

/** Maps merge key by key (the child wins); everything else is replaced by the child. */
function mergeValues(base: YamlValue, child: YamlValue): YamlValue {
  if (isMap(base) && isMap(child)) {
    const out: Record<string, YamlValue> = { ...base };
    for (const [k, v] of Object.entries(child)) {
      out[k] = k in base ? mergeValues(base[k], v) : v;
    }
    return out;
  }
  return child;
}

function isMap(v: YamlValue): v is { [key: string]: YamlValue } {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

const SUBST = /\$\{([^}]*)\}/g;

function substitute(
  value: YamlValue,
  combo: Record<string, YamlValue>,
  path: (string | number)[],
  positions: SourceMap,
  issues: SchemaIssue[],
): YamlValue {
  if (typeof value === "string") {
    if (!value.includes("${")) return value;
    const whole = /^\$\{([^}]*)\}$/.exec(value);
    const lookup = (axis: string): YamlValue | undefined => {
      if (Object.hasOwn(combo, axis)) return combo[axis];
      issues.push({
        position: positions.valueAt(path),
        path: formatPath(path),
        message: Object.keys(combo).length === 0
          ? `\${${axis}} refers to a matrix axis, but the scenario has no matrix:`
          : `Unknown matrix axis: \${${axis}}`,
        expected: Object.keys(combo).length ? `one of ${Object.keys(combo).join(", ")}` : undefined,
        suggestion: didYouMean(axis, Object.keys(combo)),
      });
      return undefined;
    };
    if (whole) return lookup(whole[1]) ?? value;
    return value.replace(SUBST, (m, axis: string) => {
      const v = lookup(axis);
      return v === undefined ? m : String(v);
    });
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => substitute(v, combo, [...path, i], positions, issues));
  }
  if (isMap(value)) {
    const out: Record<string, YamlValue> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = substitute(v, combo, [...path, k], positions, issues);
    }
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Validation

const validationSchema = scenarioSchema.extend({ steps: z.array(z.unknown()).min(1) });

function validate(
  value: Record<string, YamlValue>,
  positions: SourceMap,
): { scenario: Scenario; steps: ScenarioStep[] } {
  let issues: SchemaIssue[] = [];
  if (value.apiVersion !== undefined && value.apiVersion !== API_VERSION) {
    issues.push({
      position: positions.valueAt(["apiVersion"]),
      path: "apiVersion",
      message: `Unsupported apiVersion: ${describeValue(value.apiVersion)}`,
      expected: API_VERSION,
    });
  }
  const parsed = validationSchema.safeParse(value, { error: errorMap });
  if (!parsed.success) {
    issues.push(
      ...convertIssues(parsed.error.issues, [], positions).filter((i) =>
        !(i.path === "apiVersion" && value.apiVersion !== undefined)
      ),
    );
  }
  const steps: ScenarioStep[] = [];
  if (Array.isArray(value.steps)) {
    value.steps.forEach((raw, index) => {
      const step = validateStep(raw, index, positions, issues);
      if (step) steps.push(step);
    });
  }
  if (issues.length === 0 && parsed.success) {
    const expect = parsed.data.expect;
    const hasExpect = expect !== undefined && Object.keys(expect).length > 0;
    const hasStepExpect = steps.some((s) => (s.args as { expect_error?: string })?.expect_error);
    if (!hasExpect && !hasStepExpect) {
      issues.push({
        position: positions.keyAt(value.expect === undefined ? [] : ["expect"]),
        path: "expect",
        message: "The scenario checks nothing",
        expected: "at least one expectation under expect: (or a step with expect_error)",
      });
    }
  }
  if (issues.length > 0) {
    // A misspelled key also makes the right key "missing": report only the misspelling.
    const suggested = new Set(
      issues.filter((i) => i.suggestion !== undefined && i.message === "Unknown key").map((i) =>
        i.path.replace(/[^.\]]*$/, "") + i.suggestion
      ),
    );
    issues = issues.filter((i) => !(i.message === "Missing key" && suggested.has(i.path)));
    issues.sort((a, b) =>
      a.position.line - b.position.line || a.position.column - b.position.column
    );
    throw new ScenarioSchemaError(dedupe(issues));
  }
  // The validated steps, in their written shape (`boot` or `{ name: args }`).
  const validatedSteps = steps.map((s) =>
    typeof (value.steps as YamlValue[])[s.index] === "string" ? s.op : { [s.op]: s.args }
  );
  const scenario = { ...parsed.data!, steps: validatedSteps } as unknown as Scenario;
  return { scenario, steps };
}

function validateStep(
  raw: unknown,
  index: number,
  positions: SourceMap,
  issues: SchemaIssue[],
): ScenarioStep | undefined {
  const path = ["steps", index];
  const names = Object.keys(stepSchemas) as StepName[];
  let name: string;
  let args: unknown;
  if (typeof raw === "string") {
    name = raw;
    args = null;
    if (!(names as string[]).includes(name)) {
      issues.push({
        position: positions.valueAt(path),
        path: formatPath(path),
        message: `Unknown step: ${name}`,
        expected: `one of ${names.join(", ")}`,
        suggestion: didYouMean(name, names),
      });
      return undefined;
    }
    if (!(BARE_STEPS as string[]).includes(name)) {
      issues.push({
        position: positions.valueAt(path),
        path: formatPath(path),
        message: `The step ${name} needs arguments`,
        expected: `- ${name}: { ... }`,
      });
      return undefined;
    }
  } else if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
    const keys = Object.keys(raw);
    if (keys.length !== 1) {
      issues.push({
        position: positions.valueAt(path),
        path: formatPath(path),
        message: keys.length === 0
          ? "Empty step"
          : `A step has exactly one key, found ${keys.length}: ${keys.join(", ")}`,
        expected: "- name: { arguments } (indent the arguments under the step name)",
      });
      return undefined;
    }
    name = keys[0];
    args = (raw as Record<string, unknown>)[name];
    if (!(names as string[]).includes(name)) {
      issues.push({
        position: positions.keyAt([...path, name]),
        path: formatPath(path),
        message: `Unknown step: ${name}`,
        expected: `one of ${names.join(", ")}`,
        suggestion: didYouMean(name, names),
      });
      return undefined;
    }
  } else {
    issues.push({
      position: positions.valueAt(path),
      path: formatPath(path),
      message: `Wrong type: got ${describeValue(raw)}`,
      expected: "a step: a name (boot) or a map { name: arguments }",
    });
    return undefined;
  }
  const op = name as StepName;
  const argPath = [...path, op];
  const parsed = stepSchemas[op].safeParse(args, { error: errorMap });
  if (!parsed.success) {
    const stepIssues = convertIssues(parsed.error.issues, argPath, positions);
    const suggested = new Set(
      stepIssues.filter((i) => i.suggestion !== undefined && i.message === "Unknown key").map((i) =>
        i.path.replace(/[^.\]]*$/, "") + i.suggestion
      ),
    );
    issues.push(
      ...stepIssues.filter((i) => !(i.message === "Missing key" && suggested.has(i.path))),
    );
    return undefined;
  }
  return { op, args: (parsed.data ?? {}) as StepArgs[StepName], index, path: argPath };
}

function dedupe(issues: SchemaIssue[]): SchemaIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.position.file}:${i.position.line}:${i.position.column}:${i.path}:${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

interface IssueMessage {
  message: string;
  expected?: string;
  suggestion?: string;
}

function encode(m: IssueMessage): string {
  return "\u0000" + JSON.stringify(m);
}

function decode(s: string): IssueMessage {
  if (s.startsWith("\u0000")) return JSON.parse(s.slice(1));
  return { message: s };
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  object: "a map",
  array: "a list",
  boolean: "a boolean (true or false)",
  bigint: "an integer",
  number: "a number",
  null: "nothing (null)",
};

/** Zod error map: every message carries a structured `{ message, expected, suggestion }`. */
function errorMap(iss: z.core.$ZodRawIssue): string {
  switch (iss.code) {
    case "invalid_type": {
      const expected = TYPE_NAMES[iss.expected] ?? iss.expected;
      if (iss.input === undefined) return encode({ message: "Missing key", expected });
      return encode({ message: `Wrong type: got ${describeValue(iss.input)}`, expected });
    }
    case "unrecognized_keys": {
      const shape = (iss.inst as unknown as { _zod: { def: { shape?: Record<string, unknown> } } })
        ?._zod?.def?.shape;
      const known = shape ? Object.keys(shape) : [];
      return encode({
        message: "Unknown key",
        expected: known.length ? `one of ${known.join(", ")}` : undefined,
        suggestion: known.length && iss.keys.length === 1
          ? didYouMean(iss.keys[0], known)
          : undefined,
      });
    }
    case "invalid_value": {
      const values = iss.values.map((v) => String(v));
      return encode({
        message: `Unsupported value: ${describeValue(iss.input)}`,
        expected: values.length === 1 ? values[0] : `one of ${values.join(", ")}`,
        suggestion: typeof iss.input === "string" ? didYouMean(iss.input, values) : undefined,
      });
    }
    case "too_small":
      return encode({
        message: "Too small",
        expected: iss.origin === "array"
          ? `at least ${iss.minimum} item${iss.minimum === 1 ? "" : "s"}`
          : iss.origin === "string"
          ? "a non-empty string"
          : `at least ${iss.minimum}`,
      });
    case "invalid_format":
      return encode({
        message: iss.message ?? "Wrong format",
        expected: iss.pattern ? `text matching ${iss.pattern}` : undefined,
      });
    case "custom":
      return encode({
        message: iss.message ?? "Invalid value",
        expected: (iss.params as { expected?: string } | undefined)?.expected,
      });
    default:
      return encode({ message: iss.message ?? "Invalid value" });
  }
}

type AnyIssue = z.core.$ZodIssue;

function convertIssues(
  issues: readonly AnyIssue[],
  prefix: ValuePath,
  positions: SourceMap,
): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  for (const iss of issues) {
    const path = [...prefix, ...iss.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
    if (iss.code === "invalid_union") {
      const best = pickUnionBranch(iss.errors);
      if (best) {
        out.push(...convertIssues(best, path, positions));
        continue;
      }
    }
    const m = decode(iss.message);
    if (iss.code === "unrecognized_keys") {
      for (const key of iss.keys) {
        const shape = m.expected;
        out.push({
          position: positions.keyAt([...path, key]),
          path: formatPath([...path, key]),
          message: "Unknown key",
          expected: shape,
          suggestion: iss.keys.length === 1
            ? m.suggestion
            : didYouMean(key, (shape ?? "").replace(/^one of /, "").split(", ")),
        });
      }
      continue;
    }
    const missing = m.message === "Missing key";
    out.push({
      position: missing ? positions.keyAt(path.slice(0, -1)) : positions.valueAt(path),
      path: formatPath(path),
      message: m.message,
      expected: m.expected,
      suggestion: m.suggestion,
    });
  }
  return out;
}

/** The union branch that got furthest: the one whose issues are deepest and not type errors. */
function pickUnionBranch(
  branches: readonly (readonly AnyIssue[])[],
): readonly AnyIssue[] | undefined {
  let best: readonly AnyIssue[] | undefined;
  let bestScore = -1;
  for (const b of branches) {
    if (b.length === 0) continue;
    const rootTypeError = b.every((i) => i.path.length === 0 && i.code === "invalid_type");
    if (rootTypeError) continue;
    const score = Math.max(...b.map((i) => i.path.length)) + 1;
    if (score > bestScore) {
      bestScore = score;
      best = b;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Files

function locationString(location: string | URL): string {
  if (location instanceof URL) {
    return location.protocol === "file:" ? fileURLToPath(location) : location.href;
  }
  return location;
}

function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

function resolveRelative(from: string, target: string): string {
  if (isUrl(target)) return target;
  if (isUrl(from)) return new URL(target, from).href;
  if (isAbsolute(target)) return target;
  return resolve(dirname(from), target);
}

function canonical(p: string): string {
  return isUrl(p) ? p : resolve(p);
}

async function defaultRead(location: string): Promise<string> {
  if (isUrl(location)) {
    if (location.startsWith("file:")) return await Deno.readTextFile(new URL(location));
    const res = await fetch(location);
    if (!res.ok) {
      await res.body?.cancel();
      throw new Deno.errors.NotFound(`HTTP ${res.status}`);
    }
    return await res.text();
  }
  return await Deno.readTextFile(location);
}

function readFailure(file: string, e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return `File not found: ${file}`;
  if (e instanceof Deno.errors.IsADirectory) return `Not a file: ${file}`;
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
    return `No read access to ${file}: grant it by naming the file on the command line ` +
      "(or run with --allow-read)";
  }
  return `Cannot read ${file}: ${(e as Error)?.message ?? String(e)}`;
}

/** Resolve a path written in a scenario (an image `file:`) against the file that wrote it. */
export function resolveScenarioPath(scenarioFile: string, target: string): string {
  return resolveRelative(scenarioFile, target);
}
