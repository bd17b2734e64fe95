/**
 * Step execution: the context a step runs in, the handlers of the machine steps (`power_on`,
 * `run`), and the interfaces through which the machine model and the kernel model plug in.
 *
 * The runner never imports `hw/` or `kernel/` directly here: a {@linkcode MachineProvider}
 * builds machines and assembles code, and a {@linkcode KernelModel} implements the kernel steps
 * (`boot`, `kexec_load`, `kexec_unload`, `reboot`, `panic`). While no kernel model is
 * registered, a kernel step is a load error ("not available yet"), never a fake result.
 *
 * @module
 */

import type { Snapshot } from "../hw/fields.ts";
import type { Trace } from "../hw/trace.ts";
import { didYouMean, ScenarioLoadError, type SourcePosition } from "./errors.ts";
import { resolveScenarioPath, type ScenarioCase, type ScenarioStep } from "./load.ts";
import {
  type ImageSpec,
  KERNEL_STEPS,
  type MachineSection,
  type StepArgs,
  type StepName,
} from "./schema.ts";
import { formatPath, type ValuePath } from "./yaml.ts";

/** When a `run` step stops (see hw/machine.ts). */
export type RunUntil = "halt" | "all-halted" | "exit" | "shutdown" | "budget";

/** What a machine run returned. */
export interface RunResult {
  /** Why the run ended. */
  readonly reason: "halted" | "all-halted" | "exit" | "shutdown" | "budget";
  /** Instructions retired by this run. */
  readonly instructions: number;
  /** Virtual time at the end, in nanoseconds. */
  readonly time: number;
  /** Value written to the exit port, for `exit`. */
  readonly exitCode?: number;
}

/** The memory accessors the expectations use (implemented by hw/memory.ts PhysicalMemory). */
export interface MemoryReader {
  /** Read a byte. */
  read8(addr: number): number;
  /** Read bytes (untouched RAM reads as zero). */
  readBytes(addr: number, len: number): Uint8Array;
}

/** The runner's view of a machine (implemented by hw/machine.ts `Machine`). */
export interface MachineLike {
  /** Physical memory. */
  readonly memory: MemoryReader;
  /** Byte order of multi-byte memory values. */
  readonly endianness: "little" | "big";
  /** Output written to the debug console port. */
  readonly console: string;
  /** The machine's trace. */
  readonly trace: Trace;
  /** Run the CPUs until a condition or the budget. */
  run(options: { until: RunUntil; maxInstructions: number }): RunResult;
  /** State for expectations: `{ cpu: { 0: ... }, pic: ..., lapic: ..., ... }`. */
  snapshot(): Snapshot;
  /** Load a 512-byte boot sector at 0x7C00 and start the BSP there, as a BIOS would. */
  loadBootsector?(bytes: Uint8Array): void;
  /** Drive ISA IRQ line `irq` (0-15) to `level` (true = asserted), for the `irq` step. */
  setIrq?(irq: number, level: boolean): void;
}

/** Options for {@linkcode MachineProvider.assemble}. */
export interface AssembleOptions {
  /** Architecture of the code. */
  arch: "i386" | "x86_64" | "ppc";
  /** Initial mode (x86). */
  bits?: 16 | 32 | 64;
  /** Address of the first byte. */
  org?: bigint;
  /** File name for errors. */
  file?: string;
  /** Added to error line numbers (the YAML line of the source's first line, minus one). */
  lineOffset?: number;
  /** Added to error column numbers. */
  columnOffset?: number;
}

/** Builds machines and assembles guest code (wired to hw/ and arch/ in runner/machine_provider.ts). */
export interface MachineProvider {
  /**
   * Build the machine of a scenario's `machine:` section. Impossible machines throw an error
   * with a `path` property (e.g. `machine.cpu.count`) that the runner maps to file:line:col.
   */
  build(config: MachineSection, options: { trace: Trace }): MachineLike;
  /**
   * Assemble source text; errors carry `line`/`column` in the caller's coordinates and a
   * `detail` message.
   */
  assemble(source: string, options: AssembleOptions): { bytes: Uint8Array };
}

