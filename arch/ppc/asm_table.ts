/**
 * The PowerPC instruction table shared by the assembler (`asm.ts`) and the disassembler
 * (`disasm.ts`): 32-bit big-endian 750/Gekko integer, branch, load/store, CR, SPR, MSR, cache and
 * TLB instructions, with the GNU as extended mnemonics of that subset. Each entry is a fixed
 * opcode pattern (`op`, `mask`) plus operand fields; extended mnemonics are entries whose mask also
 * covers the fixed fields (`li` = `addi` with rA = 0), or macros that rewrite operands before
 * encoding (`slwi` = `rlwinm`).
 *
 * @module
 */

/** Operand field kinds. */
export type FieldKind =
  | "gpr" // 5-bit GPR
  | "gpr0" // 5-bit GPR where 0 means the literal 0 (rA of addi, loads, cache ops)
  | "crf" // 3-bit CR field number
  | "crb" // 5-bit CR bit number
  | "u" // unsigned number
  | "s16" // signed 16-bit immediate
  | "u16" // unsigned 16-bit immediate
  | "s16u" // signed 16-bit immediate that also accepts 0x8000..0xffff (addis, lis)
  | "mem" // d(rA): signed 16-bit displacement at 0 and rA (0 = literal) at 16
  | "bd" // 14-bit word displacement, relative
  | "bda" // 14-bit word address, absolute
  | "li" // 24-bit word displacement, relative
  | "lia" // 24-bit word address, absolute
  | "spr" // 10-bit SPR number with swapped halves
  | "nb" // lswi/stswi byte count 0..32 (32 is encoded as 0)
  | "crbit"; // CR field number placed at bits 18..20 of BI (extended conditional branches)

/** One operand field. */
export interface Field {
  /** Kind of value. */
  readonly kind: FieldKind;
  /** Shift of the field's lowest bit. */
  readonly shift: number;
  /** Width in bits. */
  readonly bits: number;
  /** The operand may be left out (value 0). */
  readonly optional?: boolean;
  /** Also written to these shifts (mr = or rA,rS,rS; crset = creqv bx,bx,bx). */
  readonly dup?: readonly number[];
}

/** One instruction pattern. */
export interface InsnDef {
  /** Mnemonic (lower case, with `.`/`o`/`+`/`-` suffixes spelled out). */
  readonly name: string;
  /** Fixed bits. */
  readonly op: number;
  /** Mask of the fixed bits (operand fields are outside it). */
  readonly mask: number;
  /** Operands in source order. */
  readonly fields: readonly Field[];
  /** Branch hint: "+" or "-" (y bit chosen from the displacement sign for B-form). */
  readonly hint?: "+" | "-";
  /** Update form: rA must not be 0 (and for loads not equal to rD). */
  readonly update?: "load" | "store";
  /** lmw: rA must not be in the loaded range. */
  readonly lmw?: boolean;
  /** lswi: rA must not be in the loaded range; lswx: rD must differ from rA and rB. */
  readonly lsw?: "i" | "x";
}

/** A macro: mnemonic rewritten to another with computed operands. */
export interface MacroDef {
  /** Mnemonic. */
  readonly name: string;
  /** Target mnemonic. */
  readonly target: string;
  /** Number of source operands. */
  readonly count: number;
  /** Computes the target's operand values. */
  readonly map: (v: number[]) => number[];
  /** Operand indexes that must be in 0..max (the first is the one GNU as checks). */
  readonly checked: readonly number[];
  /** Largest accepted value of the checked operands. */
  readonly max: number;
}

const f = (kind: FieldKind, shift: number, bits: number, extra: Partial<Field> = {}): Field => ({
  kind,
  shift,
  bits,
  ...extra,
});

