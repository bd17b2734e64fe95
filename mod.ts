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
 * Build and run a machine without a scenario file (the layers below the runner are exported
 * here too, and as the entry points `./hw`, `./x86`, `./kernel` and `./images`; the PowerPC
 * 750/Gekko interpreter, assembler and disassembler are the separate entry point `./ppc`, since
 * their names match the x86 ones):
 *
 * ```ts
 * import { buildMachine, createX86KexecArch, LinuxKernelModel, x86CpuFactory } from "./mod.ts";
 *
 * const machine = buildMachine({ board: "pc-legacy" }, { cpu: x86CpuFactory("i386") });
 * const kernel = new LinuxKernelModel(machine, { arch: createX86KexecArch(machine, { arch: "i386" }) });
 * kernel.boot();
 * machine.snapshot().pic; // the 8259 pair as `expect: pic:` sees it
 * ```
 *
 * The Linux kernel model class is exported as `LinuxKernelModel`; `KernelModel` is the runner's
 * interface for a pluggable kernel model ({@linkcode registerKernelModel}), as before.
 *
 * `npm:yaml` reads the environment variables LOG_TOKENS and LOG_STREAM; grant them with
 * `--allow-env=LOG_TOKENS,LOG_STREAM` (or `--allow-env`) when loading scenarios.
 *
 * @module
 */

// The layers, each also an entry point of its own (`deno.json` "exports"): hardware and boards,
// the x86 CPU and assembler, the Linux kernel model, kernel images and the kexec-tools model.
export * from "./hw/mod.ts";
export * from "./arch/x86/mod.ts";
export * from "./kernel/mod.ts";
export * from "./kernel/image/mod.ts";
// Names two layers share. The runner's `RunResult`/`RunUntil`/`RunReason` (exported below) have
// the same shape as the machine's; the machine's are also exported under `Machine*` names.
export type {
  RunOptions as MachineRunOptions,
  RunReason as MachineRunReason,
  RunResult as MachineRunResult,
  RunUntil as MachineRunUntil,
} from "./hw/mod.ts";
export { APIC_BASE_FIELDS } from "./hw/mod.ts";

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
