/**
 * Constants shared by the PowerPC interpreter files: MSR bits, exception vectors, program
 * exception reasons and the abort marker.
 *
 * @example
 * ```ts
 * import { MSR, VEC } from "./constants.ts";
 * (MSR.EE | MSR.IP).toString(16); // "8040"
 * VEC.decrementer; // 0x900
 * ```
 *
 * @module
 */

/** Thrown inside an instruction after an exception has been delivered, to abandon it. */
export const PPC_ABORT: { readonly abort: true } = Object.freeze({ abort: true as const });

/** Exception vector offsets (hardware.md §6.2). */
export const VEC = {
  systemReset: 0x100,
  machineCheck: 0x200,
  dsi: 0x300,
  isi: 0x400,
  external: 0x500,
  alignment: 0x600,
  program: 0x700,
  fpUnavailable: 0x800,
  decrementer: 0x900,
  systemCall: 0xc00,
} as const;

/** Program exception SRR1 bits. */
export const PROGRAM_ILLEGAL = 0x00080000;
/** Program exception SRR1 bit: privileged instruction in user mode. */
export const PROGRAM_PRIVILEGED = 0x00040000;
/** Program exception SRR1 bit: trap. */
export const PROGRAM_TRAP = 0x00020000;

/** MSR bits. */
export const MSR = {
  POW: 0x40000,
  ILE: 0x10000,
  EE: 0x8000,
  PR: 0x4000,
  FP: 0x2000,
  ME: 0x1000,
  FE0: 0x800,
  SE: 0x400,
  BE: 0x200,
  FE1: 0x100,
  IP: 0x40,
  IR: 0x20,
  DR: 0x10,
  PM: 0x4,
  RI: 0x2,
  LE: 0x1,
} as const;
