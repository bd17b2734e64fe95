/**
 * Running scenario cases: build the step context, run the steps (with `expect_error:`), check
 * the expectations, and return a serialisable {@linkcode CaseResult}. Nothing a scenario can do
 * escapes as an exception: input problems become `error` results with a position.
 *
 * @module
 */

import { MachineError } from "../hw/machine.ts";
import { formatTraceEvent, Trace, type TraceEvent } from "../hw/trace.ts";
import { formatPosition, isScenarioError, type SourcePosition } from "./errors.ts";
import { checkExpectations, type ExpectationFailure } from "./expect.ts";
import {
  loadScenarioFile,
  type ScenarioCase,
  type ScenarioFile,
  type ScenarioStep,
} from "./load.ts";
import {
  checkRunnable,
  createStepContext,
  type KernelModel,
  kernelModel,
  type MachineProvider,
  machineProvider,
  type StepContext,
  StepFailure,
  stepHandlers,
} from "./steps.ts";
import { formatPath } from "./yaml.ts";

/** Outcome of one case: passed, an expectation failed (exit 1), or it could not run (exit 2). */
export type CaseStatus = "passed" | "failed" | "error";

/** The result of one scenario case (plain data: JSON- and structured-clone-safe). */
export interface CaseResult {
  /** Case name, e.g. `pic-eoi[cpu=i486]`. */
  readonly name: string;
  /** The scenario's name. */
  readonly scenario: string;
  /** The YAML file. */
  readonly file: string;
  /** Matrix values of the case. */
  readonly matrix: Readonly<Record<string, string>>;
  /** Tags of the scenario. */
  readonly tags: readonly string[];
  /** Outcome. */
  readonly status: CaseStatus;
  /** Failed expectations (status `failed`). */
  readonly failures: readonly ExpectationFailure[];
  /** Why the case could not run (status `error`). */
  readonly error?: { readonly message: string; readonly position?: SourcePosition };
  /** Instructions retired by the machine (0 without a machine). */
  readonly instructions: number;
  /** Virtual time at the end, in nanoseconds. */
  readonly virtualTimeNs: number;
  /** The last trace events, formatted (on failure and error). */
  readonly trace: readonly string[];
}

/** Options for {@linkcode runScenario}. */
export interface RunScenarioOptions {
  /** Machine provider (default: the registered one, wired to hw/ and arch/). */
  provider?: MachineProvider;
  /** Kernel model (default: the registered one, if any). */
  kernel?: KernelModel;
  /** How many recent trace events to keep in a failed result (default 20). */
  traceEvents?: number;
  /** Receives every trace event of the case (for `--trace <file>`). */
  onTrace?: (events: readonly TraceEvent[]) => void;
}

/**
 * Run one scenario case.
 *
 * @example
 * ```ts ignore
 * import { loadScenarioFile, runScenario } from "../mod.ts";
 * const file = await loadScenarioFile("scenarios/bootsector_console.yaml");
 * const result = await runScenario(file.cases[0]);
 * result.status; // "passed"
 * ```
 */
export async function runScenario(
  c: ScenarioCase,
  options: RunScenarioOptions = {},
): Promise<CaseResult> {
  const provider = options.provider ?? machineProvider();
  const kernel = options.kernel ?? kernelModel();
  const keep = options.traceEvents ?? 20;
  const trace = new Trace({ ring: Math.max(keep, 1), full: options.onTrace !== undefined });
  const base = {
    name: c.name,
    scenario: c.scenarioName,
    file: c.file,
    matrix: c.matrix,
    tags: c.tags,
  };
  let ctx: StepContext | undefined;
  let current: ScenarioStep | undefined;
  const finish = (
    status: CaseStatus,
    failures: ExpectationFailure[],
    error?: CaseResult["error"],
  ): CaseResult => {
    const last = ctx?.lastRun;
    options.onTrace?.(trace.all());
    return {
      ...base,
      status,
      failures,
      ...(error ? { error } : {}),
      instructions: last ? totalInstructions(ctx!) : 0,
      virtualTimeNs: last?.time ?? 0,
      trace: status === "passed" ? [] : trace.recent(keep).map(formatTraceEvent),
    };
  };
  try {
    checkRunnable(c, { kernel });
    ctx = createStepContext(c, { provider, kernel, trace });
    for (const step of c.steps) {
      current = step;
      const expectError = (step.args as { expect_error?: string } | null)?.expect_error;
      trace.emit("step", `${step.op}${expectError ? ` (expect_error ${expectError})` : ""}`, -1);
      let errno: string | undefined;
      let reason = "";
      try {
        // deno-lint-ignore no-explicit-any
        await (stepHandlers[step.op] as any).run(step, ctx);
      } catch (e) {
        const code = (e as { errno?: unknown })?.errno;
        if (typeof code !== "string") throw e;
        errno = code;
        reason = (e as Error).message;
      }
      if (errno !== undefined || expectError !== undefined) {
        if (errno === expectError) {
          trace.emit("step", `${step.op} failed with ${errno} as expected`, -1);
          continue;
        }
        const where = c.positions.valueAt(expectError ? [...step.path, "expect_error"] : step.path);
        const failure: ExpectationFailure = {
          path: formatPath(step.path),
          position: where,
          message: expectError === undefined
            ? `The step ${step.op} failed: ${reason}`
            : errno === undefined
            ? `The step ${step.op} succeeded, but an error was expected`
            : `The step ${step.op} failed with another error: ${reason}`,
          expected: expectError ?? "success",
          actual: errno ?? "success",
        };
        return finish("failed", [failure]);
      }
    }
    current = undefined;
    const failures = checkExpectations(c.scenario.expect ?? {}, {
      machine: ctx.machine,
      snapshot: ctx.machine
        ? {
          ...ctx.machine.snapshot(),
          ...(ctx.kernel?.snapshot ? { kernel: ctx.kernel.snapshot() } : {}),
        }
        : undefined,
      lastRun: ctx.lastRun,
      segments: ctx.segments,
    }, c.positions);
    return finish(failures.length ? "failed" : "passed", failures);
  } catch (e) {
    if (e instanceof StepFailure) {
      return finish("failed", [{
        path: formatPath(e.path),
        position: c.positions.valueAt(e.path),
        message: e.message,
      }]);
    }
    if (isScenarioError(e)) {
      const position = e.line > 0 ? { file: e.file, line: e.line, column: e.column } : undefined;
      return finish("error", [], { message: e.message, position });
    }
    if (e instanceof MachineError && current) {
      // The machine refused an argument of the step (a zero instruction budget, ...).
      const position = c.positions.valueAt(current.path);
      return finish("error", [], {
        message: `${formatPosition(position)}: ${formatPath(current.path)}: ${e.message}`,
        position,
      });
    }
    const err = e as Error;
    const where = current ? ` at ${formatPath(current.path)}` : "";
    return finish("error", [], {
      message: `${formatPosition(c.positions.valueAt(current?.path ?? []))}: internal error ` +
        `while running ${c.name}${where}: ${err?.name ?? "Error"}: ${err?.message ?? String(e)}`,
    });
  }
}

