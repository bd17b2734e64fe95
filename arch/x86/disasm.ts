/**
 * Disassembler for the x86 instruction subset of the assembler (see `asm.ts`), printing nasm-like
 * Intel syntax (`mov eax, [ebx+ecx*4+0x8]`, `rep movsd`, `jmp 0x10:0x100000`). The text assembles
 * back to the same bytes with {@linkcode assemble} where nasm syntax can say so (it adds `strict`,
 * `near` or a displacement size when the encoding is not the one nasm would choose). Bytes outside
 * the subset decode as `db 0x..` of length 1; it never throws.
 *
 * @module
 */

/** Options for {@linkcode disassemble} and {@linkcode disassembleOne}. */
export interface DisasmOptions {
  /** Processor mode. */
  bits: 16 | 32 | 64;
  /** Address of `bytes[0]` (for branch targets and RIP-relative operands; default 0). */
  address?: number | bigint;
}

/** One disassembled instruction. */
export interface DisasmLine {
  /** Address of the first byte. */
  address: bigint;
  /** Offset in the input array. */
  offset: number;
  /** Number of bytes. */
  length: number;
  /** The instruction bytes. */
  bytes: Uint8Array;
  /** nasm-syntax text. */
  text: string;
}

const R8 = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"];
const R8X = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"];
const R16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
const SEG = ["es", "cs", "ss", "ds", "fs", "gs"];
const CC = [
  "o",
  "no",
  "c",
  "nc",
  "z",
  "nz",
  "na",
  "a",
  "s",
  "ns",
  "pe",
  "po",
  "l",
  "nl",
  "ng",
  "g",
];
const ALU = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];
const SHIFT = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"];
const SIZE_NAME: Record<number, string> = { 8: "byte", 16: "word", 32: "dword", 64: "qword" };

function regName(n: number, size: number, rex: boolean): string {
  if (size === 8) return n >= 8 ? `r${n}b` : rex ? R8X[n] : R8[n];
  if (n >= 8) return size === 16 ? `r${n}w` : size === 32 ? `r${n}d` : `r${n}`;
  if (size === 16) return R16[n];
  if (size === 32) return "e" + R16[n];
  return "r" + R16[n];
}

const hx = (
  v: number | bigint,
) => (v < 0 ? "-0x" + (-BigInt(v)).toString(16) : "0x" + v.toString(16));

class Bad extends Error {}

/** Decoder state for one instruction. */
class D {
  b: Uint8Array;
  start: number;
  p: number;
  bits: 16 | 32 | 64;
  addr: bigint;
  // prefixes
  lock = false;
  rep = 0;
  seg = -1;
  o16 = false;
  a16 = false;
  rex = 0;
  // modrm
  mod = 0;
  reg = 0;
  rm = 0;
  memText = "";
  ripRel = false;
  ripDisp = 0n;

  /** Prefixes to ignore (to find out whether a prefix changes the meaning). */
  sup: Suppress;
  hadRex = false;
  /** A segment prefix was shown as a prefix word (string instructions). */
  segUsed = false;

