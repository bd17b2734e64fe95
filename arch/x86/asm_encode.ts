/**
 * Instruction encoder for the x86 assembler: evaluated operands in, bytes out, choosing the same
 * encodings as nasm 2.16 at its default optimisation level (`-Ox`).
 *
 * @module
 */

import { LineError, type Reg } from "./asm_parse.ts";

/** An evaluated operand. */
export type Op =
  | { k: "reg"; reg: Reg; col: number; size?: number }
  | {
    k: "mem";
    col: number;
    size?: number;
    seg?: Reg;
    base?: Reg;
    index?: Reg;
    scale: number;
    disp: bigint;
    /** The displacement involves labels (nasm keeps the full-size form for those). */
    reloc: boolean;
    /** False while a forward reference is unresolved (nasm then assumes a full displacement). */
    known?: boolean;
    rel: boolean;
    dispSize?: number;
    far?: boolean;
  }
  | {
    k: "imm";
    col: number;
    v: bigint;
    known: boolean;
    /** The value involves labels (nasm keeps the full-size form for those). */
    reloc?: boolean;
    size?: number;
    strict?: boolean;
    short?: boolean;
    near?: boolean;
    far?: boolean;
  }
  | {
    k: "far";
    col: number;
    seg: bigint;
    off: bigint;
    size?: number;
    offReloc?: boolean;
    /** Written with the `far` keyword (nasm rejects that for segment:offset). */
    far?: boolean;
  };

/** Encoder context for one instruction. */
export interface EncCtx {
  /** Processor mode. */
  bits: 16 | 32 | 64;
  /** Address of the first byte of the instruction. */
  addr: bigint;
  /** `default rel` in effect. */
  defaultRel: boolean;
  /** Prefix bytes from `lock`/`rep*` (in source order). */
  prefixes: number[];
  /** Segment override written as a prefix word (`fs lodsb`). */
  segPrefix?: Reg;
  /** Explicit `o16/o32/o64` prefix (operand size in bits). */
  oprefix?: number;
  /** Explicit `a16/a32/a64` prefix (address size in bits). */
  aprefix?: number;
  /** Per-statement memory across passes: once a jump is long it stays long. */
  sticky: { long?: boolean };
  /**
   * Jump sizing: `free` recomputes every jump from the current label estimates each pass (nasm's
   * plain iteration); `grow` (late passes) makes out-of-range jumps long for good so that the
   * passes are guaranteed to converge.
   */
  jumps?: "free" | "grow";
  /** Whether all values are final (last pass): range errors are raised only then. */
  final: boolean;
  /** nasm `cpu` level in effect (see {@linkcode CPU_LEVELS}; default: any). */
  cpu?: number;
  /** Set by the encoder when nasm's table needs a higher cpu than the bytes show. */
  needCpu?: number;
}

interface Parts {
  op: number[];
  /** Operand size in bits (16/32/64) that drives 66/REX.W; undefined for none. */
  osz?: number;
  /** Default operand size is 64 in long mode (push, pop, near branches). */
  d64?: boolean;
  reg?: number;
  rm?: Op;
  /** Register encoded in the low three opcode bits. */
  plusr?: Reg;
  /** Other registers used (for REX requirements of 8-bit registers). */
  regs?: Reg[];
  imms?: [bigint, number][];
  /** Relative branch target and displacement size. */
  rel?: [bigint, number];
  /** Explicit address size for instructions without a memory operand (string ops, jcxz). */
  asize?: number;
  /** Extra REX.W without operand-size semantics. */
  rexW?: boolean;
  /** Segment override prefix for string instructions. */
  seg?: Reg;
}

const fail = (msg: string, col = 0): never => {
  throw new LineError(msg, col);
};

const ALU = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];
const SHIFTS: Record<string, number> = {
  rol: 0,
  ror: 1,
  rcl: 2,
  rcr: 3,
  shl: 4,
  sal: 4,
  shr: 5,
  sar: 7,
};
const CC: Record<string, number> = {
  o: 0,
  no: 1,
  b: 2,
  c: 2,
  nae: 2,
  ae: 3,
  nb: 3,
  nc: 3,
  e: 4,
  z: 4,
  ne: 5,
  nz: 5,
  be: 6,
  na: 6,
  a: 7,
  nbe: 7,
  s: 8,
  ns: 9,
  p: 10,
  pe: 10,
  np: 11,
  po: 11,
  l: 12,
  nge: 12,
  ge: 13,
  nl: 13,
  le: 14,
  ng: 14,
  g: 15,
  nle: 15,
};

/** Instructions without operands: bytes, operand size (for 66/REX.W), valid modes. */
const NOOPS: Record<
  string,
  { op: number[]; osz?: number; no64?: boolean; only64?: boolean; anyCpu?: boolean }
> = {
  cld: { op: [0xfc] },
  std: { op: [0xfd] },
  cli: { op: [0xfa] },
  sti: { op: [0xfb] },
  clc: { op: [0xf8] },
  stc: { op: [0xf9] },
  cmc: { op: [0xf5] },
  hlt: { op: [0xf4] },
  nop: { op: [0x90] },
  pause: { op: [0xf3, 0x90] },
  int3: { op: [0xcc] },
  int1: { op: [0xf1] },
  icebp: { op: [0xf1] },
  into: { op: [0xce], no64: true },
  ud2: { op: [0x0f, 0x0b] },
  cpuid: { op: [0x0f, 0xa2] },
  rdmsr: { op: [0x0f, 0x32] },
  wrmsr: { op: [0x0f, 0x30] },
  rdtsc: { op: [0x0f, 0x31] },
  rdpmc: { op: [0x0f, 0x33] },
  wbinvd: { op: [0x0f, 0x09] },
  invd: { op: [0x0f, 0x08] },
  clts: { op: [0x0f, 0x06] },
  leave: { op: [0xc9] },
  lahf: { op: [0x9f] },
  sahf: { op: [0x9e] },
  xlatb: { op: [0xd7] },
  xlat: { op: [0xd7] },
  cbw: { op: [0x98], osz: 16 },
  cwde: { op: [0x98], osz: 32 },
  cdqe: { op: [0x98], osz: 64 },
  cwd: { op: [0x99], osz: 16 },
  cdq: { op: [0x99], osz: 32 },
  cqo: { op: [0x99], osz: 64 },
  pusha: { op: [0x60], no64: true },
  popa: { op: [0x61], no64: true },
  pushaw: { op: [0x60], osz: 16, no64: true },
  popaw: { op: [0x61], osz: 16, no64: true },
  pushad: { op: [0x60], osz: 32, no64: true },
  popad: { op: [0x61], osz: 32, no64: true },
  pushfw: { op: [0x9c], osz: 16 },
  popfw: { op: [0x9d], osz: 16 },
  iretw: { op: [0xcf], osz: 16 },
  iretd: { op: [0xcf], osz: 32 },
  iretq: { op: [0xcf], osz: 64 },
  retfw: { op: [0xcb], osz: 16 },
  retfd: { op: [0xcb], osz: 32, anyCpu: true },
  retfq: { op: [0xcb], osz: 64 },
  syscall: { op: [0x0f, 0x05] },
  sysret: { op: [0x0f, 0x07] },
  sysenter: { op: [0x0f, 0x34] },
  sysexit: { op: [0x0f, 0x35] },
  mfence: { op: [0x0f, 0xae, 0xf0] },
  lfence: { op: [0x0f, 0xae, 0xe8] },
  sfence: { op: [0x0f, 0xae, 0xf8] },
  swapgs: { op: [0x0f, 0x01, 0xf8], only64: true },
  rsm: { op: [0x0f, 0xaa] },
  wait: { op: [0x9b] },
  fwait: { op: [0x9b] },
  salc: { op: [0xd6], no64: true },
  aaa: { op: [0x37], no64: true },
  aas: { op: [0x3f], no64: true },
  daa: { op: [0x27], no64: true },
  das: { op: [0x2f], no64: true },
};

