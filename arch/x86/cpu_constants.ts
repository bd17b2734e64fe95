/**
 * Constants the x86 interpreter's modules share: the fault sentinel, segment register indices,
 * and the software TLB's size and access kinds. They live in this leaf module so that `cpu.ts`
 * and the execution modules it imports (`exec.ts`, `interrupts.ts`, `system.ts`, ...) do not
 * import each other; `cpu.ts` re-exports them.
 *
 * @example
 * ```ts
 * import { SEG_CS } from "./cpu_constants.ts";
 * SEG_CS; // 1
 * ```
 *
 * @module
 */

/** Thrown (as a value, not an Error) to abort the current instruction with a fault. */
export const FAULT: { readonly fault: true } = Object.freeze({ fault: true as const });

/** Segment register indices (encoding order), plus LDTR and TR in the same arrays. */
export const SEG_ES = 0,
  SEG_CS = 1,
  SEG_SS = 2,
  SEG_DS = 3,
  SEG_FS = 4,
  SEG_GS = 5,
  SEG_LDTR = 6,
  SEG_TR = 7;

/** Software TLB size (direct mapped, per access kind). */
export const TLB_SIZE = 256;
/** TLB access kinds: read, write, execute. */
export const ACC_R = 0, ACC_W = 1, ACC_X = 2;