  constructor(b: Uint8Array, start: number, bits: 16 | 32 | 64, addr: bigint, sup: Suppress = {}) {
    this.sup = sup;
    this.b = b;
    this.start = start;
    this.p = start;
    this.bits = bits;
    this.addr = addr;
  }
  u8(): number {
    if (this.p >= this.b.length || this.p - this.start >= 15) throw new Bad();
    return this.b[this.p++];
  }
  s8(): number {
    const v = this.u8();
    return v >= 128 ? v - 256 : v;
  }
  u16(): number {
    return this.u8() | (this.u8() << 8);
  }
  u32(): number {
    return (this.u16() | (this.u16() << 16)) >>> 0;
  }
  s32(): number {
    return this.u32() | 0;
  }
  u64(): bigint {
    const lo = BigInt(this.u32());
    return lo | (BigInt(this.u32()) << 32n);
  }
  get osz(): number {
    if (this.bits === 16) return this.o16 ? 32 : 16;
    if (this.rex & 8) return 64;
    return this.o16 ? 16 : 32;
  }
  /** Operand size of instructions that default to 64 bits in long mode. */
  get osz64(): number {
    if (this.bits === 64) return this.o16 ? 16 : 64;
    return this.osz;
  }
  get asz(): number {
    if (this.bits === 16) return this.a16 ? 32 : 16;
    if (this.bits === 32) return this.a16 ? 16 : 32;
    return this.a16 ? 32 : 64;
  }
  get defaultOsz(): number {
    return this.bits === 16 ? 16 : 32;
  }
  /** Reads ModRM (+SIB, displacement) and prepares the r/m text. */
  modrm(): void {
    const m = this.u8();
    this.mod = m >> 6;
    this.reg = ((m >> 3) & 7) | (this.rex & 4 ? 8 : 0);
    this.rm = m & 7;
    if (this.mod === 3) {
      this.rm |= this.rex & 1 ? 8 : 0;
      return;
    }
    const segp = this.seg >= 0 ? SEG[this.seg] + ":" : "";
    if (this.asz === 16) {
      const names = ["bx+si", "bx+di", "bp+si", "bp+di", "si", "di", "bp", "bx"];
      if (this.mod === 0 && this.rm === 6) {
        // outside 16-bit mode a bare 16-bit address needs `word` to select 16-bit addressing
        this.memText = `[${this.bits !== 16 ? "word " : ""}${segp}${hx(this.u16())}]`;
        return;
      }
      let d = "";
      let kw = "";
      if (this.mod === 1) {
        const v = this.s8();
        d = v ? (v < 0 ? hx(v) : "+" + hx(v)) : "+0x0";
        if (v === 0 && this.rm !== 6) kw = "byte ";
        else if (v === 0) d = "";
      } else if (this.mod === 2) {
        const raw = this.u16();
        const v = raw >= 0x8000 ? raw - 0x10000 : raw;
        d = v < 0 ? hx(v) : "+" + hx(v);
        if (v >= -128 && v <= 127) kw = "word ";
      }
      this.memText = `[${kw}${segp}${names[this.rm]}${d}]`;
      return;
    }
    const wide = this.asz === 64;
    const rn = (n: number) => regName(n, wide ? 64 : 32, false);
    let base = -1, index = -1, scale = 1;
    let rmLow = this.rm;
    if (rmLow === 4) {
      const sib = this.u8();
      scale = 1 << (sib >> 6);
      index = ((sib >> 3) & 7) | (this.rex & 2 ? 8 : 0);
      if (index === 4) index = -1;
      rmLow = sib & 7;
      base = rmLow | (this.rex & 1 ? 8 : 0);
      if (rmLow === 5 && this.mod === 0) base = -1;
    } else {
      base = rmLow | (this.rex & 1 ? 8 : 0);
      if (rmLow === 5 && this.mod === 0) {
        base = -1;
        const disp = this.s32();
        if (this.bits === 64) {
          this.ripRel = true;
          this.ripDisp = BigInt(disp);
          this.memText = "RIP";
          return;
        }
        this.memText = `[${this.bits === 16 ? "dword " : ""}${segp}${hx(disp >>> 0)}]`;
        return;
      }
    }
    let disp = 0;
    let kw = "";
    if (this.mod === 1) {
      disp = this.s8();
      if (disp === 0 && rmLow !== 5) kw = "byte ";
    } else if (this.mod === 2 || base < 0) {
      disp = this.s32();
      if (this.mod === 2 && disp >= -128 && disp <= 127) kw = "dword ";
    }
    const parts: string[] = [];
    if (base >= 0) parts.push(rn(base));
    if (index >= 0) parts.push(scale === 1 ? rn(index) : `${rn(index)}*${scale}`);
    if (base < 0 && index >= 0 && scale === 2) kw = "nosplit ";
    let text = parts.join("+");
    if (base < 0 && index < 0) {
      // SIB without base and index: absolute disp32
      if (this.bits === 64 && this.a16) throw new Bad();
      text = hx(this.bits === 64 ? BigInt.asUintN(64, BigInt(disp)) : disp >>> 0);
      if (this.bits === 16) kw = "dword ";
    } else if (disp !== 0 || kw === "byte " || base < 0) {
      text += disp < 0 ? hx(disp) : "+" + hx(disp);
    }
    if (base < 0 && index >= 0 && scale === 1) kw = "nosplit ";
    this.memText = `[${kw}${segp}${text}]`;
  }
  /** r/m operand text with a register size. */
  E(size: number): string {
    if (this.mod === 3) return regName(this.rm, size, this.rex !== 0);
    return this.memText;
  }
  /** r/m operand with an explicit size keyword for memory. */
  Es(size: number): string {
    if (this.mod === 3) return regName(this.rm, size, this.rex !== 0);
    return `${SIZE_NAME[size]} ${this.memText}`;
  }
  G(size: number): string {
    return regName(this.reg, size, this.rex !== 0);
  }
  /** Immediate of `size` bits as unsigned of `opSize` bits. */
  imm(n: number, opSize: number): string {
    let v: bigint;
    if (n === 1) v = BigInt(this.s8());
    else if (n === 2) v = BigInt(this.u16() << 16 >> 16);
    else if (n === 4) v = BigInt(this.s32());
    else v = this.u64();
    return hx(BigInt.asUintN(opSize, v));
  }
  rel(n: number, opSize: number, addrPrefixOk = false): bigint {
    if (this.bits === 64 && this.o16) throw new Bad(); // 16-bit branches in long mode: vendor-specific
    if ((this.o16 && n === 1) || (this.a16 && !addrPrefixOk)) throw new Bad(); // not nasm output
    const d = n === 1 ? this.s8() : n === 2 ? this.u16() << 16 >> 16 : this.s32();
    const end = this.addr + BigInt(this.p - this.start);
    const t = end + BigInt(d);
    return BigInt.asUintN(opSize === 16 ? 16 : this.bits === 64 ? 64 : 32, t);
  }
}

function fitsS8(text: string, size: number): boolean {
  const v = BigInt.asIntN(size, BigInt(text));
  return v >= -128n && v <= 127n;
}