function totalInstructions(ctx: StepContext): number {
  const snap = ctx.machine?.snapshot();
  const cpus = snap?.cpu;
  let n = 0;
  if (cpus && typeof cpus === "object") {
    for (const c of Object.values(cpus)) {
      const r = (c as Record<string, unknown>)?.retired;
      if (typeof r === "number") n += r;
      else if (typeof r === "bigint") n += Number(r);
    }
  }
  return n || (ctx.lastRun?.instructions ?? 0);
}

/**
 * A result for a file that could not be loaded (one `error` result named after the file).
 *
 * @example
 * ```ts
 * import { loadErrorResult } from "./run.ts";
 * loadErrorResult("x.yaml", new Error("boom")).status; // "error"
 * ```
 */
export function loadErrorResult(file: string, e: unknown): CaseResult {
  const name = file.split(/[\\/]/).pop()!.replace(/\.ya?ml$/, "");
  const position = isScenarioError(e) && e.line > 0
    ? { file: e.file, line: e.line, column: e.column }
    : undefined;
  const message = isScenarioError(e) || e instanceof Error ? (e as Error).message : String(e);
  return {
    name,
    scenario: name,
    file,
    matrix: {},
    tags: [],
    status: "error",
    failures: [],
    error: { message, position },
    instructions: 0,
    virtualTimeNs: 0,
    trace: [],
  };
}

/**
 * Load a scenario file and run every case; a file that does not load gives one `error` result.
 *
 * @example
 * ```ts ignore
 * import { runScenarioFile } from "../mod.ts";
 * const results = await runScenarioFile("scenarios/bootsector_console.yaml");
 * results.every((r) => r.status === "passed");
 * ```
 */
export async function runScenarioFile(
  location: string | URL,
  options: RunScenarioOptions = {},
): Promise<CaseResult[]> {
  let file: ScenarioFile;
  try {
    file = await loadScenarioFile(location);
  } catch (e) {
    return [loadErrorResult(String(location instanceof URL ? location.href : location), e)];
  }
  const out: CaseResult[] = [];
  for (const c of file.cases) out.push(await runScenario(c, options));
  return out;
}

/**
 * Format a failed or errored result for people: the file, each failure's position and path,
 * expected and actual, and the last trace events.
 *
 * @example
 * ```ts ignore
 * import { formatResult } from "./run.ts";
 * console.log(formatResult(result));
 * ```
 */
export function formatResult(r: CaseResult): string {
  const lines: string[] = [];
  if (r.status === "error") {
    lines.push(`${r.name} (${r.file}) could not run:`);
    for (const l of (r.error?.message ?? "").split("\n")) lines.push(`  ${l}`);
  } else if (r.status === "failed") {
    lines.push(`${r.name} (${r.file}) failed:`);
    for (const f of r.failures) {
      let s = `  ${formatPosition(f.position)}: ${f.path}: ${f.message}`;
      if (f.expected !== undefined || f.actual !== undefined) {
        s += `\n      expected: ${f.expected ?? "-"}\n      actual:   ${f.actual ?? "-"}`;
      }
      lines.push(s);
    }
  } else {
    lines.push(`${r.name} (${r.file}) passed`);
  }
  if (r.trace.length > 0) {
    lines.push("  last trace events:");
    for (const t of r.trace) lines.push(`    ${t}`);
  }
  return lines.join("\n");
}