const STRING_OPS: Record<string, number> = {
  movs: 0xa4,
  cmps: 0xa6,
  stos: 0xaa,
  lods: 0xac,
  scas: 0xae,
  ins: 0x6c,
  outs: 0x6e,
};
const STR_SUFFIX: Record<string, number> = { b: 8, w: 16, d: 32, q: 64 };

/**
 * Every mnemonic the encoder knows.
 *
 * @example
 * ```ts
 * MNEMONICS.has("cmovnz"); // true
 * ```
 */
export const MNEMONICS: ReadonlySet<string> = new Set([
  ...ALU,
  ...Object.keys(SHIFTS),
  ...Object.keys(NOOPS),
  ...Object.keys(CC).flatMap((c) => ["j" + c, "set" + c, "cmov" + c]),
  ...Object.keys(STRING_OPS).flatMap((s) => ["b", "w", "d", "q"].map((x) => s + x)),
  "test",
  "mov",
  "movzx",
  "movsx",
  "movsxd",
  "lea",
  "inc",
  "dec",
  "neg",
  "not",
  "mul",
  "imul",
  "div",
  "idiv",
  "shld",
  "shrd",
  "bt",
  "bts",
  "btr",
  "btc",
  "bsf",
  "bsr",
  "bswap",
  "xchg",
  "xadd",
  "cmpxchg",
  "cmpxchg8b",
  "cmpxchg16b",
  "push",
  "pop",
  "pushf",
  "popf",
  "pushfd",
  "popfd",
  "pushfq",
  "popfq",
  "jmp",
  "call",
  "ret",
  "retn",
  "retf",
  "iret",
  "int",
  "enter",
  "in",
  "out",
  "lgdt",
  "lidt",
  "sgdt",
  "sidt",
  "lldt",
  "sldt",
  "ltr",
  "str",
  "lmsw",
  "smsw",
  "invlpg",
  "clflush",
  "loop",
  "loope",
  "loopz",
  "loopne",
  "loopnz",
  "jcxz",
  "jecxz",
  "jrcxz",
]);

function sizeOf(o: Op): number | undefined {
  if (o.k === "reg") return o.reg.cls === "gpr" || o.reg.cls === "seg" ? o.reg.size : undefined;
  if (o.k === "mem" || o.k === "imm" || o.k === "far") return o.size;
  return undefined;
}

const isGpr = (o: Op): o is Op & { k: "reg" } => o.k === "reg" && o.reg.cls === "gpr";
const isRm = (o: Op) => isGpr(o) || o.k === "mem";
const isImm = (o: Op): o is Op & { k: "imm" } => o.k === "imm";

function fitsS8(v: bigint, size: number): boolean {
  const s = BigInt.asIntN(size, v);
  return s >= -128n && s <= 127n;
}

/** Checks that a value fits in `bytes` bytes (signed or unsigned); raises only in the last pass. */
/**
 * Range check of an immediate. Callers pass 0 for relocatable values (labels): nasm truncates
 * those silently in flat binaries (e.g. 16-bit offsets of labels above 64 KiB).
 */
function checkImm(ctx: EncCtx, v: bigint, bytes: number, col: number, signedOnly = false) {
  if (!ctx.final || bytes === 8) return;
  const bits = BigInt(bytes * 8);
  // nasm accepts -2^n .. 2^n-1 for an n-bit field (sign-extended imm32 in 64-bit: signed only)
  const min = signedOnly ? -(1n << (bits - 1n)) : -(1n << bits);
  const max = signedOnly ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  const v64 = BigInt.asIntN(64, v);
  if (v64 < min || v64 > max) fail(`Value does not fit in ${bytes * 8} bits: ${v64}`, col);
}

/** Determines the operand size of a (dest, src) pair from registers and size keywords. */
function pairSize(a: Op, b: Op | undefined, mnem: string): number {
  const sa = sizeOf(a);
  const sb = b ? sizeOf(b) : undefined;
  if (b && isGpr(b) && a.k !== "imm" && sa !== undefined && sa !== b.reg.size) {
    fail(`Operand size mismatch: ${mnem} ${sa}-bit and ${b.reg.size}-bit operands`, b.col);
  }
  if (isGpr(a)) return a.reg.size;
  if (b && isGpr(b)) return b.reg.size;
  if (sa !== undefined) return sa;
  if (b && b.k === "imm" && sb !== undefined) return sb;
  return fail(`Operation size not specified: ${mnem}`, a.col);
}

function immSizeMatch(m: string, sz: number, s: Op & { k: "imm" }) {
  if (s.size !== undefined && s.size !== sz && !(sz === 64 && s.size === 32)) {
    fail(`Operand size mismatch: ${m} ${sz}-bit destination and ${s.size}-bit immediate`, s.col);
  }
}

function checkOsz(size: number, allowed: number[], mnem: string, col: number) {
  if (!allowed.includes(size)) fail(`Invalid operand size for ${mnem}: ${size} bits`, col);
}

// ---------------------------------------------------------------------------------------------
// Byte emission

function encodeMem(
  m: Op & { k: "mem" },
  reg: number,
  ctx: EncCtx,
  out: { rex: number; asize: number; bytes: number[]; ripAt: number; ripTarget: bigint },
) {
  const bits = ctx.bits;
  const base = m.base, index = m.index;
  let asize = 0;
  for (const r of [base, index]) {
    if (!r) continue;
    if (r.size === 8) fail(`Invalid effective address: ${r.name}`, m.col);
    if (asize && asize !== r.size) fail("Invalid effective address: mixed register sizes", m.col);
    asize = r.size;
  }
  if (m.rel && (base || index)) {
    fail("Invalid effective address: RIP-relative with registers", m.col);
  }
  if (!asize) {
    asize = m.dispSize && m.dispSize !== 8 && !m.rel
      ? (bits === 64 && m.dispSize === 32 ? 64 : m.dispSize)
      : bits;
  }
  if (!base && !index && bits === 64 && m.dispSize === 32) asize = 64;
  if (bits === 64 && asize === 16) {
    fail("Invalid effective address: 16-bit addressing in 64-bit mode", m.col);
  }
  if (bits !== 64 && asize === 64) {
    fail("Invalid effective address: 64-bit registers outside 64-bit mode", m.col);
  }
  out.asize = asize;
  const r3 = (reg & 7) << 3;
  if (reg & 8) out.rex |= 4;
  const b = out.bytes;
  if (asize === 16) {
    const disp = BigInt.asIntN(16, m.disp);
    const names = [base?.name, index?.name].filter(Boolean).sort().join("+");
    const RM: Record<string, number> = {
      "bx+si": 0,
      "bx+di": 1,
      "bp+si": 2,
      "bp+di": 3,
      si: 4,
      di: 5,
      bp: 6,
      bx: 7,
    };
    if (m.scale !== 1 && index) fail("Invalid 16-bit effective address: scaled index", m.col);
    if (!base && !index) {
      b.push(0x06 | r3, Number(disp & 0xffn), Number((disp >> 8n) & 0xffn));
      return;
    }
    const rm = RM[names];
    if (rm === undefined) fail(`Invalid 16-bit effective address: ${names}`, m.col);
    const full = m.reloc || m.known === false;
    if (m.dispSize === 16 || (!m.dispSize && (full || disp < -128n || disp > 127n))) {
      b.push(0x80 | r3 | rm, Number(disp & 0xffn), Number((disp >> 8n) & 0xffn));
    } else if (disp !== 0n || rm === 6 || m.dispSize === 8) {
      b.push(0x40 | r3 | rm, Number(disp & 0xffn));
    } else b.push(r3 | rm);
    return;
  }
  // 32/64-bit addressing
  const disp32 = BigInt.asIntN(32, m.disp);
  const pushD32 = (d: bigint) => {
    const u = Number(BigInt.asUintN(32, d));
    b.push(u & 0xff, (u >>> 8) & 0xff, (u >>> 16) & 0xff, (u >>> 24) & 0xff);
  };
  if (m.dispSize === 64) {
    fail("Invalid effective address: a 64-bit address needs MOV with AL/AX/EAX/RAX", m.col);
  }
  if (ctx.final && asize === 64 && !m.rel) {
    const d = BigInt.asIntN(64, m.disp);
    if (d < -(1n << 31n) || d >= 1n << 31n) {
      const hint = !base && !index
        ? " (use a register base, or [qword ...] with mov al/ax/eax/rax)"
        : "";
      fail(
        `Displacement does not fit in 32 bits: 0x${BigInt.asUintN(64, d).toString(16)}${hint}`,
        m.col,
      );
    }
  }
  if (!base && !index) {
    // nasm's first pass encodes [rel fwd] with an unknown target as an absolute address
    if (m.rel && m.known !== false) {
      b.push(0x05 | r3);
      out.ripAt = b.length;
      out.ripTarget = m.disp;
      pushD32(0n);
    } else if (bits === 64) {
      b.push(0x04 | r3, 0x25);
      pushD32(disp32);
    } else {
      b.push(0x05 | r3);
      pushD32(disp32);
    }
    return;
  }
  if (index && (index.num & 15) === 4 && index.size !== 16) {
    fail(`Invalid effective address: ${index.name} cannot be an index`, m.col);
  }
  const ss = [1, 2, 4, 8].indexOf(m.scale);
  if (ss < 0) fail(`Invalid effective address: scale ${m.scale}`, m.col);
  let mod: number;
  if (!base) mod = 0;
  else if (m.dispSize === 32) mod = 2;
  else if (m.dispSize === 8) mod = 1;
  else if (m.reloc || m.known === false) mod = 2;
  else if (disp32 === 0n && (base.num & 7) !== 5) mod = 0;
  else if (disp32 >= -128n && disp32 <= 127n) mod = 1;
  else mod = 2;
  if (base && base.num & 8) out.rex |= 1;
  if (index && index.num & 8) out.rex |= 2;
  if (index || (base!.num & 7) === 4) {
    b.push((mod << 6) | r3 | 4);
    b.push((ss << 6) | ((index ? index.num & 7 : 4) << 3) | (base ? base.num & 7 : 5));
  } else {
    b.push((mod << 6) | r3 | (base!.num & 7));
  }
  if (!base || mod === 2) pushD32(disp32);
  else if (mod === 1) b.push(Number(BigInt.asUintN(8, disp32)));
}