function decode(d: D): string {
  const bits = d.bits;
  // prefixes
  const pfx: number[] = [];
  for (;;) {
    const c = d.b[d.p];
    if (c === undefined) throw new Bad();
    if (c === 0xf0) d.lock = true;
    else if (c === 0xf2 || c === 0xf3) d.rep = c;
    else if (c === 0x26 || c === 0x2e || c === 0x36 || c === 0x3e) d.seg = (c >> 3) & 3;
    else if (c === 0x64 || c === 0x65) d.seg = c - 0x60;
    else if (c === 0x66) d.o16 = !d.sup.o16;
    else if (c === 0x67) d.a16 = !d.sup.a16;
    else break;
    if (pfx.includes(c)) throw new Bad(); // repeated prefix: not produced by the assembler
    pfx.push(c);
    d.u8();
  }
  if (bits === 64 && (d.b[d.p] & 0xf0) === 0x40) {
    const rex = d.u8();
    d.hadRex = true;
    d.rex = d.sup.rex === "all" ? 0 : d.sup.rex === "w" ? rex & ~8 : rex;
  }
  const op = d.u8();
  const osz = d.osz;
  const rexAny = d.rex !== 0;
  const no64 = () => {
    if (bits === 64) throw new Bad();
  };
  const lockOk = () => d.lock && d.mod !== 3;
  let text: string;
  if (op < 0x40 && (op & 7) < 6) {
    const n = op >> 3;
    const m = ALU[n];
    switch (op & 7) {
      case 0:
        d.modrm();
        text = `${m} ${d.E(8)}, ${d.G(8)}`;
        break;
      case 1:
        d.modrm();
        text = `${m} ${d.E(osz)}, ${d.G(osz)}`;
        break;
      case 2:
        d.modrm();
        text = `${m} ${d.G(8)}, ${d.E(8)}`;
        break;
      case 3:
        d.modrm();
        text = `${m} ${d.G(osz)}, ${d.E(osz)}`;
        break;
      case 4:
        text = `${m} al, ${d.imm(1, 8)}`;
        break;
      default: {
        const i = d.imm(osz === 16 ? 2 : 4, osz);
        text = `${m} ${regName(0, osz, false)}, ${
          fitsS8(i, osz) ? "strict " + SIZE_NAME[osz] + " " : ""
        }${i}`;
      }
    }
    return withLock(d, text, lockOk());
  }
  switch (op) {
    case 0x06:
    case 0x0e:
    case 0x16:
    case 0x1e:
      no64();
      return `push ${SEG[op >> 3]}`;
    case 0x07:
    case 0x17:
    case 0x1f:
      no64();
      return `pop ${SEG[op >> 3]}`;
    case 0x0f:
      return decode0f(d);
    case 0x27:
    case 0x2f:
    case 0x37:
    case 0x3f:
      no64();
      return ({ 0x27: "daa", 0x2f: "das", 0x37: "aaa", 0x3f: "aas" } as Record<number, string>)[op];
  }
  if (op >= 0x40 && op <= 0x4f) {
    no64(); // a second REX prefix in 64-bit mode
    return `${op < 0x48 ? "inc" : "dec"} ${regName(op & 7, osz, false)}`;
  }
  if (op >= 0x50 && op <= 0x5f) {
    const r = (op & 7) | (d.rex & 1 ? 8 : 0);
    return `${op < 0x58 ? "push" : "pop"} ${regName(r, d.osz64, false)}`;
  }
  if (op >= 0x70 && op <= 0x7f) return `j${CC[op & 15]} ${hx(d.rel(1, d.osz64))}`;
  if (op >= 0x91 && op <= 0x97 || (op === 0x90 && d.rex & 1)) {
    const r = (op & 7) | (d.rex & 1 ? 8 : 0);
    return `xchg ${regName(r, osz, false)}, ${regName(0, osz, false)}`;
  }
  if (op >= 0xb0 && op <= 0xb7) {
    const r = (op & 7) | (d.rex & 1 ? 8 : 0);
    return `mov ${regName(r, 8, rexAny)}, ${d.imm(1, 8)}`;
  }
  if (op >= 0xb8 && op <= 0xbf) {
    const r = (op & 7) | (d.rex & 1 ? 8 : 0);
    if (osz === 64) {
      const i = d.imm(8, 64);
      const sv = BigInt.asIntN(64, BigInt(i));
      const small = BigInt(i) < 1n << 32n || (sv >= -(1n << 31n) && sv < 1n << 31n);
      return `mov ${regName(r, 64, false)}, ${small ? "strict qword " : ""}${i}`;
    }
    return `mov ${regName(r, osz, false)}, ${d.imm(osz === 16 ? 2 : 4, osz)}`;
  }
  switch (op) {
    case 0x60:
      no64();
      return osz === d.defaultOsz ? "pusha" : osz === 16 ? "pushaw" : "pushad";
    case 0x61:
      no64();
      return osz === d.defaultOsz ? "popa" : osz === 16 ? "popaw" : "popad";
    case 0x63:
      if (bits !== 64 || osz !== 64) throw new Bad();
      d.modrm();
      return `movsxd ${d.G(64)}, ${d.Es(32)}`;
    case 0x68: {
      const s = d.osz64;
      const i = d.imm(s === 16 ? 2 : 4, s);
      const kw = fitsS8(i, s)
        ? `strict ${SIZE_NAME[s === 64 ? 32 : s]} `
        : s !== d.defaultOsz && s !== 64
        ? SIZE_NAME[s] + " "
        : "";
      return `push ${kw}${i}`;
    }
    case 0x6a: {
      const s = d.osz64;
      const kw = s !== d.defaultOsz && s !== 64 ? SIZE_NAME[s] + " " : "";
      return `push ${kw}${d.imm(1, s)}`;
    }
    case 0x69:
    case 0x6b: {
      d.modrm();
      const i = op === 0x6b ? d.imm(1, osz) : d.imm(osz === 16 ? 2 : 4, osz);
      const kw = op === 0x69 && fitsS8(i, osz) ? `strict ${SIZE_NAME[Math.min(osz, 32)]} ` : "";
      return `imul ${d.G(osz)}, ${d.E(osz)}, ${kw}${i}`;
    }
    case 0x6c:
    case 0x6d:
    case 0x6e:
    case 0x6f:
      return strOp(d, op < 0x6e ? "ins" : "outs", op & 1 ? Math.min(osz, 32) : 8);
    case 0x80:
    case 0x81:
    case 0x83: {
      d.modrm();
      const n = d.reg & 7;
      const size = op === 0x80 ? 8 : osz;
      let i: string;
      let kw = "";
      if (op === 0x81) {
        i = d.imm(osz === 16 ? 2 : 4, osz);
        if (fitsS8(i, osz)) kw = `strict ${SIZE_NAME[osz]} `;
      } else i = d.imm(1, size);
      const lk = d.lock && d.mod !== 3 && n !== 7;
      return withLock(d, `${ALU[n]} ${d.Es(size)}, ${kw}${i}`, lk);
    }
    case 0x84:
    case 0x85: {
      d.modrm();
      const s = op === 0x84 ? 8 : osz;
      return `test ${d.E(s)}, ${d.G(s)}`;
    }
    case 0x86:
    case 0x87: {
      d.modrm();
      const s = op === 0x86 ? 8 : osz;
      // nasm puts the first register of `xchg a, b` in ModRM.reg
      if (d.mod === 3) return `xchg ${d.G(s)}, ${d.E(s)}`;
      return withLock(d, `xchg ${d.E(s)}, ${d.G(s)}`, lockOk());
    }
    case 0x88:
    case 0x89:
    case 0x8a:
    case 0x8b: {
      d.modrm();
      const s = op & 1 ? osz : 8;
      return op < 0x8a ? `mov ${d.E(s)}, ${d.G(s)}` : `mov ${d.G(s)}, ${d.E(s)}`;
    }
    case 0x8c:
    case 0x8e: {
      d.modrm();
      if ((d.reg & 7) > 5 || d.reg > 7) throw new Bad();
      const s = d.mod === 3 ? (op === 0x8c ? osz : Math.min(osz, 32)) : 16;
      if (op === 0x8e && d.mod === 3 && osz !== d.defaultOsz && osz !== 64) throw new Bad();
      const e = d.mod === 3 ? d.E(op === 0x8e ? (bits === 16 ? 16 : 32) : s) : d.memText;
      return op === 0x8c ? `mov ${e}, ${SEG[d.reg]}` : `mov ${SEG[d.reg]}, ${e}`;
    }
    case 0x8d:
      d.modrm();
      if (d.mod === 3) throw new Bad();
      return `lea ${d.G(osz)}, ${d.memText}`;
    case 0x8f:
      d.modrm();
      if (d.reg & 7) throw new Bad();
      return `pop ${d.Es(d.osz64)}`;
    case 0x90:
      if (d.rep === 0xf3) return "pause";
      if (d.rex & 8) return "xchg rax, rax";
      if (d.o16) return bits === 16 ? "xchg eax, eax" : "xchg ax, ax";
      return "nop";
    case 0x98:
      return osz === 16 ? "cbw" : osz === 32 ? "cwde" : "cdqe";
    case 0x99:
      return osz === 16 ? "cwd" : osz === 32 ? "cdq" : "cqo";
    case 0x9a:
    case 0xea: {
      no64();
      const off = osz === 16 ? d.u16() : d.u32();
      const sel = d.u16();
      const kw = osz !== d.defaultOsz ? SIZE_NAME[osz] + " " : "";
      return `${op === 0x9a ? "call" : "jmp"} ${kw}${hx(sel)}:${hx(off)}`;
    }
    case 0x9b:
      return "wait";
    case 0x9c:
    case 0x9d: {
      const m = op === 0x9c ? "pushf" : "popf";
      const s = d.osz64;
      if (bits === 64) return s === 64 ? m : m + "w";
      return s === d.defaultOsz ? m : m + (s === 16 ? "w" : "d");
    }
    case 0x9e:
      return "sahf";
    case 0x9f:
      return "lahf";
    case 0xa0:
    case 0xa1:
    case 0xa2:
    case 0xa3: {
      const s = op & 1 ? osz : 8;
      if (d.asz !== bits) throw new Bad();
      const a = bits === 64 ? d.u64() : d.asz === 16 ? d.u16() : d.u32();
      const m = `[${bits === 64 ? "qword " : ""}${d.seg >= 0 ? SEG[d.seg] + ":" : ""}${hx(a)}]`;
      const r = regName(0, s, false);
      return op < 0xa2 ? `mov ${r}, ${m}` : `mov ${m}, ${r}`;
    }
    case 0xa4:
    case 0xa5:
      return strOp(d, "movs", op & 1 ? osz : 8);
    case 0xa6:
    case 0xa7:
      return strOp(d, "cmps", op & 1 ? osz : 8);
    case 0xa8:
      return `test al, ${d.imm(1, 8)}`;
    case 0xa9:
      return `test ${regName(0, osz, false)}, ${d.imm(osz === 16 ? 2 : 4, osz)}`;
    case 0xaa:
    case 0xab:
      return strOp(d, "stos", op & 1 ? osz : 8);
    case 0xac:
    case 0xad:
      return strOp(d, "lods", op & 1 ? osz : 8);
    case 0xae:
    case 0xaf:
      return strOp(d, "scas", op & 1 ? osz : 8);
    case 0xc0:
    case 0xc1:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      d.modrm();
      const s = op & 1 ? osz : 8;
      const m = SHIFT[d.reg & 7];
      if ((d.reg & 7) === 6) throw new Bad();
      if (op >= 0xd2) return `${m} ${d.Es(s)}, cl`;
      if (op >= 0xd0) return `${m} ${d.Es(s)}, 1`;
      const i = d.imm(1, 8);
      return `${m} ${d.Es(s)}, ${i === "0x1" ? "strict byte " : ""}${i}`;
    }
    case 0xc2:
      return `ret ${hx(d.u16())}`;
    case 0xc3:
      return "ret";
    case 0xc6:
    case 0xc7: {
      d.modrm();
      if (d.reg & 7) throw new Bad();
      const s = op === 0xc6 ? 8 : osz;
      const i = d.imm(s === 8 ? 1 : s === 16 ? 2 : 4, s);
      if (d.mod === 3 && s === 64 && BigInt(i) < 1n << 32n) throw new Bad(); // not nasm's choice
      return `mov ${d.Es(s)}, ${i}`;
    }
    case 0xc8: {
      const a = d.u16();
      return `enter ${hx(a)}, ${hx(d.u8())}`;
    }
    case 0xc9:
      return "leave";
    case 0xca:
      return `retf ${hx(d.u16())}`;
    case 0xcb:
      return osz === 64 ? "retfq" : osz === d.defaultOsz ? "retf" : osz === 16 ? "retfw" : "retfd";
    case 0xcc:
      return "int3";
    case 0xcd:
      return `int ${hx(d.u8())}`;
    case 0xce:
      no64();
      return "into";
    case 0xcf:
      return osz === 64 ? "iretq" : osz === d.defaultOsz ? "iret" : osz === 16 ? "iretw" : "iretd";
    case 0xd7:
      return "xlatb";
    case 0xe0:
    case 0xe1:
    case 0xe2:
    case 0xe3: {
      const t = hx(d.rel(1, d.osz64, true));
      if (op === 0xe3) {
        const a = d.asz;
        return `${a === 16 ? "jcxz" : a === 32 ? "jecxz" : "jrcxz"} ${t}`;
      }
      const m = ["loopne", "loope", "loop"][op - 0xe0];
      return d.asz === bits ? `${m} ${t}` : `${m} ${t}, ${regName(1, d.asz, false)}`;
    }
    case 0xe4:
    case 0xe5:
      return `in ${regName(0, op & 1 ? Math.min(osz, 32) : 8, false)}, ${hx(d.u8())}`;
    case 0xe6:
    case 0xe7:
      return `out ${hx(d.u8())}, ${regName(0, op & 1 ? Math.min(osz, 32) : 8, false)}`;
    case 0xec:
    case 0xed:
      return `in ${regName(0, op & 1 ? Math.min(osz, 32) : 8, false)}, dx`;
    case 0xee:
    case 0xef:
      return `out dx, ${regName(0, op & 1 ? Math.min(osz, 32) : 8, false)}`;
    case 0xe8:
    case 0xe9: {
      const s = d.osz64;
      const n = s === 16 ? 2 : 4;
      const t = d.rel(n, s);
      const kw = bits !== 64 && s !== d.defaultOsz ? SIZE_NAME[s] + " " : "";
      if (op === 0xe8) return `call ${kw}${hx(t)}`;
      return `jmp ${kw || nearKw(d, t, n, 1, s)}${hx(t)}`;
    }
    case 0xeb:
      return `jmp ${hx(d.rel(1, d.osz64))}`;
    case 0xf1:
      return "int1";
    case 0xf4:
      return "hlt";
    case 0xf5:
      return "cmc";
    case 0xf6:
    case 0xf7: {
      d.modrm();
      const s = op === 0xf6 ? 8 : osz;
      const n = d.reg & 7;
      if (n === 0) return `test ${d.Es(s)}, ${d.imm(s === 8 ? 1 : s === 16 ? 2 : 4, s)}`;
      if (n === 1) throw new Bad();
      const m = ["", "", "not", "neg", "mul", "imul", "div", "idiv"][n];
      return withLock(d, `${m} ${d.Es(s)}`, lockOk() && n < 4);
    }
    case 0xf8:
      return "clc";
    case 0xf9:
      return "stc";
    case 0xfa:
      return "cli";
    case 0xfb:
      return "sti";
    case 0xfc:
      return "cld";
    case 0xfd:
      return "std";
    case 0xfe: {
      d.modrm();
      if ((d.reg & 7) > 1) throw new Bad();
      return withLock(d, `${d.reg & 7 ? "dec" : "inc"} ${d.Es(8)}`, lockOk());
    }
    case 0xff: {
      d.modrm();
      const n = d.reg & 7;
      if (n <= 1) {
        if (d.mod === 3 && bits !== 64) throw new Bad(); // nasm uses 40+r / 48+r
        return withLock(d, `${n ? "dec" : "inc"} ${d.Es(osz)}`, lockOk());
      }
      if (n === 2 || n === 4) {
        const s = d.osz64;
        const m = n === 2 ? "call" : "jmp";
        if (bits === 64 && s !== 64) throw new Bad();
        const kw = d.mod !== 3 && s !== (bits === 64 ? 64 : d.defaultOsz) ? SIZE_NAME[s] + " " : "";
        return `${m} ${kw}${d.E(s)}`;
      }
      if (n === 3 || n === 5) {
        if (d.mod === 3) throw new Bad();
        const m = n === 3 ? "call" : "jmp";
        const s = osz;
        const def = bits === 64 ? 64 : d.defaultOsz;
        return `${m} far ${s !== def ? SIZE_NAME[s] + " " : ""}${d.memText}`;
      }
      if (n === 6) return `push ${d.Es(d.osz64)}`;
      throw new Bad();
    }
  }
  throw new Bad();
}

