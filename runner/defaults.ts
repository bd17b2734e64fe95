/**
 * Wires the runner to the project's models. Importing this module registers the default
 * {@linkcode MachineProvider} (PC boards of hw/platforms.ts, x86 CPUs and assembler of arch/x86)
 * and the default kernel model (runner/kernel_steps.ts: the Linux kexec model of kernel/ with the
 * x86 hooks of arch/x86).
 *
 * @module
 */

import { linuxKernelModel } from "./kernel_steps.ts";
import { pcMachineProvider } from "./machine_provider.ts";
import { type MachineProvider, registerKernelModel, registerMachineProvider } from "./steps.ts";

registerMachineProvider(pcMachineProvider);
registerKernelModel(linuxKernelModel);

export type { MachineProvider };
export { registerKernelModel };