/** A segment the kernel accepted, for `memory: [{ segment: N }]` and `expect.segments`. */
export interface LoadedSegment {
  /** Destination physical address. */
  readonly mem: bigint;
  /** Destination size. */
  readonly memsz: bigint;
  /** The segment's bytes (the rest of memsz is zero). */
  readonly bytes: Uint8Array;
  /** Any further facts for `expect.segments` (e.g. `{ kind: "purgatory" }`). */
  readonly info?: Snapshot;
}

/**
 * A step failed the way a real system can fail: a system call returned an errno. A step with
 * `expect_error:` matching `errno` passes. Any error with a string `errno` property (such as
 * kernel/errno.ts `KernelError`) is treated the same way.
 *
 * @example
 * ```ts
 * import { StepError } from "./steps.ts";
 * const e = new StepError("EINVAL", "flags must be 0");
 * e.errno; // "EINVAL"
 * ```
 */
export class StepError extends Error {
  /** The errno name, e.g. `EINVAL`. */
  readonly errno: string;

  /** Create the error. */
  constructor(errno: string, reason: string) {
    super(`${errno}: ${reason}`);
    this.name = "StepError";
    this.errno = errno;
  }
}

/**
 * The guest did something the scenario treats as a failed expectation while a step ran (the
 * run budget ran out before the stop condition).
 *
 * @example
 * ```ts
 * import { StepFailure } from "./steps.ts";
 * new StepFailure("Budget exhausted", ["steps", 1, "run"]).path; // ["steps", 1, "run"]
 * ```
 */
export class StepFailure extends Error {
  /** Path of the step in the scenario. */
  readonly path: ValuePath;

  /** Create the failure. */
  constructor(message: string, path: ValuePath) {
    super(message);
    this.name = "StepFailure";
    this.path = path;
  }
}

/** The kernel steps, as a kernel model implements them. */
export interface KernelSession {
  /** `- boot`: bring up the old kernel (CPUs, interrupt hardware, memory map). */
  boot(step: ScenarioStep<"boot">, ctx: StepContext): void | Promise<void>;
  /** `- kexec_load:`; record accepted segments in `ctx.segments`. */
  kexecLoad(step: ScenarioStep<"kexec_load">, ctx: StepContext): void | Promise<void>;
  /** `- kexec_unload:`. */
  kexecUnload(step: ScenarioStep<"kexec_unload">, ctx: StepContext): void | Promise<void>;
  /** `- reboot:`. */
  reboot(step: ScenarioStep<"reboot">, ctx: StepContext): void | Promise<void>;
  /** `- panic:`. */
  panic(step: ScenarioStep<"panic">, ctx: StepContext): void | Promise<void>;
  /** Extra state for `expect: { kernel: ... }`, if any. */
  snapshot?(): Snapshot;
}

/** A kernel model: creates one {@linkcode KernelSession} per scenario case. */
export interface KernelModel {
  /** Name for messages, e.g. `linux-2.6 model`. */
  readonly name: string;
  /** Create the session when the first kernel step runs (build the machine with `ctx.ensureMachine()`). */
  createSession(ctx: StepContext): KernelSession;
}

/** Everything a step handler can use. */
export interface StepContext {
  /** The case being run. */
  readonly case: ScenarioCase;
  /** The case's trace (shared with the machine). */
  readonly trace: Trace;
  /** The machine, once built by `power_on` or the kernel model. */
  machine: MachineLike | undefined;
  /** The last `run` step's result. */
  lastRun: RunResult | undefined;
  /** Segments loaded by `kexec_load` (in the order the kernel accepted them). */
  segments: LoadedSegment[] | undefined;
  /** The kernel session, once a kernel step created it. */
  kernel: KernelSession | undefined;
  /** State a plugin keeps per case. */
  readonly state: Map<string, unknown>;
  /** Build the machine of `machine:` if it is not built yet. */
  ensureMachine(): MachineLike;
  /** Raw bytes of an image's `file:` or `asm:` (the format is the caller's business). */
  imageBytes(image: ImageSpec, path: ValuePath): Promise<Uint8Array>;
  /** File position of a path in the scenario. */
  position(path: ValuePath): SourcePosition;
  /** Throw a load error (exit 2) at a path: the scenario cannot run. */
  fail(message: string, path: ValuePath): never;
}