/** `near ` when a rel16/32 branch target is within reach of the short form nasm would pick. */
function nearKw(d: D, target: bigint, n: number, opLen: number, size: number): string {
  const prefixes = d.p - d.start - n - opLen;
  const shortEnd = d.addr + BigInt(prefixes + 2);
  const dist = BigInt.asIntN(size === 16 ? 16 : 64, target - shortEnd);
  return dist >= -128n && dist <= 127n ? "near " : "";
}

function withLock(d: D, text: string, ok: boolean): string {
  if (d.lock && !ok) throw new Bad();
  return d.lock ? "lock " + text : text;
}

function strOp(d: D, m: string, size: number): string {
  const suffix = { 8: "b", 16: "w", 32: "d", 64: "q" }[size];
  let t = m + suffix;
  if (d.seg >= 0) {
    // a word either way; on STOS/SCAS/INS (ES:rDI only) the override has no effect
    t = `${SEG[d.seg]} ${t}`;
    d.segUsed = true;
  }
  const cmp = m === "cmps" || m === "scas";
  if (d.rep === 0xf3) t = (cmp ? "repe " : "rep ") + t;
  else if (d.rep === 0xf2) {
    if (!cmp) throw new Bad();
    t = "repne " + t;
  }
  if (d.asz !== d.bits) t = `a${d.asz} ${t}`;
  return t;
}

