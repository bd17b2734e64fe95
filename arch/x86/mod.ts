/**
 * The x86 architecture: CPU interpreter, CPU models and register field tables.
 *
 * @example
 * ```ts
 * import { x86CpuFactory } from "./mod.ts";
 * const { factory, info } = x86CpuFactory("xeon-nocona");
 * info.maxPhysAddr; // 36
 * typeof factory; // "function"
 * ```
 *
 * @module
 */

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
export type {
  CpuCore,
  CpuEnvironment,
  CpuFactory,
  CpuModelInfo,
  CpuRunState,
  CpuStopReason,
} from "../../hw/cpu.ts";
export type { FieldTable, Snapshot } from "../../hw/fields.ts";
export type { PhysicalMemory } from "../../hw/memory.ts";
export {
  APIC_BASE_FIELDS,
  CR0_FIELDS,
  CR4_FIELDS,
  EFER_FIELDS,
  EFLAGS_FIELDS,
  SEGMENT_ATTR_FIELDS,
} from "./fields.ts";