const RT = f("gpr", 21, 5);
const RS = RT;
const RA = f("gpr", 16, 5);
const RA0 = f("gpr0", 16, 5);
const RB = f("gpr", 11, 5);
const SI = f("s16", 0, 16);
const SIU = f("s16u", 0, 16);
const UI = f("u16", 0, 16);
const MEM = f("mem", 0, 16);
const BF = f("crf", 23, 3);
const BFO = f("crf", 23, 3, { optional: true });
const BFA = f("crf", 18, 3);
const BT = f("crb", 21, 5);
const BA = f("crb", 16, 5);
const BB = f("crb", 11, 5);
const BO = f("u", 21, 5);
const BI = f("crb", 16, 5);
const BD = f("bd", 2, 14);
const BDA = f("bda", 2, 14);
const LI = f("li", 2, 24);
const LIA = f("lia", 2, 24);
const SH = f("u", 11, 5);
const MB = f("u", 6, 5);
const ME = f("u", 1, 5);
const SPR = f("spr", 11, 10);
const SR = f("u", 16, 4);
const CRM = f("u", 12, 8);
const TO = f("u", 21, 5);
const LOPT = f("u", 21, 1, { optional: true });
const CR = f("crbit", 18, 3, { optional: true });

const ALL = 0xffffffff | 0;
const OPM = 0xfc000000 | 0;
const XM = 0xfc0007fe | 0;

const maskOf = (fields: readonly Field[]): number => {
  let m = 0;
  for (const fl of fields) {
    if (fl.kind === "mem") m |= 0x1fffff;
    else m |= ((1 << fl.bits) - 1) << fl.shift;
    for (const d of fl.dup ?? []) m |= ((1 << fl.bits) - 1) << d;
  }
  return m;
};

const defs: InsnDef[] = [];
/** Adds an entry; the mask defaults to every bit outside the operand fields. */
function add(
  name: string,
  op: number,
  fields: Field[],
  extra: Partial<InsnDef> & { mask?: number } = {},
) {
  const mask = extra.mask ?? (~maskOf(fields) | 0);
  defs.push({ name, op: op | 0, mask: mask | 0, fields, ...extra });
}
const OP = (n: number) => (n << 26) | 0;
const X = (p: number, x: number) => (OP(p) | (x << 1)) | 0;

// D-form arithmetic and logic
add("mulli", OP(7), [RT, RA, SI]);
add("subfic", OP(8), [RT, RA, SI]);
add("cmplwi", OP(10), [BFO, RA, UI], { mask: OPM | (1 << 22) | (1 << 21) });
add("cmpli", OP(10), [BF, LOPT, RA, UI]);
add("cmpwi", OP(11), [BFO, RA, SI], { mask: OPM | (1 << 22) | (1 << 21) });
add("cmpi", OP(11), [BF, LOPT, RA, SI]);
add("addic", OP(12), [RT, RA, SI]);
add("addic.", OP(13), [RT, RA, SI]);
add("li", OP(14), [RT, SI], { mask: OPM | (0x1f << 16) });
add("addi", OP(14), [RT, RA0, SI]);
add("lis", OP(15), [RT, SIU], { mask: OPM | (0x1f << 16) });
add("addis", OP(15), [RT, RA0, SIU]);
add("la", OP(14), [RT, MEM]);
add("sc", 0x44000002, []);
add("nop", OP(24), [], { mask: ALL });
add("ori", OP(24), [RA, RS, UI]);
add("oris", OP(25), [RA, RS, UI]);
add("xori", OP(26), [RA, RS, UI]);
add("xoris", OP(27), [RA, RS, UI]);
add("andi.", OP(28), [RA, RS, UI]);
add("andis.", OP(29), [RA, RS, UI]);

// Rotates
for (const [name, p] of [["rlwimi", 20], ["rlwinm", 21]] as const) {
  add(name, OP(p), [RA, RS, SH, MB, ME]);
  add(name + ".", OP(p) | 1, [RA, RS, SH, MB, ME]);
}
add("rotlw", OP(23) | (0 << 6) | (31 << 1), [RA, RS, RB]);
add("rotlw.", OP(23) | (31 << 1) | 1, [RA, RS, RB]);
add("rlwnm", OP(23), [RA, RS, RB, MB, ME]);
add("rlwnm.", OP(23) | 1, [RA, RS, RB, MB, ME]);

// Loads and stores (D-form)
const DLS: [string, number, "load" | "store" | undefined][] = [
  ["lwz", 32, undefined],
  ["lwzu", 33, "load"],
  ["lbz", 34, undefined],
  ["lbzu", 35, "load"],
  ["stw", 36, undefined],
  ["stwu", 37, "store"],
  ["stb", 38, undefined],
  ["stbu", 39, "store"],
  ["lhz", 40, undefined],
  ["lhzu", 41, "load"],
  ["lha", 42, undefined],
  ["lhau", 43, "load"],
  ["sth", 44, undefined],
  ["sthu", 45, "store"],
];
for (const [name, p, update] of DLS) add(name, OP(p), [RT, MEM], update ? { update } : {});
add("lmw", OP(46), [RT, MEM], { lmw: true });
add("stmw", OP(47), [RS, MEM]);

