/**
 * Wires the runner to the project's models. Importing this module registers the default
 * {@linkcode MachineProvider} (PC boards of hw/platforms.ts, x86 CPUs and assembler of arch/x86).
 * The kernel model is registered here once it plugs into {@linkcode registerKernelModel}; until
 * then kernel steps fail with a clear "not available yet" error.
 *
 * @module
 */

import { pcMachineProvider } from "./machine_provider.ts";
import { type MachineProvider, registerKernelModel, registerMachineProvider } from "./steps.ts";

registerMachineProvider(pcMachineProvider);

export type { MachineProvider };
export { registerKernelModel };