function decode0f(d: D): string {
  const bits = d.bits;
  const op = d.u8();
  const osz = d.osz;
  if (op >= 0x80 && op <= 0x8f) {
    const s = d.osz64;
    const n = s === 16 ? 2 : 4;
    const t = d.rel(n, s);
    const kw = bits !== 64 && s !== d.defaultOsz ? SIZE_NAME[s] + " " : "";
    return `j${CC[op & 15]} ${kw || nearKw(d, t, n, 2, s)}${hx(t)}`;
  }
  if (op >= 0x40 && op <= 0x4f) {
    d.modrm();
    return `cmov${CC[op & 15]} ${d.G(osz)}, ${d.E(osz)}`;
  }
  if (op >= 0x90 && op <= 0x9f) {
    d.modrm();
    if (d.reg & 7) throw new Bad(); // SETcc is /0
    return `set${CC[op & 15]} ${d.E(8)}`;
  }
  if (op >= 0xc8 && op <= 0xcf) {
    const r = (op & 7) | (d.rex & 1 ? 8 : 0);
    if (osz === 16) throw new Bad();
    return `bswap ${regName(r, osz, false)}`;
  }
  switch (op) {
    case 0x00: {
      d.modrm();
      const n = d.reg & 7;
      const m = ["sldt", "str", "lldt", "ltr"][n];
      if (!m) throw new Bad();
      if (d.mod === 3 && n < 2) return `${m} ${d.E(osz)}`;
      return `${m} ${d.E(16)}`;
    }
    case 0x01: {
      const peek = d.b[d.p];
      if (peek === 0xf8 && bits === 64) {
        d.u8();
        return "swapgs";
      }
      d.modrm();
      const n = d.reg & 7;
      if (n === 4) return `smsw ${d.mod === 3 ? d.E(osz) : d.memText}`;
      if (n === 6) return `lmsw ${d.E(16)}`;
      if (d.mod === 3) throw new Bad();
      const m = ["sgdt", "sidt", "lgdt", "lidt", "", "", "", "invlpg"][n];
      if (!m) throw new Bad();
      return `${m} ${d.memText}`;
    }
    case 0x05:
      return "syscall";
    case 0x06:
      return "clts";
    case 0x07:
      return "sysret";
    case 0x08:
      return "invd";
    case 0x09:
      return "wbinvd";
    case 0x0b:
      return "ud2";
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23: {
      d.modrm();
      const g = regName(d.rm, bits === 64 ? 64 : 32, false);
      let n = d.reg;
      const cr = op === 0x20 || op === 0x22;
      if (cr && d.lock && bits !== 64 && n === 0) {
        n = 8;
        d.lock = false;
      }
      if (d.lock) throw new Bad();
      if (cr && ![0, 2, 3, 4, 8].includes(n)) throw new Bad();
      if (!cr && n > 7) throw new Bad();
      const sp = `${cr ? "cr" : "dr"}${n}`;
      return op & 2 ? `mov ${sp}, ${g}` : `mov ${g}, ${sp}`;
    }
    case 0x30:
      return "wrmsr";
    case 0x31:
      return "rdtsc";
    case 0x32:
      return "rdmsr";
    case 0x33:
      return "rdpmc";
    case 0x34:
      return "sysenter";
    case 0x35:
      return "sysexit";
    case 0xa0:
      return "push fs";
    case 0xa1:
      return "pop fs";
    case 0xa8:
      return "push gs";
    case 0xa9:
      return "pop gs";
    case 0xa2:
      return "cpuid";
    case 0xaa:
      return "rsm";
    case 0xa3:
    case 0xab:
    case 0xb3:
    case 0xbb: {
      d.modrm();
      const m = ["bt", "bts", "btr", "btc"][(op >> 3) & 3];
      return withLock(d, `${m} ${d.E(osz)}, ${d.G(osz)}`, d.lock && d.mod !== 3 && op !== 0xa3);
    }
    case 0xa4:
    case 0xa5:
    case 0xac:
    case 0xad: {
      d.modrm();
      const m = op < 0xac ? "shld" : "shrd";
      const c = op & 1 ? "cl" : d.imm(1, 8);
      return `${m} ${d.E(osz)}, ${d.G(osz)}, ${c}`;
    }
    case 0xae: {
      const peek = d.b[d.p];
      if (peek === 0xe8 || peek === 0xf0 || peek === 0xf8) {
        d.u8();
        return peek === 0xe8 ? "lfence" : peek === 0xf0 ? "mfence" : "sfence";
      }
      d.modrm();
      if ((d.reg & 7) !== 7 || d.mod === 3) throw new Bad();
      return `clflush ${d.memText}`;
    }
    case 0xaf:
      d.modrm();
      return `imul ${d.G(osz)}, ${d.E(osz)}`;
    case 0xb0:
    case 0xb1:
    case 0xc0:
    case 0xc1: {
      d.modrm();
      const s = op & 1 ? osz : 8;
      return withLock(
        d,
        `${op < 0xc0 ? "cmpxchg" : "xadd"} ${d.E(s)}, ${d.G(s)}`,
        d.lock && d.mod !== 3,
      );
    }
    case 0xb6:
    case 0xb7:
    case 0xbe:
    case 0xbf: {
      d.modrm();
      const m = op < 0xbe ? "movzx" : "movsx";
      if (op & 1 && osz === 16) throw new Bad(); // nasm has no movzx r16, r/m16
      return `${m} ${d.G(osz)}, ${d.Es(op & 1 ? 16 : 8)}`;
    }
    case 0xba: {
      d.modrm();
      const n = d.reg & 7;
      if (n < 4) throw new Bad();
      const m = ["bt", "bts", "btr", "btc"][n - 4];
      return withLock(d, `${m} ${d.Es(osz)}, ${d.imm(1, 8)}`, d.lock && d.mod !== 3 && n > 4);
    }
    case 0xbc:
    case 0xbd:
      d.modrm();
      return `${op === 0xbc ? "bsf" : "bsr"} ${d.G(osz)}, ${d.E(osz)}`;
    case 0xc7: {
      d.modrm();
      if ((d.reg & 7) !== 1 || d.mod === 3) throw new Bad();
      return withLock(d, `${d.rex & 8 ? "cmpxchg16b" : "cmpxchg8b"} ${d.memText}`, d.lock);
    }
  }
  throw new Bad();
}