// Opcode 19: CR logic, branches to LR/CTR, rfi, isync
add("mcrf", X(19, 0), [BF, BFA]);
add("rfi", X(19, 50), []);
add("isync", X(19, 150), []);
const CRLOG: [string, number][] = [
  ["crnor", 33],
  ["crandc", 129],
  ["crxor", 193],
  ["crnand", 225],
  ["crand", 257],
  ["creqv", 289],
  ["crorc", 417],
  ["cror", 449],
];
const CRB3 = f("crb", 21, 5, { dup: [16, 11] });
const CRB2 = f("crb", 16, 5, { dup: [11] });
add("crset", X(19, 289), [CRB3]);
add("crclr", X(19, 193), [CRB3]);
add("crmove", X(19, 449), [BT, CRB2]);
add("crnot", X(19, 33), [BT, CRB2]);
for (const [name, x] of CRLOG) add(name, X(19, x), [BT, BA, BB]);

// Opcode 31
const XO: [string, number, boolean, Field[]][] = [
  ["subfc", 8, true, [RT, RA, RB]],
  ["mulhwu", 11, false, [RT, RA, RB]],
  ["subf", 40, true, [RT, RA, RB]],
  ["mulhw", 75, false, [RT, RA, RB]],
  ["neg", 104, true, [RT, RA]],
  ["subfe", 136, true, [RT, RA, RB]],
  ["adde", 138, true, [RT, RA, RB]],
  ["subfze", 200, true, [RT, RA]],
  ["addze", 202, true, [RT, RA]],
  ["subfme", 232, true, [RT, RA]],
  ["addme", 234, true, [RT, RA]],
  ["mullw", 235, true, [RT, RA, RB]],
  ["add", 266, true, [RT, RA, RB]],
  ["divwu", 459, true, [RT, RA, RB]],
  ["divw", 491, true, [RT, RA, RB]],
  ["addc", 10, true, [RT, RA, RB]],
];
for (const [name, x, oe, fields] of XO) {
  const mask = ~maskOf(fields) | 0;
  add(name, X(31, x), fields, { mask });
  add(name + ".", X(31, x) | 1, fields, { mask });
  if (oe) {
    add(name + "o", X(31, x) | 0x400, fields, { mask });
    add(name + "o.", X(31, x) | 0x401, fields, { mask });
  }
}
// X-form logic/shift with Rc (operands rA, rS, rB)
const XL: [string, number, Field[]][] = [
  ["slw", 24, [RA, RS, RB]],
  ["cntlzw", 26, [RA, RS]],
  ["and", 28, [RA, RS, RB]],
  ["andc", 60, [RA, RS, RB]],
  ["not", 124, [RA, f("gpr", 21, 5, { dup: [11] })]],
  ["nor", 124, [RA, RS, RB]],
  ["eqv", 284, [RA, RS, RB]],
  ["xor", 316, [RA, RS, RB]],
  ["orc", 412, [RA, RS, RB]],
  ["mr", 444, [RA, f("gpr", 21, 5, { dup: [11] })]],
  ["or", 444, [RA, RS, RB]],
  ["nand", 476, [RA, RS, RB]],
  ["srw", 536, [RA, RS, RB]],
  ["sraw", 792, [RA, RS, RB]],
  ["srawi", 824, [RA, RS, SH]],
  ["extsh", 922, [RA, RS]],
  ["extsb", 954, [RA, RS]],
];
for (const [name, x, fields] of XL) {
  const mask = ~maskOf(fields) | 0;
  add(name, X(31, x), fields, { mask });
  add(name + ".", X(31, x) | 1, fields, { mask });
}
add("cmpw", X(31, 0), [BFO, RA, RB], { mask: XM | 1 | (3 << 21) });
add("cmp", X(31, 0), [BF, LOPT, RA, RB]);
add("cmplw", X(31, 32), [BFO, RA, RB], { mask: XM | 1 | (3 << 21) });
add("cmpl", X(31, 32), [BF, LOPT, RA, RB]);
add("trap", X(31, 4) | (31 << 21), [], { mask: ALL });
const TRAPS: [string, number][] = [
  ["lt", 16],
  ["le", 20],
  ["eq", 4],
  ["ge", 12],
  ["gt", 8],
  ["nl", 12],
  ["ne", 24],
  ["ng", 20],
  ["llt", 2],
  ["lle", 6],
  ["lge", 5],
  ["lgt", 1],
  ["lnl", 5],
  ["lng", 6],
];
for (const [c, to] of TRAPS) {
  add(`tw${c}`, X(31, 4) | (to << 21), [RA, RB]);
  add(`tw${c}i`, OP(3) | (to << 21), [RA, SI]);
}
add("tw", X(31, 4), [TO, RA, RB]);
add("twi", OP(3), [TO, RA, SI]);
add("mfcr", X(31, 19), [RT]);
add("mcrxr", X(31, 512), [BF]);
add("lswx", X(31, 533), [RT, RA0, RB], { lsw: "x" });
add("lswi", X(31, 597), [RT, RA0, f("nb", 11, 5)], { lsw: "i" });
add("stswx", X(31, 661), [RS, RA0, RB]);
add("stswi", X(31, 725), [RS, RA0, f("nb", 11, 5)]);
add("eciwx", X(31, 310), [RT, RA0, RB]);
add("ecowx", X(31, 438), [RS, RA0, RB]);
add("lwarx", X(31, 20), [RT, RA0, RB]);
add("mtcr", X(31, 144) | (0xff << 12), [RS], { mask: ~(0x1f << 21) });
add("mtcrf", X(31, 144), [CRM, RS]);
add("mfmsr", X(31, 83), [RT]);
add("mtmsr", X(31, 146), [RS]);
add("stwcx.", X(31, 150) | 1, [RS, RA0, RB]);
add("mtsr", X(31, 210), [SR, RS]);
add("mtsrin", X(31, 242), [RS, RB]);
add("mfsr", X(31, 595), [RT, SR]);
add("mfsrin", X(31, 659), [RT, RB]);
add("tlbie", X(31, 306), [RB]);
add("tlbsync", X(31, 566), []);
add("sync", X(31, 598), []);
add("eieio", X(31, 854), []);
const XMEM: [string, number, "load" | "store" | undefined][] = [
  ["lwzx", 23, undefined],
  ["lwzux", 55, "load"],
  ["lbzx", 87, undefined],
  ["lbzux", 119, "load"],
  ["stwx", 151, undefined],
  ["stwux", 183, "store"],
  ["stbx", 215, undefined],
  ["stbux", 247, "store"],
  ["lhzx", 279, undefined],
  ["lhzux", 311, "load"],
  ["lhax", 343, undefined],
  ["lhaux", 375, "load"],
  ["sthx", 407, undefined],
  ["sthux", 439, "store"],
  ["lwbrx", 534, undefined],
  ["stwbrx", 662, undefined],
  ["lhbrx", 790, undefined],
  ["sthbrx", 918, undefined],
];
for (const [name, x, update] of XMEM) {
  add(name, X(31, x), [RT, update ? RA : RA0, RB], update ? { update } : {});
}
const CACHE: [string, number][] = [
  ["dcbst", 54],
  ["dcbf", 86],
  ["dcbtst", 246],
  ["dcbt", 278],
  ["dcbi", 470],
  ["icbi", 982],
  ["dcbz", 1014],
];
for (const [name, x] of CACHE) add(name, X(31, x), [RA0, RB]);

