/**
 * kexec-scenarios: declarative kexec regression scenarios on emulated PCs and PowerPC boards.
 *
 * One YAML file describes a machine and a Linux kexec sequence; the runner builds the machine,
 * runs the sequence with real machine code on the project's CPU interpreters, and checks the
 * final CPU registers, memory and interrupt-controller state.
 *
 * @module
 */

export * from "./hw/fields.ts";
export * from "./hw/trace.ts";
export * from "./hw/clock.ts";
export * from "./hw/memory.ts";
export * from "./hw/io_bus.ts";
export * from "./hw/mmio_bus.ts";
export type * from "./hw/cpu.ts";