/** `db 0x0f`: a byte outside the subset, two hex digits as ndisasm prints it. */
function dbText(b: number): string {
  return `db 0x${b.toString(16).padStart(2, "0")}`;
}

function toBig(a: number | bigint | undefined): bigint {
  const v = typeof a === "bigint" ? a : BigInt(Number.isFinite(a) ? Math.trunc(a ?? 0) : 0);
  return BigInt.asUintN(64, v); // negative numbers are 64-bit addresses seen as signed
}

interface Suppress {
  o16?: boolean;
  a16?: boolean;
  rex?: "all" | "w";
}

interface Decoded {
  length: number;
  text: string;
  d: D;
}

function decodeAt(
  bytes: Uint8Array,
  offset: number,
  bits: 16 | 32 | 64,
  addr: bigint,
  sup: Suppress,
): Decoded | null {
  const d = new D(bytes, offset, bits, addr, sup);
  try {
    let text = decode(d);
    if (d.ripRel) {
      const end = addr + BigInt(d.p - offset);
      const target = BigInt.asUintN(64, end + d.ripDisp);
      const mem = `[rel ${d.seg >= 0 ? SEG[d.seg] + ":" : ""}${hx(target)}]`;
      text = text.replace("RIP", mem);
    }
    if (d.rep && !/^(rep|repe|repne|pause|a16|a32|a64|[c-gs]s)\b/.test(text)) throw new Bad();
    if (d.lock && !text.startsWith("lock ")) throw new Bad();
    if (d.seg >= 0 && !text.includes(":") && !d.segUsed) {
      // an override with no memory operand to apply to: nasm's prefix word (`cs nop`)
      text = text.startsWith("lock ")
        ? `lock ${SEG[d.seg]} ${text.slice(5)}`
        : `${SEG[d.seg]} ${text}`;
    }
    return { length: d.p - offset, text, d };
  } catch (e) {
    if (!(e instanceof Bad) && !(e instanceof RangeError)) throw e;
    return null;
  }
}