function emit(p: Parts, ctx: EncCtx): number[] {
  const bits = ctx.bits;
  const pre: number[] = [...ctx.prefixes];
  let rex = 0;
  let needRex = false;
  const body: number[] = [];
  const memOut = { rex: 0, asize: 0, bytes: body, ripAt: -1, ripTarget: 0n };
  const regs: Reg[] = [...(p.regs ?? [])];
  let seg: Reg | undefined = p.seg;
  if (p.rm) {
    if (p.rm.k === "reg") {
      const r = p.rm.reg;
      regs.push(r);
      if (r.num & 8) rex |= 1;
      if ((p.reg ?? 0) & 8) rex |= 4;
      body.push(0xc0 | (((p.reg ?? 0) & 7) << 3) | (r.num & 7));
    } else if (p.rm.k === "mem") {
      encodeMem(p.rm, p.reg ?? 0, ctx, memOut);
      rex |= memOut.rex;
      if (p.rm.seg) seg = p.rm.seg;
    }
  }
  if (p.plusr) {
    regs.push(p.plusr);
    if (p.plusr.num & 8) rex |= 1;
  }
  for (const r of regs) {
    if (r.rex8) needRex = true;
  }
  // operand size
  let osz = p.osz;
  if (ctx.oprefix) osz = ctx.oprefix;
  if (osz === 64) {
    if (bits !== 64) fail("Instruction not valid outside 64-bit mode: 64-bit operand size");
    if (!p.d64) rex |= 8;
  } else if (osz === 16) {
    if (bits !== 16) pre.push(0x66);
  } else if (osz === 32) {
    if (bits === 16) pre.push(0x66);
    else if (bits === 64 && p.d64) {
      fail("Instruction not valid in 64-bit mode: 32-bit operand size");
    }
  }
  if (p.rexW) rex |= 8;
  // address size
  let asize = memOut.asize || p.asize || 0;
  if (ctx.aprefix) asize = ctx.aprefix;
  if (asize) {
    const def = bits;
    if (asize !== def) {
      if (bits === 64 && asize === 16) fail("Invalid address size in 64-bit mode: 16");
      if (bits !== 64 && asize === 64) fail("Invalid address size outside 64-bit mode: 64");
      pre.push(0x67);
    }
  }
  if (ctx.segPrefix) {
    if (seg) fail("Conflicting segment overrides"); // nasm: even when both name the same one
    seg = ctx.segPrefix;
  }
  if (seg) {
    const SEG = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
    pre.splice(ctx.prefixes.length, 0, SEG[seg.num]);
  }
  if (rex || needRex) {
    if (bits !== 64) fail("Instruction not valid outside 64-bit mode: needs a REX prefix");
    for (const r of regs) {
      if (r.high8) fail(`Cannot use ${r.name} in an instruction that needs a REX prefix`);
    }
    pre.push(0x40 | rex);
  }
  const op = [...p.op];
  if (p.plusr) op[op.length - 1] += p.plusr.num & 7;
  const out = [...pre, ...op, ...body];
  const mmStart = pre.length + op.length;
  for (const [v, n] of p.imms ?? []) {
    for (let i = 0; i < n; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  }
  if (p.rel) {
    const [target, n] = p.rel;
    const end = ctx.addr + BigInt(out.length + n);
    // the instruction pointer wraps at its width: 16 (IP), 32 (EIP) or 64 (RIP) bits
    const width = bits === 64 ? 64 : n === 4 ? 32 : bits === 16 ? 16 : 32;
    const d = BigInt.asIntN(width, target - end);
    const lim = 1n << BigInt(8 * n - 1);
    // rel16 wraps around the 64 KiB segment like the IP does; only rel8 has a hard range
    if (ctx.final && (d < -lim || d >= lim) && n === 1) fail(`Short jump out of range: ${d}`);
    for (let i = 0; i < n; i++) out.push(Number((d >> BigInt(8 * i)) & 0xffn));
  }
  if (memOut.ripAt >= 0) {
    const end = ctx.addr + BigInt(out.length);
    const d = BigInt.asIntN(64, memOut.ripTarget - end);
    if (ctx.final && (d < -(1n << 31n) || d >= 1n << 31n)) {
      fail(`RIP-relative displacement out of range: ${d}`);
    }
    const at = mmStart + memOut.ripAt;
    for (let i = 0; i < 4; i++) out[at + i] = Number((d >> BigInt(8 * i)) & 0xffn);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Instruction forms

function immBytes(size: number): number {
  return size === 8 ? 1 : size === 16 ? 2 : 4;
}

function needOps(ops: Op[], n: number | number[], mnem: string) {
  const ns = typeof n === "number" ? [n] : n;
  if (!ns.includes(ops.length)) {
    fail(
      `Invalid combination of operands: ${mnem} takes ${ns.join(" or ")} operand${
        ns.length === 1 && ns[0] === 1 ? "" : "s"
      }, got ${ops.length}`,
      ops[0]?.col ?? 0,
    );
  }
}

function badCombo(mnem: string, col = 0): never {
  return fail(`Invalid combination of operands: ${mnem}`, col);
}

function relBranch(
  ctx: EncCtx,
  t: Op & { k: "imm" },
  short: number[],
  near: number[] | null,
  osz: number,
): number[] {
  const bits = ctx.bits;
  const o16 = bits !== 64 && (osz === 16 || (osz !== 32 && bits === 16));
  const nearBytes = o16 ? 2 : 4;
  const nearOsz = bits === 64 || osz === bits || osz === 8 ? undefined : osz;
  if (!near) return emit({ op: short, rel: [t.v, 1] }, ctx);
  if (bits === 64 && t.size !== undefined && t.size !== 64) badCombo("jump", t.col);
  const forced = t.near || (t.strict && !t.short);
  if (!t.short && !forced && !ctx.sticky.long) {
    if (!t.known) return emit({ op: short, rel: [t.v, 1] }, ctx); // optimistic, as nasm
    const pre = ctx.prefixes.length + (ctx.segPrefix ? 1 : 0);
    const end = ctx.addr + BigInt(pre + short.length + 1);
    const d = BigInt.asIntN(bits === 64 ? 64 : bits === 32 ? 32 : 16, t.v - end);
    if (d >= -128n && d <= 127n) return emit({ op: short, rel: [t.v, 1] }, ctx);
    if (ctx.jumps === "grow") ctx.sticky.long = true;
  }
  if (t.short) return emit({ op: short, rel: [t.v, 1] }, ctx);
  if (near[0] === 0x0f && (ctx.cpu ?? CPU_ANY) < CPU_386 && o16 && !forced) {
    // like nasm below the 386 (no Jcc rel16): the opposite condition skips a near JMP
    return emit({ op: [short[0] ^ 1, 3, 0xe9], rel: [t.v, 2] }, ctx);
  }
  return emit({ op: near, rel: [t.v, nearBytes], osz: nearOsz, d64: true }, ctx);
}

/** nasm's `cpu` levels, in order. */
export const CPU_LEVELS: Readonly<Record<string, number>> = {
  "8086": 0,
  "186": 1,
  "286": 2,
  "386": 3,
  "486": 4,
  "586": 5,
  pentium: 5,
  "686": 6,
  ppro: 6,
  p2: 6,
  p3: 7,
  katmai: 7,
  p4: 8,
  willamette: 8,
  prescott: 8,
  x64: 9,
  "x86-64": 9,
  ia64: 10,
  any: 10,
  all: 10,
  default: 10,
};
const CPU_386 = 3;
const CPU_ANY = 10;
const CPU_NAMES = ["8086", "186", "286", "386", "486", "586", "686", "p3", "p4", "x64"];

/**
 * The lowest nasm `cpu` level that accepts an encoded instruction (as nasm 2.16's instruction
 * table says; e.g. CMPXCHG is "586" there although the 486 has it).
 *
 * @example
 * ```ts
 * requiredCpu([0x0f, 0xa2], 32); // 5 (cpu 586: CPUID)
 * ```
 */
export function requiredCpu(
  bytes: readonly number[],
  bits: 16 | 32 | 64,
  options: { ignoreOperandSize?: boolean } = {},
): number {
  if (bits === 64) return 9;
  let level = bits === 32 ? 3 : 0;
  let i = 0;
  let lock = false;
  for (; i < bytes.length; i++) {
    const b = bytes[i];
    // nasm checks the operand size (386 for 32-bit operands) but not the address size
    if (b === 0x66) level = Math.max(level, options.ignoreOperandSize ? 0 : 3);
    else if (b === 0xf0) lock = true;
    else if (![0x67, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65].includes(b)) break;
  }
  const op = bytes[i];
  const at = (n: number) => Math.max(level, n);
  if (op !== 0x0f) {
    if (
      [0x60, 0x61, 0x62, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0xc0, 0xc1, 0xc8, 0xc9]
        .includes(op)
    ) {
      return at(1);
    }
    if (op === 0xf1) return at(3); // INT1/ICEBP
    return level;
  }
  const op2 = bytes[i + 1];
  const modrm = bytes[i + 2] ?? 0;
  if (op2 >= 0x20 && op2 <= 0x23) return at(lock ? 9 : 3); // LOCK MOV CR0 = CR8 (AMD)
  if (op2 >= 0x40 && op2 <= 0x4f) return at(6);
  if (
    (op2 >= 0x80 && op2 <= 0x9f) ||
    (op2 >= 0xa0 && op2 <= 0xaf && op2 !== 0xa2 && op2 !== 0xaa && op2 !== 0xae)
  ) {
    return at(3);
  }
  if (op2 >= 0xb0 && op2 <= 0xbf) return at(op2 <= 0xb1 ? 5 : 3);
  if (op2 >= 0xc8 && op2 <= 0xcf) return at(4);
  switch (op2) {
    case 0x00:
      return at(2);
    case 0x01:
      return at(modrm === 0xf8 ? 9 : ((modrm >> 3) & 7) === 7 ? 4 : 2);
    case 0x06:
      return at(2);
    case 0x08:
    case 0x09:
    case 0xc0:
    case 0xc1:
      return at(4);
    case 0x0b:
      return at(1);
    case 0x30:
    case 0x31:
    case 0x32:
    case 0xa2:
    case 0xaa:
    case 0xc7:
      return at(5);
    case 0x05:
    case 0x07:
    case 0x33:
    case 0x34:
    case 0x35:
      return at(6);
    case 0xae:
      return at(modrm === 0xf8 ? 7 : 8);
  }
  return level;
}

/** Name of a cpu level for messages. */
export function cpuName(level: number): string {
  return CPU_NAMES[level] ?? "any";
}

/**
 * Encodes one instruction.
 *
 * @example
 * ```ts
 * const ctx = { bits: 32, addr: 0n, defaultRel: false, prefixes: [], sticky: {}, final: true } as const;
 * encodeInsn("nop", [], { ...ctx, sticky: {} }); // [0x90]
 * ```
 */
export function encodeInsn(mnem: string, ops: Op[], ctx: EncCtx): number[] {
  const bits = ctx.bits;
  if (bits !== 64) {
    for (const o of ops) {
      for (const r of o.k === "reg" ? [o.reg] : o.k === "mem" ? [o.base, o.index] : []) {
        if (r && r.cls === "gpr" && (r.size === 64 || r.num >= 8 || r.rex8)) {
          fail(`Instruction not valid outside 64-bit mode: register ${r.name}`, o.col);
        }
      }
    }
  }
  const m = mnem;
  const no = NOOPS[m];
  if (no) {
    needOps(ops, 0, m);
    if (no.no64 && bits === 64) fail(`Instruction not valid in 64-bit mode: ${m}`);
    if (no.only64 && bits !== 64) fail(`Instruction valid only in 64-bit mode: ${m}`);
    if (no.anyCpu) ctx.needCpu = -1; // nasm's table: RETFD is an 8086 instruction
    return emit({ op: no.op, osz: no.osz }, ctx);
  }
  const alu = ALU.indexOf(m);
  if (alu >= 0) return encAlu(alu, m, ops, ctx);
  if (m in SHIFTS) return encShift(SHIFTS[m], m, ops, ctx);
  if (m.length > 1 && m[0] === "j" && m.slice(1) in CC) {
    needOps(ops, 1, m);
    const t = ops[0];
    if (!isImm(t)) return badCombo(m, t.col);
    const cc = CC[m.slice(1)];
    return relBranch(ctx, t, [0x70 + cc], [0x0f, 0x80 + cc], t.size ?? bits);
  }
  if (m.startsWith("set") && m.slice(3) in CC) {
    needOps(ops, 1, m);
    const o = ops[0];
    if (!isRm(o) || (sizeOf(o) ?? 8) !== 8) return badCombo(m, o.col);
    return emit({ op: [0x0f, 0x90 + CC[m.slice(3)]], reg: 0, rm: o }, ctx);
  }
  if (m.startsWith("cmov") && m.slice(4) in CC) {
    needOps(ops, 2, m);
    const [d, s] = ops;
    if (!isGpr(d) || !isRm(s)) return badCombo(m, d.col);
    const sz = pairSize(d, s, m);
    checkOsz(sz, [16, 32, 64], m, d.col);
    return emit({ op: [0x0f, 0x40 + CC[m.slice(4)]], osz: sz, reg: d.reg.num, rm: s }, ctx);
  }
  const sbase = m.slice(0, -1);
  if (sbase in STRING_OPS && m.slice(-1) in STR_SUFFIX) {
    if (ops.length) return badCombo(m, ops[0].col);
    const sz = STR_SUFFIX[m.slice(-1)];
    if ((sbase === "ins" || sbase === "outs") && sz === 64) return badCombo(m);
    const op = STRING_OPS[sbase] + (sz === 8 ? 0 : 1);
    return emit({ op: [op], osz: sz === 8 ? undefined : sz }, ctx);
  }
  switch (m) {
    case "test":
      return encTest(ops, ctx);
    case "mov":
      return encMov(ops, ctx);
    case "movzx":
    case "movsx": {
      needOps(ops, 2, m);
      const [d, s] = ops;
      if (!isGpr(d) || !isRm(s)) return badCombo(m, d.col);
      const ss = sizeOf(s);
      if (ss === undefined) return fail(`Operation size not specified: ${m}`, s.col);
      if (m === "movsx" && ss === 32 && d.reg.size === 64) {
        return emit({ op: [0x63], osz: 64, reg: d.reg.num, rm: s }, ctx); // nasm: movsxd
      }
      if (!(ss === 8 || (ss === 16 && d.reg.size > 16)) || d.reg.size === 8) {
        return badCombo(m, s.col);
      }
      const op = (m === "movzx" ? 0xb6 : 0xbe) + (ss === 16 ? 1 : 0);
      return emit({ op: [0x0f, op], osz: d.reg.size, reg: d.reg.num, rm: s, regs: [d.reg] }, ctx);
    }
    case "movsxd": {
      needOps(ops, 2, m);
      const [d, s] = ops;
      if (bits !== 64) fail(`Instruction valid only in 64-bit mode: ${m}`);
      if (!isGpr(d) || d.reg.size !== 64 || !isRm(s) || (sizeOf(s) ?? 32) !== 32) {
        return badCombo(m, d.col);
      }
      return emit({ op: [0x63], osz: 64, reg: d.reg.num, rm: s }, ctx);
    }
    case "lea": {
      needOps(ops, 2, m);
      const [d, s] = ops;
      if (!isGpr(d) || s.k !== "mem" || d.reg.size === 8) return badCombo(m, d.col);
      return emit({ op: [0x8d], osz: d.reg.size, reg: d.reg.num, rm: s }, ctx);
    }
    case "inc":
    case "dec": {
      needOps(ops, 1, m);
      const o = ops[0];
      if (!isRm(o)) return badCombo(m, o.col);
      const sz = sizeOf(o);
      if (sz === undefined) return fail(`Operation size not specified: ${m}`, o.col);
      const n = m === "inc" ? 0 : 1;
      if (isGpr(o) && sz !== 8 && bits !== 64) {
        return emit({ op: [0x40 + n * 8], osz: sz, plusr: o.reg }, ctx);
      }
      return emit(
        { op: [sz === 8 ? 0xfe : 0xff], osz: sz === 8 ? undefined : sz, reg: n, rm: o },
        ctx,
      );
    }
    case "neg":
    case "not":
    case "mul":
    case "div":
    case "idiv":
      return encGroup3(["", "", "not", "neg", "mul", "", "div", "idiv"].indexOf(m), m, ops, ctx);
    case "imul":
      return encImul(ops, ctx);
    case "shld":
    case "shrd": {
      needOps(ops, 3, m);
      const [d, s, c] = ops;
      if (!isRm(d) || !isGpr(s)) return badCombo(m, d.col);
      const sz = pairSize(d, s, m);
      checkOsz(sz, [16, 32, 64], m, d.col);
      const base = m === "shld" ? 0xa4 : 0xac;
      if (c.k === "reg" && c.reg.name === "cl") {
        return emit({ op: [0x0f, base + 1], osz: sz, reg: s.reg.num, rm: d }, ctx);
      }
      if (!isImm(c)) return badCombo(m, c.col);
      checkImm(ctx, c.reloc ? 0n : c.v, 1, c.col);
      return emit({ op: [0x0f, base], osz: sz, reg: s.reg.num, rm: d, imms: [[c.v, 1]] }, ctx);
    }
    case "bt":
    case "bts":
    case "btr":
    case "btc": {
      needOps(ops, 2, m);
      const [d, s] = ops;
      const n = ["bt", "bts", "btr", "btc"].indexOf(m);
      if (!isRm(d)) return badCombo(m, d.col);
      if (isGpr(s)) {
        const sz = pairSize(d, s, m);
        checkOsz(sz, [16, 32, 64], m, d.col);
        return emit({ op: [0x0f, 0xa3 + n * 8], osz: sz, reg: s.reg.num, rm: d }, ctx);
      }
      if (!isImm(s)) return badCombo(m, s.col);
      const sz = sizeOf(d);
      if (sz === undefined) return fail(`Operation size not specified: ${m}`, d.col);
      checkOsz(sz, [16, 32, 64], m, d.col);
      checkImm(ctx, s.reloc ? 0n : s.v, 1, s.col);
      return emit({ op: [0x0f, 0xba], osz: sz, reg: 4 + n, rm: d, imms: [[s.v, 1]] }, ctx);
    }
    case "bsf":
    case "bsr": {
      needOps(ops, 2, m);
      const [d, s] = ops;
      if (!isGpr(d) || !isRm(s)) return badCombo(m, d.col);
      const sz = pairSize(d, s, m);
      checkOsz(sz, [16, 32, 64], m, d.col);
      return emit({ op: [0x0f, m === "bsf" ? 0xbc : 0xbd], osz: sz, reg: d.reg.num, rm: s }, ctx);
    }
    case "bswap": {
      needOps(ops, 1, m);
      const o = ops[0];
      if (!isGpr(o) || o.reg.size < 32) return badCombo(m, o.col);
      return emit({ op: [0x0f, 0xc8], osz: o.reg.size, plusr: o.reg }, ctx);
    }
    case "xchg":
      return encXchg(ops, ctx);
    case "xadd":
    case "cmpxchg": {
      needOps(ops, 2, m);
      const [d, s] = ops;
      if (!isRm(d) || !isGpr(s)) return badCombo(m, d.col);
      const sz = pairSize(d, s, m);
      const base = m === "xadd" ? 0xc0 : 0xb0;
      return emit({
        op: [0x0f, base + (sz === 8 ? 0 : 1)],
        osz: sz === 8 ? undefined : sz,
        reg: s.reg.num,
        rm: d,
        regs: [s.reg],
      }, ctx);
    }
    case "cmpxchg8b":
    case "cmpxchg16b": {
      needOps(ops, 1, m);
      const o = ops[0];
      if (o.k !== "mem") return badCombo(m, o.col);
      if (m === "cmpxchg16b" && bits !== 64) fail(`Instruction valid only in 64-bit mode: ${m}`);
      return emit({ op: [0x0f, 0xc7], reg: 1, rm: o, rexW: m === "cmpxchg16b" }, ctx);
    }
    case "push":
    case "pop":
      return encPushPop(m, ops, ctx);
    case "pushf":
    case "popf":
    case "pushfd":
    case "popfd":
    case "pushfq":
    case "popfq": {
      needOps(ops, 0, m);
      const op = m.startsWith("push") ? 0x9c : 0x9d;
      const suf = m.slice(m.startsWith("push") ? 5 : 4);
      if (suf === "d") {
        if (bits === 64) fail(`Instruction not valid in 64-bit mode: ${m}`);
        return emit({ op: [op], osz: 32 }, ctx);
      }
      if (suf === "q") {
        if (bits !== 64) fail(`Instruction valid only in 64-bit mode: ${m}`);
        return emit({ op: [op] }, ctx);
      }
      return emit({ op: [op] }, ctx);
    }
    case "jmp":
    case "call":
      return encJmpCall(m, ops, ctx);
    case "ret":
    case "retn":
    case "retf": {
      needOps(ops, [0, 1], m);
      const far = m === "retf";
      if (ops.length === 0) return emit({ op: [far ? 0xcb : 0xc3] }, ctx);
      const o = ops[0];
      if (!isImm(o)) return badCombo(m, o.col);
      checkImm(ctx, o.reloc ? 0n : o.v, 2, o.col);
      return emit({ op: [far ? 0xca : 0xc2], imms: [[o.v, 2]] }, ctx);
    }
    case "iret":
      needOps(ops, 0, m);
      return emit({ op: [0xcf] }, ctx);
    case "int": {
      needOps(ops, 1, m);
      const o = ops[0];
      if (!isImm(o)) return badCombo(m, o.col);
      checkImm(ctx, o.reloc ? 0n : o.v, 1, o.col);
      return emit({ op: [0xcd], imms: [[o.v, 1]] }, ctx);
    }
    case "enter": {
      needOps(ops, 2, m);
      const [a, b] = ops;
      if (!isImm(a) || !isImm(b)) return badCombo(m, a.col);
      checkImm(ctx, a.reloc ? 0n : a.v, 2, a.col);
      checkImm(ctx, b.reloc ? 0n : b.v, 1, b.col);
      return emit({ op: [0xc8], imms: [[a.v, 2], [b.v, 1]] }, ctx);
    }
    case "in":
    case "out": {
      needOps(ops, 2, m);
      const [q, p] = m === "in" ? ops : [ops[1], ops[0]];
      if (!isGpr(q) || q.reg.num !== 0 || q.reg.size === 64 || q.reg.high8 || q.reg.rex8) {
        return badCombo(m, q.col);
      }
      const w = q.reg.size === 8 ? 0 : 1;
      const osz = q.reg.size === 8 ? undefined : q.reg.size;
      const base = m === "in" ? 0 : 2;
      if (p.k === "reg" && p.reg.name === "dx") return emit({ op: [0xec + base + w], osz }, ctx);
      if (!isImm(p)) return badCombo(m, p.col);
      checkImm(ctx, p.reloc ? 0n : p.v, 1, p.col);
      return emit({ op: [0xe4 + base + w], osz, imms: [[p.v, 1]] }, ctx);
    }
    case "lgdt":
    case "lidt":
    case "sgdt":
    case "sidt":
    case "invlpg": {
      needOps(ops, 1, m);
      const o = ops[0];
      if (o.k !== "mem") return badCombo(m, o.col);
      const n = { sgdt: 0, sidt: 1, lgdt: 2, lidt: 3, invlpg: 7 }[m];
      return emit({ op: [0x0f, 0x01], reg: n, rm: o }, ctx);
    }
    case "clflush": {
      needOps(ops, 1, m);
      const o = ops[0];
      if (o.k !== "mem") return badCombo(m, o.col);
      return emit({ op: [0x0f, 0xae], reg: 7, rm: o }, ctx);
    }
    case "lmsw":
    case "smsw":
    case "lldt":
    case "sldt":
    case "ltr":
    case "str": {
      needOps(ops, 1, m);
      const o = ops[0];
      if (!isRm(o)) return badCombo(m, o.col);
      const sz = sizeOf(o);
      const store = m === "smsw" || m === "sldt" || m === "str";
      if (sz !== undefined && sz !== 16 && !(store && isGpr(o) && sz !== 8)) {
        return badCombo(m, o.col);
      }
      const [op, n] = {
        sldt: [[0x0f, 0x00], 0],
        str: [[0x0f, 0x00], 1],
        lldt: [[0x0f, 0x00], 2],
        ltr: [[0x0f, 0x00], 3],
        smsw: [[0x0f, 0x01], 4],
        lmsw: [[0x0f, 0x01], 6],
      }[m] as [number[], number];
      if (sz === 64 && ctx.bits !== 64) return badCombo(m, o.col);
      const osz = isGpr(o) && store && !(m === "sldt" && sz === 64) ? sz : undefined;
      return emit({ op, reg: n, rm: o, osz }, ctx);
    }
    case "loop":
    case "loope":
    case "loopz":
    case "loopne":
    case "loopnz":
    case "jcxz":
    case "jecxz":
    case "jrcxz": {
      needOps(ops, [1, 2], m);
      const t = ops[0];
      if (!isImm(t)) return badCombo(m, t.col);
      const op = {
        loop: 0xe2,
        loope: 0xe1,
        loopz: 0xe1,
        loopne: 0xe0,
        loopnz: 0xe0,
        jcxz: 0xe3,
        jecxz: 0xe3,
        jrcxz: 0xe3,
      }[m];
      let asize = 0;
      if (m === "jcxz") asize = 16;
      if (m === "jecxz") asize = 32;
      if (m === "jrcxz") asize = 64;
      if (ops.length === 2) {
        const c = ops[1];
        if (!isGpr(c) || c.reg.num !== 1 || c.reg.size === 8 || !m.startsWith("loop")) {
          return badCombo(m, c.col);
        }
        asize = c.reg.size;
      }
      if (asize === 16 && bits === 64) fail(`Instruction not valid in 64-bit mode: ${m}`);
      if (asize === 32) ctx.needCpu = CPU_386;
      if (asize === 64 && bits !== 64) fail(`Instruction valid only in 64-bit mode: ${m}`);
      return emit({ op: [op], rel: [t.v, 1], asize: asize || undefined }, ctx);
    }
  }
  return fail(`Unknown instruction: ${m}`);
}

function encAlu(n: number, m: string, ops: Op[], ctx: EncCtx): number[] {
  needOps(ops, 2, m);
  const [d, s] = ops;
  if (isImm(s)) {
    if (!isRm(d)) return badCombo(m, d.col);
    const sz = pairSize(d, s, m);
    if (isGpr(d) && s.size !== undefined && s.size !== sz && !(s.size === 8 && sz > 8)) {
      fail(`Operand size mismatch: ${m} ${sz}-bit register and ${s.size}-bit immediate`, s.col);
    }
    const acc = isGpr(d) && d.reg.num === 0 && !d.reg.high8;
    if (sz === 8) {
      checkImm(ctx, s.reloc ? 0n : s.v, 1, s.col);
      if (acc) return emit({ op: [0x04 + n * 8], imms: [[s.v, 1]] }, ctx);
      return emit({ op: [0x80], reg: n, rm: d, imms: [[s.v, 1]] }, ctx);
    }
    const ib = immBytes(sz);
    const wantByte = s.size === 8 || (!s.strict && !s.reloc && fitsS8(s.v, sz));
    if (wantByte) {
      if (ctx.final && !s.reloc && !fitsS8(s.v, sz)) {
        fail(`Value does not fit in 8 bits: ${s.v}`, s.col);
      }
      return emit({ op: [0x83], osz: sz, reg: n, rm: d, imms: [[s.v, 1]] }, ctx);
    }
    checkImm(ctx, s.reloc ? 0n : s.v, ib, s.col, sz === 64);
    if (acc) return emit({ op: [0x05 + n * 8], osz: sz, imms: [[s.v, ib]] }, ctx);
    return emit({ op: [0x81], osz: sz, reg: n, rm: d, imms: [[s.v, ib]] }, ctx);
  }
  if (isRm(d) && isGpr(s)) {
    const sz = pairSize(d, s, m);
    return emit({
      op: [n * 8 + (sz === 8 ? 0 : 1)],
      osz: sz === 8 ? undefined : sz,
      reg: s.reg.num,
      rm: d,
      regs: [s.reg],
    }, ctx);
  }
  if (isGpr(d) && s.k === "mem") {
    const sz = pairSize(d, s, m);
    if (s.size !== undefined && s.size !== sz) fail(`Operand size mismatch: ${m}`, s.col);
    return emit({
      op: [n * 8 + 2 + (sz === 8 ? 0 : 1)],
      osz: sz === 8 ? undefined : sz,
      reg: d.reg.num,
      rm: s,
      regs: [d.reg],
    }, ctx);
  }
  return badCombo(m, d.col);
}

function encTest(ops: Op[], ctx: EncCtx): number[] {
  const m = "test";
  needOps(ops, 2, m);
  let [d, s] = ops;
  if (isGpr(d) && s.k === "mem") [d, s] = [s, d];
  if (isImm(s)) {
    if (!isRm(d)) return badCombo(m, d.col);
    const sz = pairSize(d, s, m);
    immSizeMatch(m, sz, s);
    const acc = isGpr(d) && d.reg.num === 0 && !d.reg.high8;
    const ib = immBytes(sz);
    checkImm(ctx, s.reloc ? 0n : s.v, ib, s.col, sz === 64);
    if (acc) {
      return emit({
        op: [sz === 8 ? 0xa8 : 0xa9],
        osz: sz === 8 ? undefined : sz,
        imms: [[s.v, ib]],
      }, ctx);
    }
    return emit({
      op: [sz === 8 ? 0xf6 : 0xf7],
      osz: sz === 8 ? undefined : sz,
      reg: 0,
      rm: d,
      imms: [[s.v, ib]],
    }, ctx);
  }
  if (isRm(d) && isGpr(s)) {
    const sz = pairSize(d, s, m);
    return emit({
      op: [sz === 8 ? 0x84 : 0x85],
      osz: sz === 8 ? undefined : sz,
      reg: s.reg.num,
      rm: d,
      regs: [s.reg],
    }, ctx);
  }
  return badCombo(m, d.col);
}

function encMov(ops: Op[], ctx: EncCtx): number[] {
  const m = "mov";
  const bits = ctx.bits;
  needOps(ops, 2, m);
  const [d, s] = ops;
  // control / debug registers
  const special = (cr: Reg, g: Op, to: boolean): number[] => {
    if (!isGpr(g) || g.reg.size !== (bits === 64 ? 64 : 32)) return badCombo(m, g.col);
    const op = [0x0f, (cr.cls === "cr" ? 0x20 : 0x21) + (to ? 2 : 0)];
    if (cr.cls === "cr" && cr.num === 8 && bits !== 64) {
      // AMD's alternative encoding of CR8 outside 64-bit mode: LOCK + CR0
      return emit({ op, reg: 0, rm: g }, { ...ctx, prefixes: [0xf0, ...ctx.prefixes] });
    }
    return emit({ op, reg: cr.num, rm: g }, ctx);
  };
  if (d.k === "reg" && (d.reg.cls === "cr" || d.reg.cls === "dr")) return special(d.reg, s, true);
  if (s.k === "reg" && (s.reg.cls === "cr" || s.reg.cls === "dr")) return special(s.reg, d, false);
  // segment registers
  if (d.k === "reg" && d.reg.cls === "seg") {
    if (!isRm(s) || (sizeOf(s) !== undefined && sizeOf(s) === 8)) return badCombo(m, s.col);
    // nasm lists MOV sreg, r32 (same bytes as r16) as a 386 instruction
    if (isGpr(s) && s.reg.size === 32) ctx.needCpu = CPU_386;
    return emit({ op: [0x8e], reg: d.reg.num, rm: s }, ctx);
  }
  if (s.k === "reg" && s.reg.cls === "seg") {
    if (!isRm(d) || sizeOf(d) === 8) return badCombo(m, d.col);
    const sz = sizeOf(d);
    return emit(
      { op: [0x8c], reg: s.reg.num, rm: d, osz: isGpr(d) && sz !== 64 ? sz : undefined },
      ctx,
    );
  }
  if (isImm(s)) {
    if (!isRm(d)) return badCombo(m, d.col);
    const sz = pairSize(d, s, m);
    immSizeMatch(m, sz, s);
    if (isGpr(d)) {
      if (sz === 64) {
        const u = BigInt.asUintN(64, s.v);
        const sv = BigInt.asIntN(64, s.v);
        if (!s.strict && !s.reloc && u < 1n << 32n) {
          const r32 = { ...d.reg, size: 32 };
          return emit({ op: [0xb8], osz: 32, plusr: r32, imms: [[s.v, 4]] }, ctx);
        }
        if (!s.strict && !s.reloc && sv >= -(1n << 31n) && sv < 1n << 31n) {
          return emit({ op: [0xc7], osz: 64, reg: 0, rm: d, imms: [[s.v, 4]] }, ctx);
        }
        return emit({ op: [0xb8], osz: 64, plusr: d.reg, imms: [[s.v, 8]] }, ctx);
      }
      const ib = immBytes(sz);
      checkImm(ctx, s.reloc ? 0n : s.v, ib, s.col);
      return emit({
        op: [sz === 8 ? 0xb0 : 0xb8],
        osz: sz === 8 ? undefined : sz,
        plusr: d.reg,
        imms: [[s.v, ib]],
      }, ctx);
    }
    const ib = immBytes(sz);
    checkImm(ctx, s.reloc ? 0n : s.v, ib, s.col, sz === 64);
    return emit({
      op: [sz === 8 ? 0xc6 : 0xc7],
      osz: sz === 8 ? undefined : sz,
      reg: 0,
      rm: d,
      imms: [[s.v, ib]],
    }, ctx);
  }
  // A0-A3: nasm uses them for a bare address (and, in 64-bit mode, for `[qword address]`)
  const moffs = (mem: Op & { k: "mem" }) =>
    !mem.base && !mem.index && !mem.rel &&
    (bits !== 64 ? !mem.dispSize : mem.dispSize === 64);
  const moffsBytes = bits === 64 ? 8 : bits / 8;
  if (isRm(d) && isGpr(s)) {
    const sz = pairSize(d, s, m);
    if (d.k === "mem" && s.reg.num === 0 && !s.reg.high8 && moffs(d)) {
      return emit({
        op: [sz === 8 ? 0xa2 : 0xa3],
        osz: sz === 8 ? undefined : sz,
        imms: [[d.disp, moffsBytes]],
        seg: d.seg,
      }, ctx);
    }
    return emit({
      op: [sz === 8 ? 0x88 : 0x89],
      osz: sz === 8 ? undefined : sz,
      reg: s.reg.num,
      rm: d,
      regs: [s.reg],
    }, ctx);
  }
  if (isGpr(d) && s.k === "mem") {
    const sz = pairSize(d, s, m);
    if (s.size !== undefined && s.size !== sz) fail("Operand size mismatch: mov", s.col);
    if (d.reg.num === 0 && !d.reg.high8 && moffs(s)) {
      return emit({
        op: [sz === 8 ? 0xa0 : 0xa1],
        osz: sz === 8 ? undefined : sz,
        imms: [[s.disp, moffsBytes]],
        seg: s.seg,
      }, ctx);
    }
    return emit({
      op: [sz === 8 ? 0x8a : 0x8b],
      osz: sz === 8 ? undefined : sz,
      reg: d.reg.num,
      rm: s,
      regs: [d.reg],
    }, ctx);
  }
  return badCombo(m, d.col);
}

function encGroup3(n: number, m: string, ops: Op[], ctx: EncCtx): number[] {
  needOps(ops, 1, m);
  const o = ops[0];
  if (!isRm(o)) return badCombo(m, o.col);
  const sz = sizeOf(o);
  if (sz === undefined) return fail(`Operation size not specified: ${m}`, o.col);
  return emit({ op: [sz === 8 ? 0xf6 : 0xf7], osz: sz === 8 ? undefined : sz, reg: n, rm: o }, ctx);
}

function encImul(ops: Op[], ctx: EncCtx): number[] {
  const m = "imul";
  needOps(ops, [1, 2, 3], m);
  if (ops.length === 1) return encGroup3(5, m, ops, ctx);
  let [d, s, i] = ops;
  if (ops.length === 2 && isImm(s)) [s, i] = [d, s];
  if (!isGpr(d) || !isRm(s)) return badCombo(m, d.col);
  const sz = pairSize(d, s, m);
  checkOsz(sz, [16, 32, 64], m, d.col);
  if (!i) return emit({ op: [0x0f, 0xaf], osz: sz, reg: d.reg.num, rm: s }, ctx);
  if (!isImm(i)) return badCombo(m, i.col);
  if (i.size === 8 || (!i.strict && !i.reloc && fitsS8(i.v, sz))) {
    return emit({ op: [0x6b], osz: sz, reg: d.reg.num, rm: s, imms: [[i.v, 1]] }, ctx);
  }
  const ib = immBytes(sz);
  checkImm(ctx, i.reloc ? 0n : i.v, ib, i.col, sz === 64);
  return emit({ op: [0x69], osz: sz, reg: d.reg.num, rm: s, imms: [[i.v, ib]] }, ctx);
}

function encShift(n: number, m: string, ops: Op[], ctx: EncCtx): number[] {
  needOps(ops, 2, m);
  const [d, c] = ops;
  if (!isRm(d)) return badCombo(m, d.col);
  const sz = sizeOf(d);
  if (sz === undefined) return fail(`Operation size not specified: ${m}`, d.col);
  const w = sz === 8 ? 0 : 1;
  const osz = sz === 8 ? undefined : sz;
  if (c.k === "reg" && c.reg.name === "cl") {
    return emit({ op: [0xd2 + w], osz, reg: n, rm: d }, ctx);
  }
  if (!isImm(c)) return badCombo(m, c.col);
  // nasm is optimistic about an unknown count in early passes: it assumes 1
  if ((!c.known || c.v === 1n) && !c.strict && !c.reloc) {
    return emit({ op: [0xd0 + w], osz, reg: n, rm: d }, ctx);
  }
  checkImm(ctx, c.reloc ? 0n : c.v, 1, c.col);
  return emit({ op: [0xc0 + w], osz, reg: n, rm: d, imms: [[c.v, 1]] }, ctx);
}

function encXchg(ops: Op[], ctx: EncCtx): number[] {
  const m = "xchg";
  needOps(ops, 2, m);
  let [a, b] = ops;
  if (!isRm(a) || !isRm(b)) return badCombo(m, a.col);
  if (a.k === "mem" && b.k === "mem") return badCombo(m, a.col);
  const sz = pairSize(a, b, m);
  if (isGpr(a) && isGpr(b) && sz !== 8) {
    const accA = a.reg.num === 0, accB = b.reg.num === 0;
    if (accA || accB) {
      const other = accA ? b.reg : a.reg;
      if (!(ctx.bits === 64 && sz === 32 && other.num === 0)) {
        return emit({ op: [0x90], osz: sz, plusr: other }, ctx);
      }
    }
  }
  // register operand goes to modrm.reg
  if (isGpr(b) && a.k === "mem") {
    /* b is reg */
  } else if (isGpr(a) && b.k === "mem") [a, b] = [b, a];
  else if (isGpr(a) && isGpr(b)) [a, b] = [b, a];
  const r = b as Op & { k: "reg" };
  return emit({
    op: [sz === 8 ? 0x86 : 0x87],
    osz: sz === 8 ? undefined : sz,
    reg: r.reg.num,
    rm: a,
    regs: [r.reg],
  }, ctx);
}

function encPushPop(m: string, ops: Op[], ctx: EncCtx): number[] {
  const bits = ctx.bits;
  needOps(ops, 1, m);
  const o = ops[0];
  const push = m === "push";
  if (o.k === "reg" && o.reg.cls === "seg") {
    const n = o.reg.num;
    // nasm ignores a size keyword on segment register pushes
    if (n >= 4) return emit({ op: [0x0f, (push ? 0xa0 : 0xa1) + (n - 4) * 8] }, ctx);
    if (bits === 64) fail(`Instruction not valid in 64-bit mode: ${m} ${o.reg.name}`, o.col);
    if (!push && n === 1) fail("Invalid combination of operands: pop cs", o.col);
    return emit({ op: [(push ? 0x06 : 0x07) + n * 8] }, ctx);
  }
  const checkSize = (sz: number, col: number) => {
    if (sz === 8) fail(`Invalid operand size for ${m}: 8 bits`, col);
    if (bits === 64 && sz === 32) {
      fail(`Instruction not valid in 64-bit mode: ${m} with 32-bit operand`, col);
    }
    if (bits !== 64 && sz === 64) {
      fail(`Instruction not valid outside 64-bit mode: ${m} with 64-bit operand`, col);
    }
  };
  if (isGpr(o)) {
    checkSize(o.reg.size, o.col);
    return emit({ op: [push ? 0x50 : 0x58], osz: o.reg.size, d64: true, plusr: o.reg }, ctx);
  }
  if (o.k === "mem") {
    const sz = o.size;
    if (sz === undefined) return fail(`Operation size not specified: ${m}`, o.col);
    checkSize(sz, o.col);
    return emit({ op: [push ? 0xff : 0x8f], reg: push ? 6 : 0, osz: sz, d64: true, rm: o }, ctx);
  }
  if (o.k === "imm" && push) {
    let sz = o.size && o.size !== 8 ? o.size : bits === 16 ? 16 : bits === 64 ? 64 : 32;
    if (bits === 64 && sz === 32) sz = 64; // nasm: push dword imm in 64-bit mode is push imm32 (sign-extended)
    checkSize(sz, o.col);
    if (o.size === 8 || (!o.strict && !o.reloc && fitsS8(o.v, sz))) {
      return emit({ op: [0x6a], osz: sz, d64: true, imms: [[o.v, 1]] }, ctx);
    }
    const ib = sz === 16 ? 2 : 4;
    checkImm(ctx, o.reloc ? 0n : o.v, ib, o.col, sz === 64);
    return emit({ op: [0x68], osz: sz, d64: true, imms: [[o.v, ib]] }, ctx);
  }
  return badCombo(m, o.col);
}

function encJmpCall(m: string, ops: Op[], ctx: EncCtx): number[] {
  const bits = ctx.bits;
  needOps(ops, 1, m);
  const o = ops[0];
  const jmp = m === "jmp";
  if (o.k === "far") {
    if (o.far) fail("Invalid combination of operands: far with an immediate segment:offset", o.col);
    if (bits === 64) {
      fail(`Instruction not valid in 64-bit mode: far ${m} to an immediate pointer`, o.col);
    }
    const sz = o.size ?? bits;
    checkOsz(sz, [16, 32], m, o.col);
    const ob = sz / 8;
    checkImm(ctx, o.offReloc ? 0n : o.off, ob, o.col);
    checkImm(ctx, o.seg, 2, o.col);
    return emit({ op: [jmp ? 0xea : 0x9a], osz: sz, imms: [[o.off, ob], [o.seg, 2]] }, ctx);
  }
  if (o.k === "imm") {
    if (o.far) return badCombo(m, o.col);
    const sz = o.size ?? bits;
    if (jmp) return relBranch(ctx, o, [0xeb], [0xe9], sz);
    if (o.short) return badCombo(m, o.col);
    if (bits === 64 && o.size !== undefined && o.size !== 64) return badCombo(m, o.col);
    const nb = bits !== 64 && (sz === 16 || (sz !== 32 && bits === 16)) ? 2 : 4;
    const nearOsz = bits === 64 ? undefined : sz === bits ? undefined : sz;
    return emit({ op: [0xe8], rel: [o.v, nb], osz: nearOsz, d64: true }, ctx);
  }
  if (o.k === "mem" && o.far) {
    const sz = o.size;
    if (sz !== undefined && ![16, 32, 64].includes(sz)) return badCombo(m, o.col);
    const osz = sz ?? (bits === 64 ? 64 : undefined);
    return emit({ op: [0xff], reg: jmp ? 5 : 3, rm: o, osz }, ctx);
  }
  if (isRm(o)) {
    const sz = sizeOf(o) ?? (bits === 16 ? 16 : bits === 64 ? 64 : 32);
    if (sz === 8) return badCombo(m, o.col);
    if (bits === 64 && sz !== 64) {
      fail(`Instruction not valid in 64-bit mode: ${m} with ${sz}-bit operand`, o.col);
    }
    if (bits !== 64 && sz === 64) return badCombo(m, o.col);
    return emit({ op: [0xff], reg: jmp ? 4 : 2, rm: o, osz: sz, d64: true }, ctx);
  }
  return badCombo(m, (o as Op).col);
}
