/**
 * kexec-scenarios: declarative kexec regression scenarios on emulated PCs and PowerPC boards.
 *
 * One YAML file describes a machine and a Linux kexec sequence; the runner builds the machine,
 * runs the sequence with real machine code on the project's CPU interpreters, and checks the
 * final CPU registers, memory and interrupt-controller state.
 *
 * Run a scenario file:
 *
 * ```ts ignore
 * import { runScenarioFile } from "./mod.ts";
 * const results = await runScenarioFile("scenarios/bootsector_console.yaml");
 * console.log(results.map((r) => `${r.name}: ${r.status}`));
 * ```
 *
 * Register a directory of scenarios as `Deno.test`s (in a `*_test.ts` file):
 *
 * ```ts ignore
 * import { registerScenarios } from "./mod.ts";
 * await registerScenarios(new URL("./my_scenarios/", import.meta.url));
 * ```
 *
 * `npm:yaml` reads the environment variables LOG_TOKENS and LOG_STREAM; grant them with
 * `--allow-env=LOG_TOKENS,LOG_STREAM` (or `--allow-env`) when loading scenarios.
 *
 * @module
 */

export * from "./hw/fields.ts";
export * from "./hw/trace.ts";
export * from "./hw/clock.ts";
export * from "./hw/memory.ts";
export * from "./hw/io_bus.ts";
export * from "./hw/mmio_bus.ts";
export type * from "./hw/cpu.ts";

export { loadScenario, loadScenarioFile } from "./runner/load.ts";
export type { LoadOptions, ScenarioCase, ScenarioFile, ScenarioStep } from "./runner/load.ts";
export { formatResult, runScenario, runScenarioFile } from "./runner/run.ts";
export type { CaseResult, CaseStatus, RunScenarioOptions } from "./runner/run.ts";
export { registerScenarios, ScenarioTestFailure } from "./runner/register.ts";
export type { RegisterScenariosOptions } from "./runner/register.ts";
export type { ExpectationFailure } from "./runner/expect.ts";
export {
  formatPosition,
  formatSchemaIssue,
  ScenarioLoadError,
  ScenarioSchemaError,
  ScenarioSyntaxError,
} from "./runner/errors.ts";
export type { SchemaIssue, SourcePosition } from "./runner/errors.ts";
export {
  registerKernelModel,
  registerMachineProvider,
  StepError,
  StepFailure,
} from "./runner/steps.ts";
export type {
  AssembleOptions,
  KernelModel,
  KernelSession,
  LoadedSegment,
  MachineLike,
  MachineProvider,
  MemoryReader,
  RunResult,
  RunUntil,
  StepContext,
} from "./runner/steps.ts";
export { API_VERSION, scenarioJsonSchema } from "./runner/schema.ts";
export type {
  ConsoleExpect,
  ExpectSection,
  ImageSpec,
  KernelSection,
  MachineSection,
  MatchValue,
  MemoryCheck,
  MemoryRange,
  MemoryWord,
  RunReason,
  Scenario,
  SegmentSpec,
  StepArgs,
  StepEntry,
  StepName,
} from "./runner/schema.ts";
export { parseInteger } from "./runner/numbers.ts";
export type { ParseIntegerOptions } from "./runner/numbers.ts";
export { formatPath, SourceMap } from "./runner/yaml.ts";
export type { NodePosition, ValuePath } from "./runner/yaml.ts";
export { createReporter, REPORTERS } from "./runner/report/mod.ts";
export type { Reporter, ReporterName, ReporterOptions, Summary } from "./runner/report/mod.ts";
export { pcMachineProvider } from "./runner/machine_provider.ts";
import "./runner/defaults.ts";