// SPRs
const spr = (n: number) => (((n & 0x1f) << 16) | ((n >> 5) << 11)) | 0;
const SPRS: [string, number][] = [
  ["xer", 1],
  ["lr", 8],
  ["ctr", 9],
  ["dsisr", 18],
  ["dar", 19],
  ["dec", 22],
  ["sdr1", 25],
  ["srr0", 26],
  ["srr1", 27],
  ["ear", 282],
  ["pvr", 287],
];
for (const [n, num] of SPRS) {
  add(`mf${n}`, X(31, 339) | spr(num), [RT]);
  if (n !== "pvr") add(`mt${n}`, X(31, 467) | spr(num), [RS]);
}
add("mttbl", X(31, 467) | spr(284), [RS]);
add("mttbu", X(31, 467) | spr(285), [RS]);
add("mfsprg", X(31, 339) | spr(272), [RT, f("u", 16, 2)]);
add("mtsprg", X(31, 467) | spr(272), [f("u", 16, 2), RS]);
for (let n = 0; n < 4; n++) {
  add(`mfsprg${n}`, X(31, 339) | spr(272 + n), [RT]);
  add(`mtsprg${n}`, X(31, 467) | spr(272 + n), [RS]);
}
for (const [n, base] of [["ibat", 528], ["dbat", 536]] as const) {
  add(`mf${n}u`, X(31, 339) | spr(base), [RT, f("u", 17, 2)]);
  add(`mf${n}l`, X(31, 339) | spr(base + 1), [RT, f("u", 17, 2)]);
  add(`mt${n}u`, X(31, 467) | spr(base), [f("u", 17, 2), RS]);
  add(`mt${n}l`, X(31, 467) | spr(base + 1), [f("u", 17, 2), RS]);
}
add("mfspr", X(31, 339), [RT, SPR]);
add("mtspr", X(31, 467), [SPR, RS]);
add("mftb", X(31, 371) | spr(268), [RT]);
add("mftbu", X(31, 371) | spr(269), [RT]);
add("mftb", X(31, 371), [RT, SPR]);

