/**
 * Wires the runner to the project's machine and kernel models. Importing this module registers
 * the default {@linkcode MachineProvider} (hw/platforms.ts + arch/x86) and, once it exists, the
 * kernel model. Until a model exists its steps fail with a clear "not available yet" error.
 *
 * @module
 */

export {};