/** A step implementation. */
export interface StepHandler<N extends StepName = StepName> {
  /** Step name. */
  readonly op: N;
  /** Execute the step; throw {@linkcode StepError} for an errno. */
  run(step: ScenarioStep<N>, ctx: StepContext): void | Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Registries

let registeredProvider: MachineProvider | undefined;
let registeredKernel: KernelModel | undefined;

/**
 * Register the machine provider used when `runScenario` is not given one.
 *
 * @example
 * ```ts ignore
 * import { registerMachineProvider } from "./steps.ts";
 * registerMachineProvider(myProvider);
 * ```
 */
export function registerMachineProvider(provider: MachineProvider): void {
  registeredProvider = provider;
}

/** The registered machine provider, if any. */
export function machineProvider(): MachineProvider | undefined {
  return registeredProvider;
}

/**
 * Register the kernel model that implements the kernel steps.
 *
 * @example
 * ```ts ignore
 * import { registerKernelModel } from "./steps.ts";
 * registerKernelModel(linuxModel);
 * ```
 */
export function registerKernelModel(model: KernelModel): void {
  registeredKernel = model;
}

/** The registered kernel model, if any. */
export function kernelModel(): KernelModel | undefined {
  return registeredKernel;
}

// ---------------------------------------------------------------------------------------------
// Handlers

const UNTIL_REASON: Record<RunUntil, RunResult["reason"]> = {
  "halt": "halted",
  "all-halted": "all-halted",
  "exit": "exit",
  "shutdown": "shutdown",
  "budget": "budget",
};

const powerOnHandler: StepHandler<"power_on"> = {
  op: "power_on",
  async run(step, ctx) {
    const image = step.args.image;
    if (image.format !== "bootsector") {
      ctx.fail(
        `power_on: unsupported image format ${image.format}: expected bootsector ` +
          "(other formats are loaded by kexec_load)",
        [...step.path, "image", "format"],
      );
    }
    const bytes = await ctx.imageBytes(image, [...step.path, "image"]);
    if (bytes.length > 512) {
      ctx.fail(
        `power_on: the boot sector is ${bytes.length} bytes: expected at most 512`,
        [...step.path, "image"],
      );
    }
    const sector = new Uint8Array(512);
    sector.set(bytes);
    if (ctx.machine) ctx.fail("power_on: the machine is already on", step.path);
    const machine = ctx.ensureMachine();
    const load = machine.loadBootsector?.bind(machine) ??
      ctx.fail("power_on: this machine cannot load a boot sector", step.path);
    load(sector);
  },
};

const runHandler: StepHandler<"run"> = {
  op: "run",
  run(step, ctx) {
    const machine = ctx.machine ??
      ctx.fail("run: there is no machine yet: expected power_on or boot before run", step.path);
    const until = step.args.until ?? "halt";
    const result = machine.run({ until, maxInstructions: step.args.max_instructions });
    ctx.lastRun = result;
    if (result.reason === "budget" && until !== "budget") {
      throw new StepFailure(
        `run: the budget of ${step.args.max_instructions} instructions ran out before ` +
          `${UNTIL_REASON[until]}`,
        step.path,
      );
    }
  },
};

const irqHandler: StepHandler<"irq"> = {
  op: "irq",
  run(step, ctx) {
    const machine = ctx.machine ??
      ctx.fail("irq: there is no machine yet: expected power_on or boot before irq", step.path);
    const setIrq = machine.setIrq?.bind(machine) ??
      ctx.fail("irq: this machine has no ISA IRQ lines", step.path);
    const lines = step.args.lines ?? (step.args.line === undefined ? [] : [step.args.line]);
    const high = step.args.level === "high";
    ctx.trace.emit(
      "step",
      `irq: ISA IRQ ${lines.join(", ")} ${high ? "raised" : "lowered"} by the scenario`,
      -1,
    );
    for (const line of lines) setIrq(line, high);
  },
};

function kernelHandler<N extends "boot" | "kexec_load" | "kexec_unload" | "reboot" | "panic">(
  op: N,
  call: (session: KernelSession, step: ScenarioStep<N>, ctx: StepContext) => void | Promise<void>,
): StepHandler<N> {
  return {
    op,
    async run(step, ctx) {
      if (!ctx.kernel) {
        const model = (ctx.state.get("kernel-model") as KernelModel | undefined) ??
          ctx.fail(kernelUnavailable(op), step.path);
        ctx.kernel = model.createSession(ctx);
      }
      await call(ctx.kernel, step, ctx);
    },
  };
}

/** The message of a kernel step while no kernel model is registered. */
export function kernelUnavailable(op: string): string {
  return `The step ${op} needs the kernel model, which is not available yet ` +
    "(no kernel model is registered with the runner)";
}

/** The built-in handlers of every step. */
export const stepHandlers: { readonly [N in StepName]: StepHandler<N> } = {
  power_on: powerOnHandler,
  run: runHandler,
  irq: irqHandler,
  boot: kernelHandler("boot", (s, step, ctx) => s.boot(step, ctx)),
  kexec_load: kernelHandler("kexec_load", (s, step, ctx) => s.kexecLoad(step, ctx)),
  kexec_unload: kernelHandler("kexec_unload", (s, step, ctx) => s.kexecUnload(step, ctx)),
  reboot: kernelHandler("reboot", (s, step, ctx) => s.reboot(step, ctx)),
  panic: kernelHandler("panic", (s, step, ctx) => s.panic(step, ctx)),
};

// ---------------------------------------------------------------------------------------------
// Context

/** Options for {@linkcode createStepContext}. */
export interface StepContextOptions {
  /** Builds machines and assembles code. */
  provider?: MachineProvider;
  /** Implements the kernel steps. */
  kernel?: KernelModel;
  /** The trace to use. */
  trace: Trace;
  /** Reads image files (default `Deno.readFile`). */
  readFile?: (path: string) => Promise<Uint8Array>;
}

/**
 * Create the context a case's steps run in.
 *
 * @example
 * ```ts ignore
 * import { createStepContext } from "./steps.ts";
 * const ctx = createStepContext(scenarioCase, { trace: new Trace() });
 * ```
 */
export function createStepContext(c: ScenarioCase, options: StepContextOptions): StepContext {
  const provider = options.provider;
  const readFile = options.readFile ?? ((p: string) => Deno.readFile(p));
  const ctx: StepContext = {
    case: c,
    trace: options.trace,
    machine: undefined,
    lastRun: undefined,
    segments: undefined,
    kernel: undefined,
    state: new Map<string, unknown>(),
    position: (path) => c.positions.valueAt(path),
    fail(message, path): never {
      throw new ScenarioLoadError(message, c.positions.valueAt(path));
    },
    ensureMachine() {
      if (ctx.machine) return ctx.machine;
      if (!provider) {
        ctx.fail(
          "The machine model (hw/platforms.ts) is not available yet: no machine provider is " +
            "registered with the runner",
          ["machine"],
        );
      }
      try {
        ctx.machine = provider.build(c.scenario.machine, { trace: options.trace });
      } catch (e) {
        const path = (e as { path?: unknown }).path;
        if (typeof path === "string") {
          const parts = path.split(".").flatMap((p) =>
            p.split(/\[(\d+)\]/).filter((x) => x !== "").map((x) => (/^\d+$/.test(x) ? x : x))
          );
          const vp: (string | number)[] = parts.map((p, i) =>
            /^\d+$/.test(p) && i > 0 && Array.isArray(
                lookup(c.scenario as unknown as Record<string, unknown>, parts.slice(0, i)),
              )
              ? Number(p)
              : p
          );
          // A BoardError's message repeats its path; the position already says where.
          const detail = (e as { detail?: unknown }).detail;
          throw new ScenarioLoadError(
            `Impossible machine: ${typeof detail === "string" ? detail : (e as Error).message}`,
            c.positions.valueAt(vp),
          );
        }
        throw e;
      }
      return ctx.machine;
    },
    async imageBytes(image, path) {
      if ((image.asm === undefined) === (image.file === undefined)) {
        ctx.fail("Image: expected exactly one of file: or asm:", path);
      }
      if (image.file !== undefined) {
        const filePath = resolveScenarioPath(
          c.positions.valueAt([...path, "file"]).file,
          image.file,
        );
        try {
          return await readFile(filePath);
        } catch (e) {
          const why = e instanceof Deno.errors.NotFound
            ? "file not found"
            : e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied
            ? "no read access (put it beside the scenario, or name its directory on the command line)"
            : (e as Error).message;
          ctx.fail(`Image file ${filePath}: ${why}`, [...path, "file"]);
        }
      }
      if (!provider) {
        ctx.fail(
          "Assembling asm: needs the machine provider (arch/x86/asm.ts), which is not available yet",
          [...path, "asm"],
        );
      }
      // A literal block (`asm: |`) maps asm lines 1:1 onto file lines; a quoted, plain or folded
      // scalar (escapes, folding) does not, so its errors are reported at the scalar's text with
      // the asm line and column.
      const asmPos = c.positions.get([...path, "asm"]);
      const block = asmPos?.literal ? asmPos.text : undefined;
      const text = block ?? asmPos?.text ?? c.positions.valueAt([...path, "asm"]);
      const arch = image.arch ?? (c.scenario.machine.board.startsWith("gamecube") ? "ppc" : "i386");
      const defaultOrg = image.format === "bootsector" ? 0x7c00n : image.load ?? 0n;
      try {
        return provider.assemble(image.asm!, {
          arch,
          bits: (image.bits ?? (image.format === "bootsector" ? 16 : 32)) as 16 | 32 | 64,
          org: image.org ?? defaultOrg,
          file: text.file,
          lineOffset: block ? block.line - 1 : 0,
          columnOffset: block ? block.column - 1 : 0,
        }).bytes;
      } catch (e) {
        const err = e as { line?: unknown; column?: unknown; detail?: unknown; message?: string };
        if (typeof err.line === "number" && typeof err.column === "number") {
          const detail = typeof err.detail === "string" ? err.detail : err.message;
          if (block) {
            throw new ScenarioLoadError(`asm: ${detail}`, {
              file: text.file,
              line: err.line,
              column: err.column,
            });
          }
          throw new ScenarioLoadError(
            `asm (line ${err.line}, column ${err.column} of the asm text): ${detail}`,
            text,
          );
        }
        throw e;
      }
    },
  };
  if (options.kernel) ctx.state.set("kernel-model", options.kernel);
  return ctx;
}

function lookup(root: Record<string, unknown>, path: string[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/**
 * Check before running that every step can run (kernel steps need a kernel model).
 * Throws {@linkcode ScenarioLoadError} at the first step that cannot.
 *
 * @example
 * ```ts ignore
 * import { checkRunnable } from "./steps.ts";
 * checkRunnable(scenarioCase, { kernel: undefined });
 * ```
 */
export function checkRunnable(c: ScenarioCase, options: { kernel?: KernelModel }): void {
  for (const step of c.steps) {
    if (!options.kernel && (KERNEL_STEPS as readonly string[]).includes(step.op)) {
      throw new ScenarioLoadError(kernelUnavailable(step.op), c.positions.keyAt(step.path));
    }
  }
  if (c.scenario.kernel !== undefined && !options.kernel) {
    throw new ScenarioLoadError(kernelUnavailable("kernel:"), c.positions.keyAt(["kernel"]));
  }
}

/** The suggestion for a misspelled snapshot key, for expectation errors. */
export function suggestKey(key: string, keys: Iterable<string>): string {
  const s = didYouMean(key, keys);
  return s === undefined ? "" : ` (did you mean ${JSON.stringify(s)}?)`;
}

/** Render a scenario path for people (re-exported for handlers). */
export { formatPath };
export type { StepArgs };
