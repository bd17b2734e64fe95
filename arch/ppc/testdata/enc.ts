/**
 * Tiny instruction encoders for the PowerPC CPU tests and benchmark (words as GNU as encodes
 * them; see shared/reference/cpu-notes.md §5.2 for checked examples).
 *
 * @module
 */

const d = (op: number, rt: number, ra: number, imm: number) =>
  ((op << 26) | (rt << 21) | (ra << 16) | (imm & 0xffff)) >>> 0;
const x = (rt: number, ra: number, rb: number, xo: number, rc = 0) =>
  ((31 << 26) | (rt << 21) | (ra << 16) | (rb << 11) | (xo << 1) | rc) >>> 0;

/** Encoders by mnemonic (operand order as in GNU as). */
export const E = {
  li: (rt: number, imm: number) => d(14, rt, 0, imm),
  lis: (rt: number, imm: number) => d(15, rt, 0, imm),
  addi: (rt: number, ra: number, imm: number) => d(14, rt, ra, imm),
  ori: (ra: number, rs: number, imm: number) => d(24, rs, ra, imm),
  lwz: (rt: number, off: number, ra: number) => d(32, rt, ra, off),
  lwzu: (rt: number, off: number, ra: number) => d(33, rt, ra, off),
  stw: (rs: number, off: number, ra: number) => d(36, rs, ra, off),
  stwu: (rs: number, off: number, ra: number) => d(37, rs, ra, off),
  stb: (rs: number, off: number, ra: number) => d(38, rs, ra, off),
  lbz: (rt: number, off: number, ra: number) => d(34, rt, ra, off),
  lmw: (rt: number, off: number, ra: number) => d(46, rt, ra, off),
  stmw: (rs: number, off: number, ra: number) => d(47, rs, ra, off),
  xor: (ra: number, rs: number, rb: number) => x(rs, ra, rb, 316),
  mr: (ra: number, rs: number) => x(rs, ra, rs, 444),
  mtspr: (spr: number, rs: number) => x(rs, spr & 31, spr >> 5, 467),
  mfspr: (rt: number, spr: number) => x(rt, spr & 31, spr >> 5, 339),
  mtmsr: (rs: number) => x(rs, 0, 0, 146),
  mfmsr: (rt: number) => x(rt, 0, 0, 83),
  mftb: (rt: number) => x(rt, 12, 8, 371),
  lwarx: (rt: number, ra: number, rb: number) => x(rt, ra, rb, 20),
  stwcx: (rs: number, ra: number, rb: number) => x(rs, ra, rb, 150, 1),
  dcbst: (ra: number, rb: number) => x(0, ra, rb, 54),
  dcbz: (ra: number, rb: number) => x(0, ra, rb, 1014),
  icbi: (ra: number, rb: number) => x(0, ra, rb, 982),
  tw: (to: number, ra: number, rb: number) => x(to, ra, rb, 4),
  /** bc with a relative displacement in bytes. */
  bc: (bo: number, bi: number, disp: number) =>
    ((16 << 26) | (bo << 21) | (bi << 16) | (disp & 0xfffc)) >>> 0,
  /** b with a relative displacement in bytes. */
  b: (disp: number) => ((18 << 26) | (disp & 0x03fffffc)) >>> 0,
  sync: 0x7c0004ac,
  isync: 0x4c00012c,
  rfi: 0x4c000064,
  sc: 0x44000002,
  blr: 0x4e800020,
  nop: 0x60000000,
} as const;

/** Write `words` big-endian at physical `addr`. */
export function put(
  mem: { write32be(addr: number, value: number): void },
  addr: number,
  words: readonly number[],
): void {
  words.forEach((w, i) => mem.write32be(addr + 4 * i, w));
}

/**
 * Primary opcodes of the integer, branch, load/store and system instructions (3..47 less the
 * unused ones): random words drawn with these decode far more often than fully random words.
 * Shared by the disassembler round-trip test and tools/gen_ppc_vectors.ts.
 */
export const INTEGER_PRIMARY_OPCODES: readonly number[] = [
  3,
  7,
  8,
  10,
  11,
  12,
  13,
  14,
  15,
  16,
  17,
  18,
  19,
  20,
  21,
  23,
  24,
  25,
  26,
  27,
  28,
  29,
  31,
  32,
  33,
  34,
  35,
  36,
  37,
  38,
  39,
  40,
  41,
  42,
  43,
  44,
  45,
  46,
  47,
];