/**
 * Disassembles the instruction at `offset` of `bytes`. Bytes outside the subset (or a truncated
 * instruction) give `db 0x..` with length 1; an offset past the end gives length 0. An operand- or
 * address-size prefix, or REX.W, that does not change the instruction is shown as nasm's `o16`,
 * `o32`, `o64`, `a16` or `a32` prefix word; a REX prefix with no effect at all gives `db`.
 *
 * @example
 * ```ts
 * disassembleOne(new Uint8Array([0x0f, 0x22, 0xe0]), 0, { bits: 32 }); // { length: 3, text: "mov cr4, eax" }
 * ```
 */
export function disassembleOne(
  bytes: Uint8Array,
  offset: number,
  options: DisasmOptions,
): { length: number; text: string } {
  const bits = options.bits;
  const addr = toBig(options.address) + BigInt(offset);
  const r = decodeAt(bytes, offset, bits, addr, {});
  if (!r) {
    const b = bytes[offset];
    return { length: b === undefined ? 0 : 1, text: b === undefined ? "" : dbText(b) };
  }
  const same = (sup: Suppress) => {
    const alt = decodeAt(bytes, offset, bits, addr, sup);
    return alt !== null && alt.text === r.text && alt.length === r.length;
  };
  const words: string[] = [];
  if (r.d.hadRex) {
    const wOnly = r.d.rex === 0x48;
    if (!wOnly && same({ rex: "all" })) return { length: 1, text: dbText(bytes[offset]) };
    if (r.d.rex & 8 && same({ rex: "w" })) words.push("o64");
  }
  if (r.d.o16 && same({ o16: true })) words.push(bits === 16 ? "o32" : "o16");
  if (r.d.a16 && same({ a16: true })) words.push(bits === 32 ? "a16" : "a32");
  return { length: r.length, text: words.length ? `${words.join(" ")} ${r.text}` : r.text };
}