// Branches
add("b", OP(18), [LI]);
add("ba", OP(18) | 2, [LIA]);
add("bl", OP(18) | 1, [LI]);
add("bla", OP(18) | 3, [LIA]);

/** Conditional branch mnemonics: [name, BO, BI low bits or -1 when BI is an operand]. */
const CONDS: [string, number, number][] = [
  ["lt", 12, 0],
  ["le", 4, 1],
  ["eq", 12, 2],
  ["ge", 4, 0],
  ["gt", 12, 1],
  ["nl", 4, 0],
  ["ne", 4, 2],
  ["ng", 4, 1],
  ["so", 12, 3],
  ["ns", 4, 3],
  ["un", 12, 3],
  ["nu", 4, 3],
];
const BSUFFIX: [string, number, Field | null][] = [
  ["", OP(16), BD],
  ["a", OP(16) | 2, BDA],
  ["l", OP(16) | 1, BD],
  ["la", OP(16) | 3, BDA],
  ["lr", X(19, 16), null],
  ["lrl", X(19, 16) | 1, null],
  ["ctr", X(19, 528), null],
  ["ctrl", X(19, 528) | 1, null],
];
const BOF = (bo: number) => (bo << 21) | 0;
const BRM = (target: Field | null) =>
  target ? OPM | (0x1f << 21) | 3 : XM | (0x1f << 21) | (0x1f << 11) | 1;
/**
 * Mask of the y (hint) bit of BO.
 *
 * @example
 * ```ts
 * (0x41a20008 & Y_BIT) !== 0; // true: beq+
 * ```
 */
export const Y_BIT = 1 << 21;

/**
 * True if a BO value is valid for pre-POWER4 processors (GNU as `-mppc`): the "z" bits of the
 * encodings 001zy, 011zy, 1z00y, 1z01y and 1z1zz must be zero.
 *
 * @example
 * ```ts
 * validBo(20); // true
 * validBo(31); // false
 * ```
 */
