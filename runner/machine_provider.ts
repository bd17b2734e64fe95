/**
 * The default {@linkcode MachineProvider}: PC boards from hw/platforms.ts with the x86 CPU models
 * of arch/x86, and the x86 or PowerPC (`arch: ppc`) assembler for `asm:` images.
 *
 * @module
 */

import { assemble } from "../arch/x86/asm.ts";
import { assemble as assemblePpc } from "../arch/ppc/asm.ts";
import { x86CpuFactory } from "../arch/x86/cpu.ts";
import { disassembleText } from "../arch/x86/disasm.ts";
import { x86Models } from "../arch/x86/models.ts";
import { buildMachine, type MachineConfig } from "../hw/platforms.ts";
import type { MachineProvider } from "./steps.ts";

/**
 * Builds PC machines and assembles x86 code.
 *
 * @example
 * ```ts ignore
 * import { pcMachineProvider } from "./machine_provider.ts";
 * import { Trace } from "../hw/trace.ts";
 * const machine = pcMachineProvider.build({ board: "pc-legacy" }, { trace: new Trace() });
 * ```
 */
export const pcMachineProvider: MachineProvider = {
  build(config, { trace }) {
    return buildMachine(config as MachineConfig, {
      cpu: (
        model,
      ) => (Object.hasOwn(x86Models, model)
        ? x86CpuFactory(model, { disassemble: disassembleText })
        : undefined),
      models: Object.keys(x86Models),
      trace,
    });
  },
  assemble(source, options) {
    if (options.arch === "ppc") {
      return assemblePpc(source, {
        org: options.org,
        file: options.file,
        lineOffset: options.lineOffset,
        columnOffset: options.columnOffset,
      });
    }
    return assemble(source, {
      bits: options.bits,
      org: options.org,
      file: options.file,
      lineOffset: options.lineOffset,
      columnOffset: options.columnOffset,
    });
  },
};