/**
 * Disassembles a whole buffer, one line per instruction.
 *
 * @example
 * ```ts
 * disassemble(new Uint8Array([0xf3, 0xa5, 0xc3]), { bits: 32, address: 0x1000 }).map((l) => l.text);
 * // ["rep movsd", "ret"]
 * ```
 */
export function disassemble(bytes: Uint8Array, options: DisasmOptions): DisasmLine[] {
  const out: DisasmLine[] = [];
  const base = toBig(options.address);
  let off = 0;
  while (off < bytes.length) {
    const { length, text } = disassembleOne(bytes, off, options);
    out.push({
      address: base + BigInt(off),
      offset: off,
      length,
      bytes: bytes.slice(off, off + length),
      text,
    });
    off += length;
  }
  return out;
}

/**
 * Text of the instruction at the start of `bytes` (shape of the CPU core's trace disassembler hook,
 * `X86Disassembler` in `cpu.ts`).
 *
 * @example
 * ```ts
 * disassembleText(new Uint8Array([0x0f, 0x22, 0xe0]), 0x10002a, 32); // "mov cr4, eax"
 * ```
 */
export function disassembleText(
  bytes: Uint8Array,
  address: number | bigint,
  bits: 16 | 32 | 64,
): string {
  return disassembleOne(bytes, 0, { bits, address }).text;
}