export function validBo(bo: number): boolean {
  if ((bo & 0x14) === 0) return true;
  if ((bo & 0x14) === 0x4) return (bo & 0x2) === 0;
  if ((bo & 0x14) === 0x10) return (bo & 0x8) === 0;
  return bo === 0x14;
}
// Plain bc/bclr/bcctr forms come after the extended ones so the disassembler prefers those.
const branchDefs: InsnDef[] = [];
function addBranch(
  name: string,
  op: number,
  fields: Field[],
  mask: number,
  hint?: "+" | "-",
) {
  branchDefs.push({ name, op: op | 0, mask: mask | 0, fields, ...(hint ? { hint } : {}) });
}
for (const [sfx, base, target] of BSUFFIX) {
  const tf = target ? [target] : [];
  const biMask = 0x3 << 16;
  for (const [c, bo, bi] of CONDS) {
    for (const hint of ["", "+", "-"] as const) {
      let boV = bo;
      if (!target && hint === "+") boV |= 1;
      addBranch(
        `b${c}${sfx}${hint}`,
        base | BOF(boV) | (bi << 16),
        [CR, ...tf],
        (BRM(target) | biMask) & (target && hint ? ~Y_BIT : ~0),
        hint || undefined,
      );
    }
  }
  for (const [c, bo] of [["dnz", 16], ["dz", 18]] as const) {
    if (sfx.startsWith("ctr")) continue;
    for (const hint of ["", "+", "-"] as const) {
      let boV = bo;
      if (!target && hint === "+") boV |= 1;
      addBranch(
        `b${c}${sfx}${hint}`,
        base | BOF(boV),
        tf,
        (BRM(target) | (0x1f << 16)) & (target && hint ? ~Y_BIT : ~0),
        hint || undefined,
      );
    }
  }
  for (const [c, bo] of [["dnzt", 8], ["dnzf", 0], ["dzt", 10], ["dzf", 2]] as const) {
    if (sfx.startsWith("ctr")) continue;
    for (const hint of ["", "+", "-"] as const) {
      let boV = bo;
      if (!target && hint === "+") boV |= 1;
      addBranch(
        `b${c}${sfx}${hint}`,
        base | BOF(boV),
        [BI, ...tf],
        BRM(target) & (target && hint ? ~Y_BIT : ~0),
        hint || undefined,
      );
    }
  }
  for (const [c, bo] of [["t", 12], ["f", 4]] as const) {
    for (const hint of ["", "+", "-"] as const) {
      let boV = bo;
      if (!target && hint === "+") boV |= 1;
      addBranch(
        `b${c}${sfx}${hint}`,
        base | BOF(boV),
        [BI, ...tf],
        BRM(target) & (target && hint ? ~Y_BIT : ~0),
        hint || undefined,
      );
    }
  }
}
addBranch("blr", X(19, 16) | BOF(20), [], ALL);
addBranch("blrl", X(19, 16) | BOF(20) | 1, [], ALL);
addBranch("bctr", X(19, 528) | BOF(20), [], ALL);
addBranch("bctrl", X(19, 528) | BOF(20) | 1, [], ALL);
addBranch("bc", OP(16), [BO, BI, BD], OPM | 3);
addBranch("bca", OP(16) | 2, [BO, BI, BDA], OPM | 3);
addBranch("bcl", OP(16) | 1, [BO, BI, BD], OPM | 3);
addBranch("bcla", OP(16) | 3, [BO, BI, BDA], OPM | 3);
for (const [n, x] of [["bclr", 16], ["bcctr", 528]] as const) {
  addBranch(n, X(19, x), [BO, BI], XM | (0x1f << 11) | 1);
  addBranch(n + "l", X(19, x) | 1, [BO, BI], XM | (0x1f << 11) | 1);
}

/**
 * Every instruction pattern, extended mnemonics before the general forms (the disassembler takes
 * the first match).
 *
 * @example
 * ```ts
 * INSNS.find((d) => (0x38600001 & d.mask) === d.op)?.name; // "li"
 * ```
 */
export const INSNS: readonly InsnDef[] = [...defs, ...branchDefs];

/**
 * Patterns by mnemonic (several when operand counts differ, e.g. `mftb rD` / `mftb rD,tbr`).
 *
 * @example
 * ```ts
 * BY_NAME.get("mftb")?.length; // 2
 * ```
 */
export const BY_NAME: ReadonlyMap<string, readonly InsnDef[]> = (() => {
  const m = new Map<string, InsnDef[]>();
  for (const d of INSNS) {
    const list = m.get(d.name) ?? [];
    list.push(d);
    m.set(d.name, list);
  }
  return m;
})();

