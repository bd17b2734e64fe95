/**
 * The PowerPC architecture: the 750 / Gekko CPU interpreter, its models and register field
 * tables.
 *
 * @example
 * ```ts
 * import { ppcCpuFactory } from "./mod.ts";
 * const { factory, info } = ppcCpuFactory("gekko");
 * info.arch; // "ppc"
 * typeof factory; // "function"
 * ```
 *
 * @module
 */

export {
  type CodePage,
  createPpcCpu,
  MSR,
  PpcCpu,
  ppcCpuFactory,
  type PpcCpuOptions,
  type PpcDisassembler,
  PROGRAM_ILLEGAL,
  PROGRAM_PRIVILEGED,
  PROGRAM_TRAP,
  SPR_NAMES,
  VEC,
} from "./cpu.ts";
export { type PpcModel, ppcModel, ppcModels } from "./models.ts";
export {
  BATL_FIELDS,
  BATU_FIELDS,
  CR_FIELDS,
  HID0_FIELDS,
  MSR_FIELDS,
  SDR1_FIELDS,
  SR_FIELDS,
  XER_FIELDS,
} from "./fields.ts";
export type * from "../../hw/cpu.ts";
export type * from "../../hw/fields.ts";
export type * from "../../hw/memory.ts";
export type * from "../../hw/io_bus.ts";
export type * from "../../hw/mmio_bus.ts";
export type * from "../../hw/trace.ts";
export type * from "../../hw/clock.ts";
export { AsmError, assemble } from "./asm.ts";
export type { AsmLine, AsmOptions, AsmResult } from "./asm.ts";
export { disassemble, disassembleOne, disassembleText } from "./disasm.ts";
export type { DisasmLine, DisasmOptions } from "./disasm.ts";

import { disassembleText } from "./disasm.ts";

/**
 * Disassemble one instruction word for CPU trace messages (the `disassemble` option of
 * {@linkcode ppcCpuFactory} / `createPpcCpu`).
 *
 * @example
 * ```ts
 * import { disassembleWord, ppcCpuFactory } from "./mod.ts";
 * disassembleWord(0x7d1a03a6, 0x3000); // "mtsrr0 r8"
 * const { factory } = ppcCpuFactory("gekko", { disassemble: disassembleWord });
 * ```
 */
export function disassembleWord(word: number, address: number): string {
  const b = new Uint8Array([word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff]);
  return disassembleText(b, address);
}
