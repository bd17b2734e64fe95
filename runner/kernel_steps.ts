/**
 * The Linux kernel model (kernel/model.ts with the x86 hooks of arch/x86) as the runner's
 * {@linkcode KernelModel}: the `kernel:` section and the steps `boot`, `kexec_load`,
 * `kexec_unload`, `reboot` and `panic`.
 *
 * - **Kernel architecture.** `kernel: { arch }` when given; otherwise the first `kexec_load`
 *   step's image decides (`arch: x86_64` or `bits: 64` → x86_64, `arch: i386` or `bits: 16/32`
 *   → i386); otherwise x86_64 when the CPU model has long mode, else i386. An x86_64 kernel on a
 *   CPU without long mode is an error at `kernel.arch`.
 * - **Payload images.** `image: { format: payload, asm | file, load, entry, bits }` is raw code:
 *   `asm:` is assembled at `load:` (default 0x100000; `bits` default 32 for an i386 kernel, 64
 *   for x86_64) and becomes one segment `{ mem: load, bufsz: bytes, memsz: page-rounded }`
 *   whose entry point is `entry:` (default `load:`). `format: bootsector` is the same with
 *   `load:` defaulting to 0x7C00 (the CPU still enters in the kernel's mode, not real mode).
 *   A `file:` whose name ends in `.asm`, `.nasm` or `.s` is assembly source (nasm syntax),
 *   assembled at `load:` like `asm:` (errors point into that file), so several scenarios can
 *   share one payload.
 *   Loader formats (`bzImage`, `elf`, `dol`) go through {@linkcode segmentsForImage}; code from
 *   `asm:` or an assembly-source file is wrapped into the format first.
 * - **Explicit segments.** `segments: [{ buf, bufsz, mem, memsz }]` are passed as they are
 *   (after the image's segment, if both are given); `buf` is hex text or an image assembled at
 *   its `load:` (default the segment's `mem`). The entry point is `entry:`, else the image's,
 *   else the first segment's `mem`.
 * - **Errors.** A system call that fails throws {@linkcode StepError} with the errno and the
 *   kernel's reason, so `expect_error:` works; a step the old kernel cannot take (before
 *   `boot`, on an offline CPU, after the old kernel handed the machine to a new one) is a load
 *   error (exit 2).
 * - **After the old kernel.** `reboot` (any command) and `panic` end the old kernel on every
 *   CPU, except the x86_64 crash path of 2.6.13, whose `machine_crash_shutdown` is empty: the
 *   other CPUs keep running the old kernel, and a step with `cpu:` may still call into it
 *   (where it finds `kexec_lock` held: EBUSY).
 *
 * @module
 */

import { assemble } from "../arch/x86/asm.ts";
import { createX86KexecArch, x86CpuPort } from "../arch/x86/kexec_port.ts";
import type { Machine } from "../hw/machine.ts";
import type { UserSegment } from "../kernel/kexec.ts";
import { KernelModel as LinuxKernel, KernelStateError } from "../kernel/model.ts";
import { PATCHES, VersionError } from "../kernel/versions.ts";
import { didYouMean, ScenarioLoadError } from "./errors.ts";
import { segmentsForImage } from "./kernel_images.ts";
import { resolveScenarioPath, type ScenarioCase, type ScenarioStep } from "./load.ts";
import type { ImageSpec } from "./schema.ts";
import {
  type KernelModel,
  type KernelSession,
  type LoadedSegment,
  type StepContext,
  StepError,
} from "./steps.ts";
import type { ValuePath } from "./yaml.ts";

/** Kernel architectures the adapter builds. */
export type KernelArch = "i386" | "x86_64";

/**
 * The kernel architecture of a case (see the module documentation for the rule).
 *
 * @example
 * ```ts ignore
 * import { chooseKernelArch } from "./kernel_steps.ts";
 * chooseKernelArch(scenarioCase, { longMode: true }); // "x86_64" unless the scenario says otherwise
 * ```
 */
export function chooseKernelArch(c: ScenarioCase, cpu: { longMode: boolean }): KernelArch {
  const explicit = c.scenario.kernel?.arch;
  if (explicit) return explicit;
  for (const step of c.steps) {
    if (step.op !== "kexec_load") continue;
    const image = (step.args as ScenarioStep<"kexec_load">["args"]).image;
    if (!image) continue;
    if (image.arch === "x86_64" || image.bits === 64) return "x86_64";
    if (image.arch === "i386" || image.bits === 16 || image.bits === 32) return "i386";
    break;
  }
  return cpu.longMode ? "x86_64" : "i386";
}