const macros: MacroDef[] = [];
function macro(
  name: string,
  target: string,
  count: number,
  map: (v: number[]) => number[],
  checked: number[] = [],
  max = 32,
) {
  const d = { count, map, checked, max };
  macros.push({ name, target, ...d });
  macros.push({ name: name + ".", target: target + ".", ...d });
}
// GNU as keeps the computed fields modulo 32; only some inputs are range-checked.
const m32 = (v: number[]) => v.map((x, i) => (i < 2 ? x : x & 31));
macro("extlwi", "rlwinm", 4, ([a, s, n, b]) => m32([a, s, b, 0, n - 1]), [2, 3]);
macro("extrwi", "rlwinm", 4, ([a, s, n, b]) => m32([a, s, b + n, 32 - n, 31]), [2, 3], 31);
macro("inslwi", "rlwimi", 4, ([a, s, n, b]) => m32([a, s, 32 - b, b, b + n - 1]), [2, 3]);
macro("insrwi", "rlwimi", 4, ([a, s, n, b]) => m32([a, s, 32 - (b + n), b, b + n - 1]), [2, 3]);
macro("rotlwi", "rlwinm", 3, ([a, s, n]) => m32([a, s, n, 0, 31]), [2], 31);
macro("rotrwi", "rlwinm", 3, ([a, s, n]) => m32([a, s, 32 - n, 0, 31]), [2], 31);
macro("slwi", "rlwinm", 3, ([a, s, n]) => m32([a, s, n, 0, 31 - n]), [2], 31);
macro("srwi", "rlwinm", 3, ([a, s, n]) => m32([a, s, 32 - n, n, 31]), [2], 31);
macro("clrlwi", "rlwinm", 3, ([a, s, n]) => m32([a, s, 0, n, 31]), [2], 31);
macro("clrrwi", "rlwinm", 3, ([a, s, n]) => m32([a, s, 0, 0, 31 - n]), [2], 31);
macro("clrlslwi", "rlwinm", 4, ([a, s, b, n]) => m32([a, s, n, b - n, 31 - n]), [2, 3], 31);
macro("sub", "subf", 3, ([d, a, b]) => [d, b, a]);
macro("subo", "subfo", 3, ([d, a, b]) => [d, b, a]);
macro("subc", "subfc", 3, ([d, a, b]) => [d, b, a]);
macro("subco", "subfco", 3, ([d, a, b]) => [d, b, a]);

/**
 * Macros by mnemonic.
 *
 * @example
 * ```ts
 * MACROS.get("slwi")?.map([3, 4, 2]); // [3, 4, 2, 0, 29]
 * ```
 */
export const MACROS: ReadonlyMap<string, MacroDef> = new Map(macros.map((m) => [m.name, m]));

/**
 * Instructions with an immediate that GNU as negates (`subi rD,rA,v` = `addi rD,rA,-v`).
 * Negation happens on the expression value before range checks.
 *
 * @example
 * ```ts
 * NEGATED.get("subi"); // "addi"
 * ```
 */
export const NEGATED: ReadonlyMap<string, string> = new Map([
  ["subi", "addi"],
  ["subis", "addis"],
  ["subic", "addic"],
  ["subic.", "addic."],
]);

/**
 * Other same-operand aliases.
 *
 * @example
 * ```ts
 * ALIASES.get("mftbl"); // "mftb"
 * ```
 */
export const ALIASES: ReadonlyMap<string, string> = new Map([
  ["mftbl", "mftb"],
]);

/**
 * Extracts a field value (unsigned) from a word.
 *
 * @example
 * ```ts
 * getField(0x38640008, { kind: "gpr", shift: 16, bits: 5 }); // 4
 * ```
 */
export function getField(word: number, fl: Field): number {
  return (word >>> fl.shift) & ((1 << fl.bits) - 1);
}

/**
 * The SPR number of an `mfspr`/`mtspr` word.
 *
 * @example
 * ```ts
 * sprOf(0x7d1a03a6); // 26 (SRR0)
 * ```
 */
export function sprOf(word: number): number {
  return ((word >>> 16) & 0x1f) | (((word >>> 11) & 0x1f) << 5);
}

/**
 * Encodes an SPR number into the swapped SPR field bits.
 *
 * @example
 * ```ts
 * (0x7c0003a6 | sprBits(26) | (8 << 21)) >>> 0; // 0x7d1a03a6 (mtsrr0 r8)
 * ```
 */
export function sprBits(n: number): number {
  return spr(n);
}

/**
 * True if a `lswi`/`lswx` word breaks the operand rules GNU as enforces (lswi: rA in the range of
 * loaded registers, wrapping after r31; lswx: rD equal to rA or rB).
 *
 * @example
 * ```ts
 * badStringLoad("i", 0x7d2904aa); // true: lswi r9,r9,0 loads r9..r16
 * ```
 */
export function badStringLoad(kind: "i" | "x", word: number): boolean {
  const rt = (word >>> 21) & 31, ra = (word >>> 16) & 31, rb = (word >>> 11) & 31;
  if (kind === "x") return ra === rt || rb === rt;
  const regs = ((rb === 0 ? 32 : rb) + 3) >> 2;
  return ((ra - rt) & 31) < regs;
}
