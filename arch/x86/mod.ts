/**
 * The x86 architecture: CPU interpreter, CPU models, register field tables, the nasm-syntax
 * assembler and the disassembler.
 *
 * @example
 * ```ts
 * import { x86CpuFactory } from "./mod.ts";
 * const { factory, info } = x86CpuFactory("xeon-nocona");
 * info.maxPhysAddr; // 36
 * typeof factory; // "function"
 * ```
 *
 * @example
 * ```ts
 * import { assemble, disassemble } from "./mod.ts";
 * const { bytes } = assemble("bits 32\nmov cr4, eax\nhlt", { org: 0x100000 });
 * disassemble(bytes, { bits: 32, address: 0x100000 }).map((l) => l.text); // ["mov cr4, eax", "hlt"]
 * ```
 *
 * @module
 */

import type { CpuCore } from "../../hw/cpu.ts";
import type { KexecArch } from "../../kernel/arch.ts";
import { createX86KexecArch as createArch } from "./kexec_port.ts";

export {
  createX86Cpu,
  lookupModel,
  SEG_NAMES,
  X86Cpu,
  x86CpuFactory,
  type X86CpuOptions,
  type X86Disassembler,
  type X86SegmentValue,
} from "./cpu.ts";
export {
  type CpuidResult,
  type X86Features,
  type X86Model,
  x86Model,
  x86Models,
} from "./models.ts";
export type { Instr } from "./decode.ts";
// The machine-facing types an x86 core implements and uses (the classes themselves are in
// `hw/mod.ts`).
export type * from "../../hw/cpu.ts";
export type * from "../../hw/fields.ts";
export type * from "../../hw/memory.ts";
export type * from "../../hw/io_bus.ts";
export type * from "../../hw/mmio_bus.ts";
export type * from "../../hw/trace.ts";
export type * from "../../hw/clock.ts";
export {
  APIC_BASE_FIELDS,
  CR0_FIELDS,
  CR4_FIELDS,
  EFER_FIELDS,
  EFLAGS_FIELDS,
  SEGMENT_ATTR_FIELDS,
} from "./fields.ts";
export { AsmError, assemble } from "./asm.ts";
export type { AsmLine, AsmOptions, AsmResult } from "./asm.ts";
export { disassemble, disassembleOne, disassembleText } from "./disasm.ts";
export type { DisasmLine, DisasmOptions } from "./disasm.ts";

/** Options of {@linkcode createX86KexecArch}. */
export interface X86KexecArchOptions {
  /** The kernel's architecture. */
  arch: "i386" | "x86_64";
  /** i386 only: PAE page tables (default: when the CPU reports PAE). */
  pae?: boolean;
}

/**
 * The x86 kexec hooks (`machine_kexec`, `machine_shutdown`, crash shutdown, the relocation stubs
 * in guest machine code) for a machine's x86 CPUs, as the kernel model's {@linkcode KexecArch}.
 * Throws `RangeError` for an `x86_64` kernel on a CPU without long mode.
 *
 * @example
 * ```ts
 * import { createX86KexecArch, x86CpuFactory } from "./mod.ts";
 * import { buildMachine } from "../../hw/mod.ts";
 * const machine = buildMachine({ board: "opteron" }, { cpu: x86CpuFactory("opteron") });
 * createX86KexecArch(machine, { arch: "x86_64" }).name; // "x86_64"
 * ```
 */
export function createX86KexecArch(
  machine: { readonly cpus: readonly CpuCore[] },
  options: X86KexecArchOptions,
): KexecArch {
  return createArch(machine, options);
}

// The kernel-side interfaces the hooks implement, through kernel/arch.ts as every arch/ import of
// kernel/. The kernel model and the types those interfaces mention (KernelConfig, PageAllocator,
// Kimage's Slot and segments, Gfp, Errno) are exported by `kernel/mod.ts`.
export type * from "../../kernel/arch.ts";