const PAGE = 4096n;

/** Image files whose name ends like this are assembly source (assembled at `load:`). */
const ASM_FILE = /\.(asm|nasm|s)$/i;

function pageUp(v: bigint): bigint {
  return (v + PAGE - 1n) & ~(PAGE - 1n);
}

/** Parse `"de ad be ef"` (spaces, newlines and `_` allowed) into bytes. */
function parseHex(text: string, ctx: StepContext, path: ValuePath): Uint8Array {
  const clean = text.replace(/[\s_]/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    ctx.fail(
      `Segment buf: expected hex bytes such as "de ad be ef", got ${JSON.stringify(text)}`,
      path,
    );
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

/** One case's old kernel. */
class LinuxSession implements KernelSession {
  readonly #ctx: StepContext;
  readonly #machine: Machine;
  readonly #kernel: LinuxKernel;
  readonly #arch: KernelArch;
  /** CPUs on which the old kernel no longer runs (a new kernel or a stop loop owns them). */
  readonly #gone = new Set<number>();

  constructor(ctx: StepContext) {
    this.#ctx = ctx;
    const c = ctx.case;
    const section = c.scenario.kernel ?? {};
    for (const name of Object.keys(section.patches ?? {})) {
      if (!PATCHES.some((p) => p.name === name)) {
        const s = didYouMean(name, PATCHES.map((p) => p.name));
        throw new ScenarioLoadError(
          `Unknown kernel patch: ${name}${s ? ` (did you mean ${JSON.stringify(s)}?)` : ""}: ` +
            `expected one of ${PATCHES.map((p) => p.name).join(", ")}`,
          c.positions.keyAt(["kernel", "patches", name]),
        );
      }
    }
    this.#machine = ctx.ensureMachine() as unknown as Machine;
    const port = x86CpuPort(this.#machine.cpus);
    this.#arch = chooseKernelArch(c, { longMode: port.caps.longMode });
    if (this.#arch === "x86_64" && !port.caps.longMode) {
      ctx.fail(
        `An x86_64 kernel needs a CPU with long mode: ${
          c.scenario.machine.cpu?.model ?? "the board's CPU"
        } has none (use kernel: { arch: i386 })`,
        section.arch ? ["kernel", "arch"] : ["machine"],
      );
    }
    if (this.#arch === "x86_64" && section.pae !== undefined) {
      ctx.fail("kernel.pae applies to i386 kernels only", ["kernel", "pae"]);
    }
    const arch = createX86KexecArch(this.#machine, { arch: this.#arch, pae: section.pae });
    try {
      this.#kernel = new LinuxKernel(this.#machine, {
        version: section.version,
        cmdline: section.cmdline,
        patches: section.patches,
        smp: section.smp,
        arch,
      });
    } catch (e) {
      if (e instanceof VersionError) ctx.fail(e.message, ["kernel"]);
      throw e;
    }
  }

  /** The kernel model (for tests and plugins). */
  get kernel(): LinuxKernel {
    return this.#kernel;
  }

  /** Run a kernel call, turning "the kernel cannot do this now" into a load error. */
  #call<T>(path: ValuePath, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof KernelStateError) this.#ctx.fail(e.message, path);
      throw e;
    }
  }

  /** Check that the old kernel still runs on `cpu` (and that the CPU is online). */
  #alive(op: string, cpu: number, path: ValuePath): void {
    if (this.#kernel.bootInfo !== undefined) {
      const online = this.#kernel.arch.onlineCpus();
      if (!online.includes(cpu) && !this.#gone.has(cpu)) {
        this.#ctx.fail(
          `${op}: CPU ${cpu} is not online (online: ${online.join(", ")}): no task can run there`,
          [...path, "cpu"],
        );
      }
    }
    if (this.#gone.has(cpu)) {
      const left = this.#kernel.arch.onlineCpus().filter((c) => !this.#gone.has(c));
      this.#ctx.fail(
        `${op}: the old kernel no longer runs on CPU ${cpu} (a reboot or panic ended it)` +
          (left.length ? `: it still runs on CPU ${left.join(", ")}` : ""),
        path,
      );
    }
  }

  #check(r: { errno: string | 0; reason?: string }): void {
    if (r.errno !== 0) {
      throw new StepError(r.errno, (r.reason ?? r.errno).replace(/^E[A-Z]+: /, ""));
    }
  }

  boot(step: ScenarioStep<"boot">): void {
    this.#call(step.path, () => this.#kernel.boot());
  }

  async #bytes(image: ImageSpec, defaults: { load: bigint }, path: ValuePath) {
    const load = image.load ?? defaults.load;
    const bits = image.bits ??
      (image.arch === "x86_64" || (image.arch === undefined && this.#arch === "x86_64") ? 64 : 32);
    const raw = await this.#ctx.imageBytes({ ...image, bits, load }, path);
    if (image.file === undefined || !ASM_FILE.test(image.file)) return { bytes: raw, load };
    // A payload file named *.asm / *.s / *.nasm is assembly source, assembled at load:.
    const file = resolveScenarioPath(this.#ctx.position([...path, "file"]).file, image.file);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      this.#ctx.fail(`Assembly file ${file}: not UTF-8 text`, [...path, "file"]);
    }
    try {
      const b = bits as 16 | 32 | 64;
      return { bytes: assemble(text, { bits: b, org: image.org ?? load, file }).bytes, load };
    } catch (e) {
      const err = e as { line?: unknown; column?: unknown; detail?: unknown; message?: string };
      if (typeof err.line === "number" && typeof err.column === "number") {
        throw new ScenarioLoadError(
          `asm: ${typeof err.detail === "string" ? err.detail : err.message}`,
          { file, line: err.line, column: err.column },
        );
      }
      throw e;
    }
  }

  async kexecLoad(step: ScenarioStep<"kexec_load">, ctx: StepContext): Promise<void> {
    const a = step.args;
    const path = step.path;
    const cpu = a.cpu ?? 0;
    this.#alive("kexec_load", cpu, path);
    const user: UserSegment[] = [];
    const loaded: LoadedSegment[] = [];
    let entry = a.entry;
    let flags = a.flags;
    if (a.image) {
      const image = a.image;
      if (image.format === "payload" || image.format === "bootsector") {
        const { bytes, load } = await this.#bytes(
          image,
          { load: image.format === "bootsector" ? 0x7c00n : 0x100000n },
          [...path, "image"],
        );
        const memsz = pageUp(load + BigInt(bytes.length)) - load;
        user.push({ buf: bytes, bufsz: BigInt(bytes.length), mem: load, memsz });
        loaded.push({ mem: load, memsz, bytes, info: { kind: image.format } });
        entry ??= image.entry ?? load;
      } else {
        // Code from asm: or an assembly-source file is wrapped into the format; other files are
        // finished images.
        const assembled = image.asm !== undefined ||
          (image.file !== undefined && ASM_FILE.test(image.file));
        const { bytes } = await this.#bytes(image, { load: 0x100000n }, [...path, "image"]);
        const initrd = a.initrd
          ? (await this.#bytes(a.initrd, { load: 0n }, [...path, "initrd"])).bytes
          : undefined;
        const plan = await segmentsForImage({
          image,
          bytes,
          assembled,
          initrd,
          commandLine: a.command_line,
          loader: a.loader,
          crash: a.crash ?? false,
          kernelArch: this.#arch,
          kernel: this.#kernel,
          machine: this.#machine,
          procCmdline: ctx.case.scenario.kernel?.cmdline ?? "",
          path,
          ctx,
        });
        for (const s of plan.segments) {
          const bufsz = s.bufsz ?? BigInt(s.buf.length);
          user.push({ buf: s.buf, bufsz, mem: s.mem, memsz: s.memsz });
          loaded.push({
            mem: s.mem,
            memsz: s.memsz,
            bytes: s.buf.subarray(0, Number(bufsz)),
            ...(s.info ? { info: s.info } : {}),
          });
        }
        entry ??= plan.entry;
        flags ??= plan.flags;
      }
    } else if (a.initrd || a.command_line !== undefined || a.loader) {
      ctx.fail(
        "kexec_load: initrd, command_line and loader need an image: of a loader format",
        path,
      );
    }
    for (const [i, s] of (a.segments ?? []).entries()) {
      const spath = [...path, "segments", i, "buf"];
      const bytes = typeof s.buf === "string"
        ? parseHex(s.buf, ctx, spath)
        : (await this.#bytes(s.buf, { load: s.mem }, spath)).bytes;
      const bufsz = s.bufsz ?? BigInt(bytes.length);
      if (bufsz > BigInt(bytes.length)) {
        // A bufsz beyond the data is a user pointer past the buffer: the model reads zeros there.
        const padded = new Uint8Array(Number(bufsz));
        padded.set(bytes);
        user.push({ buf: padded, bufsz, mem: s.mem, memsz: s.memsz });
        loaded.push({ mem: s.mem, memsz: s.memsz, bytes: padded });
      } else {
        user.push({ buf: bytes, bufsz, mem: s.mem, memsz: s.memsz });
        loaded.push({ mem: s.mem, memsz: s.memsz, bytes: bytes.subarray(0, Number(bufsz)) });
      }
    }
    if (user.length === 0) {
      ctx.fail(
        "kexec_load: nothing to load: expected image: or segments: (use kexec_unload to unload)",
        path,
      );
    }
    if (flags !== undefined && flags > 0xffffffffn) {
      ctx.fail(`kexec_load: flags ${hex(flags)} above 32 bits are not modelled`, [
        ...path,
        "flags",
      ]);
    }
    const r = this.#call(path, () => {
      try {
        return this.#kernel.kexecLoad({
          entry: entry ?? user[0].mem,
          segments: user,
          flags: flags === undefined ? undefined : Number(flags),
          crash: a.crash,
          caller: a.caller as 32 | 64 | undefined,
          capSysBoot: a.cap_sys_boot,
        });
      } catch (e) {
        if (e instanceof TypeError && /Caller word size/.test(e.message)) {
          ctx.fail(e.message, [...path, "caller"]);
        }
        throw e;
      }
    });
    this.#check(r);
    ctx.segments = loaded;
  }

  kexecUnload(step: ScenarioStep<"kexec_unload">, ctx: StepContext): void {
    const a = step.args;
    this.#alive("kexec_unload", a.cpu ?? 0, step.path);
    if (a.flags !== undefined && a.flags > 0xffffffffn) {
      ctx.fail(`kexec_unload: flags ${hex(a.flags)} above 32 bits are not modelled`, [
        ...step.path,
        "flags",
      ]);
    }
    const r = this.#call(step.path, () => {
      try {
        return this.#kernel.kexecLoad({
          entry: 0,
          segments: [],
          flags: a.flags === undefined ? undefined : Number(a.flags),
          crash: a.crash,
          caller: a.caller as 32 | 64 | undefined,
          capSysBoot: a.cap_sys_boot,
        });
      } catch (e) {
        if (e instanceof TypeError && /Caller word size/.test(e.message)) {
          ctx.fail(e.message, [...step.path, "caller"]);
        }
        throw e;
      }
    });
    this.#check(r);
  }

  reboot(step: ScenarioStep<"reboot">): void {
    const a = step.args;
    const cpu = a.cpu ?? 0;
    this.#alive("reboot", cpu, step.path);
    const r = this.#call(step.path, () =>
      this.#kernel.reboot({
        cmd: a.cmd,
        cpu,
        magic1: a.magic1 === undefined ? undefined : Number(a.magic1),
        magic2: a.magic2 === undefined ? undefined : Number(a.magic2),
        capSysBoot: a.cap_sys_boot,
      }));
    this.#check(r);
    for (const c of this.#kernel.arch.onlineCpus()) this.#gone.add(c);
    for (let c = 0; c < this.#machine.cpus.length; c++) this.#gone.add(c);
  }

  panic(step: ScenarioStep<"panic">): void {
    const a = step.args;
    const cpu = a.cpu ?? 0;
    this.#alive("panic", cpu, step.path);
    const r = this.#call(step.path, () => this.#kernel.panic({ cpu, via: a.via }));
    if (r.kexeced && this.#arch === "x86_64") {
      // 2.6.13 x86_64 machine_crash_shutdown is empty: only the crashing CPU left the old kernel.
      this.#gone.add(cpu);
      return;
    }
    for (let c = 0; c < this.#machine.cpus.length; c++) this.#gone.add(c);
  }

  snapshot() {
    return { arch: this.#arch, ...this.#kernel.snapshot() };
  }
}

/**
 * The kernel model the runner registers by default (runner/defaults.ts): Linux 2.6.8.1-kexec3 /
 * 2.6.13 on the x86 boards.
 *
 * @example
 * ```ts ignore
 * import { registerKernelModel } from "./steps.ts";
 * import { linuxKernelModel } from "./kernel_steps.ts";
 * registerKernelModel(linuxKernelModel);
 * ```
 */
export const linuxKernelModel: KernelModel = {
  name: "linux-2.6 kexec model (x86)",
  createSession(ctx: StepContext): KernelSession {
    return new LinuxSession(ctx);
  },
};
