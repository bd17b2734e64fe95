/**
 * EFLAGS bit constants and lazy-flag operation kinds shared by the x86 interpreter files.
 *
 * @example
 * ```ts
 * import { FLAG_ZF } from "./flags.ts";
 * (0x46 & FLAG_ZF) !== 0; // true
 * ```
 *
 * @module
 */

/** Carry. */
export const FLAG_CF = 0x1;
/** Parity. */
export const FLAG_PF = 0x4;
/** Auxiliary carry. */
export const FLAG_AF = 0x10;
/** Zero. */
export const FLAG_ZF = 0x40;
/** Sign. */
export const FLAG_SF = 0x80;
/** Trap. */
export const FLAG_TF = 0x100;
/** Interrupt enable. */
export const FLAG_IF = 0x200;
/** Direction. */
export const FLAG_DF = 0x400;
/** Overflow. */
export const FLAG_OF = 0x800;
/** I/O privilege level (2 bits). */
export const FLAG_IOPL = 0x3000;
/** Nested task. */
export const FLAG_NT = 0x4000;
/** Resume. */
export const FLAG_RF = 0x10000;
/** Virtual-8086 mode. */
export const FLAG_VM = 0x20000;
/** Alignment check. */
export const FLAG_AC = 0x40000;
/** CPUID available. */
export const FLAG_ID = 0x200000;
/** The six arithmetic flags. */
export const ARITH_FLAGS = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;

/** Parity table: 1 when the byte has an even number of set bits (PF=1). */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, n = 0;
  while (b) n += b & 1, b >>= 1;
  PARITY[i] = (n & 1) === 0 ? 1 : 0;
}

/** Lazy flag operations. */
export const LF_NONE = 0,
  LF_ADD = 1,
  LF_ADC = 2,
  LF_SUB = 3,
  LF_SBB = 4,
  LF_LOGIC = 5,
  LF_INC = 6,
  LF_DEC = 7;
