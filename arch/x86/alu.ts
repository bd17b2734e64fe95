/**
 * x86 arithmetic: the ALU group, INC/DEC, shifts and rotates, multiply and divide, with exact
 * EFLAGS. 8/16/32-bit operations record lazy flags; 64-bit operations (int32 pairs) compute
 * flags eagerly. Undefined flags follow what Unicorn/QEMU produce (AF=0 after logic and
 * shifts; SF/ZF/PF from the low half after MUL), so the golden vectors match.
 *
 * @example
 * ```ts ignore
 * import { alu } from "./alu.ts";
 * alu(cpu, 0, 4, 1, 2); // ADD: 3, flags recorded lazily
 * ```
 *
 * @module
 */

import type { X86Cpu } from "./cpu.ts";
import {
  ARITH_FLAGS,
  FLAG_AF,
  FLAG_CF,
  FLAG_OF,
  FLAG_PF,
  FLAG_SF,
  FLAG_ZF,
  LF_ADC,
  LF_ADD,
  LF_DEC,
  LF_INC,
  LF_LOGIC,
  LF_SBB,
  LF_SUB,
  PARITY,
} from "./flags.ts";

/** Divide error vector. */
const EXC_DE = 0;

/** Value mask for an operand size in bytes (1, 2, 4). */
export function sizeMask(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
}

/** Compute EFLAGS from the lazy state and clear it. */
export function materializeFlags(cpu: X86Cpu): void {
  const op = cpu.lfOp;
  if (op === 0) return;
  const bits = cpu.lfBits;
  const sh = bits - 1;
  const a = cpu.lfA, b = cpu.lfB, r = cpu.lfRes;
  const au = a >>> 0, bu = b >>> 0, ru = r >>> 0;
  let f = cpu.flags & ~ARITH_FLAGS;
  let cf = 0, of = 0, af = 0;
  switch (op) {
    case LF_ADD:
      cf = ru < au ? 1 : 0;
      of = (((a ^ r) & (b ^ r)) >>> sh) & 1;
      af = (a ^ b ^ r) & 0x10;
      break;
    case LF_ADC:
      cf = (cpu.lfCin ? ru <= au : ru < au) ? 1 : 0;
      of = (((a ^ r) & (b ^ r)) >>> sh) & 1;
      af = (a ^ b ^ r) & 0x10;
      break;
    case LF_SUB:
      cf = au < bu ? 1 : 0;
      of = (((a ^ b) & (a ^ r)) >>> sh) & 1;
      af = (a ^ b ^ r) & 0x10;
      break;
    case LF_SBB:
      cf = (cpu.lfCin ? au <= bu : au < bu) ? 1 : 0;
      of = (((a ^ b) & (a ^ r)) >>> sh) & 1;
      af = (a ^ b ^ r) & 0x10;
      break;
    case LF_LOGIC:
      break;
    case LF_INC:
      cf = cpu.flags & FLAG_CF;
      of = (((a ^ r) & (b ^ r)) >>> sh) & 1;
      af = (a ^ b ^ r) & 0x10;
      break;
    case LF_DEC:
      cf = cpu.flags & FLAG_CF;
      of = (((a ^ b) & (a ^ r)) >>> sh) & 1;
      af = (a ^ b ^ r) & 0x10;
      break;
  }
  f |= cf | (of << 11) | af;
  if (r === 0) f |= FLAG_ZF;
  f |= ((r >>> sh) & 1) << 7;
  f |= PARITY[r & 0xff] << 2;
  cpu.flags = f;
  cpu.lfOp = 0;
}

/** CF of the pending lazy operation (without materializing the other flags). */
export function lazyCarry(cpu: X86Cpu): number {
  const a = cpu.lfA >>> 0, b = cpu.lfB >>> 0, r = cpu.lfRes >>> 0;
  switch (cpu.lfOp) {
    case LF_ADD:
      return r < a ? 1 : 0;
    case LF_ADC:
      return (cpu.lfCin ? r <= a : r < a) ? 1 : 0;
    case LF_SUB:
      return a < b ? 1 : 0;
    case LF_SBB:
      return (cpu.lfCin ? a <= b : a < b) ? 1 : 0;
    case LF_LOGIC:
      return 0;
    default:
      return cpu.flags & FLAG_CF; // INC/DEC keep CF
  }
}

/** Set the six arithmetic flags eagerly from a result and explicit CF/OF/AF. */
export function setResultFlags(
  cpu: X86Cpu,
  r: number,
  size: number,
  cf: number,
  of: number,
  af: number,
): void {
  cpu.lfOp = 0;
  const sh = size * 8 - 1;
  const m = sizeMask(size);
  let f = (cpu.flags & ~ARITH_FLAGS) | (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0) |
    (af ? FLAG_AF : 0);
  if ((r & m) === 0) f |= FLAG_ZF;
  if ((r >>> sh) & 1) f |= FLAG_SF;
  if (PARITY[r & 0xff]) f |= FLAG_PF;
  cpu.flags = f;
}

/** Set flags eagerly for a 64-bit result (lo/hi). */
export function setResultFlags64(
  cpu: X86Cpu,
  lo: number,
  hi: number,
  cf: number,
  of: number,
  af: number,
): void {
  cpu.lfOp = 0;
  let f = (cpu.flags & ~ARITH_FLAGS) | (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0) |
    (af ? FLAG_AF : 0);
  if (lo === 0 && hi === 0) f |= FLAG_ZF;
  if (hi < 0) f |= FLAG_SF;
  if (PARITY[lo & 0xff]) f |= FLAG_PF;
  cpu.flags = f;
}

/**
 * ALU operation `op` (0 ADD, 1 OR, 2 ADC, 3 SBB, 4 AND, 5 SUB, 6 XOR, 7 CMP) on operands
 * masked to `size` bytes (1, 2, 4). Returns the result (CMP returns the difference).
 */
export function alu(cpu: X86Cpu, op: number, size: number, a: number, b: number): number {
  let r: number, lf: number;
  switch (op) {
    case 0:
      r = a + b, lf = LF_ADD;
      break;
    case 1:
      r = a | b, lf = LF_LOGIC;
      break;
    case 2: {
      const c = cpu.cf();
      cpu.lfCin = c;
      r = a + b + c, lf = LF_ADC;
      break;
    }
    case 3: {
      const c = cpu.cf();
      cpu.lfCin = c;
      r = a - b - c, lf = LF_SBB;
      break;
    }
    case 4:
      r = a & b, lf = LF_LOGIC;
      break;
    case 6:
      r = a ^ b, lf = LF_LOGIC;
      break;
    default:
      r = a - b, lf = LF_SUB;
  }
  r = size === 4 ? r | 0 : r & (size === 1 ? 0xff : 0xffff);
  cpu.lfOp = lf;
  cpu.lfA = a;
  cpu.lfB = b;
  cpu.lfRes = r;
  cpu.lfBits = size * 8;
  return r;
}

/** 64-bit ALU operation (same op numbers); returns the low half, high half in `cpu.hi`. */
export function alu64(
  cpu: X86Cpu,
  op: number,
  aL: number,
  aH: number,
  bL: number,
  bH: number,
): number {
  let lo: number, hi: number;
  switch (op) {
    case 1:
    case 4:
    case 6:
      if (op === 1) lo = aL | bL, hi = aH | bH;
      else if (op === 4) lo = aL & bL, hi = aH & bH;
      else lo = aL ^ bL, hi = aH ^ bH;
      setResultFlags64(cpu, lo, hi, 0, 0, 0);
      break;
    case 0:
    case 2: {
      const c = op === 2 ? cpu.cf() : 0;
      const s = (aL >>> 0) + (bL >>> 0) + c;
      lo = s | 0;
      const h = (aH >>> 0) + (bH >>> 0) + (s > 0xffffffff ? 1 : 0);
      hi = h | 0;
      setResultFlags64(
        cpu,
        lo,
        hi,
        h > 0xffffffff ? 1 : 0,
        ((aH ^ hi) & (bH ^ hi)) < 0 ? 1 : 0,
        (aL ^ bL ^ lo) & 0x10,
      );
      break;
    }
    default: {
      const c = op === 3 ? cpu.cf() : 0;
      const s = (aL >>> 0) - (bL >>> 0) - c;
      lo = s | 0;
      const h = (aH >>> 0) - (bH >>> 0) - (s < 0 ? 1 : 0);
      hi = h | 0;
      setResultFlags64(
        cpu,
        lo,
        hi,
        h < 0 ? 1 : 0,
        ((aH ^ bH) & (aH ^ hi)) < 0 ? 1 : 0,
        (aL ^ bL ^ lo) & 0x10,
      );
    }
  }
  cpu.hi = hi;
  return lo;
}

/** INC (dec=false) or DEC of a 1/2/4-byte value; CF is preserved. */
export function incDec(cpu: X86Cpu, size: number, a: number, dec: boolean): number {
  if (cpu.lfOp !== 0) cpu.flags = (cpu.flags & ~FLAG_CF) | lazyCarry(cpu);
  const r = size === 4 ? (dec ? a - 1 : a + 1) | 0 : (dec ? a - 1 : a + 1) & sizeMask(size);
  cpu.lfOp = dec ? LF_DEC : LF_INC;
  cpu.lfA = a;
  cpu.lfB = 1;
  cpu.lfRes = r;
  cpu.lfBits = size * 8;
  return r;
}

/** INC/DEC of a 64-bit value; returns low half, high in `cpu.hi`. */
export function incDec64(cpu: X86Cpu, aL: number, aH: number, dec: boolean): number {
  const cf = cpu.cf();
  const lo = alu64(cpu, dec ? 5 : 0, aL, aH, 1, 0);
  cpu.flags = (cpu.flags & ~FLAG_CF) | cf;
  return lo;
}

/** Logic flags for TEST / results of AND-like operations. */
export function logicFlags(cpu: X86Cpu, size: number, r: number): void {
  cpu.lfOp = LF_LOGIC;
  cpu.lfA = 0;
  cpu.lfB = 0;
  cpu.lfRes = size === 4 ? r | 0 : r & sizeMask(size);
  cpu.lfBits = size * 8;
}

/** Divide error. */
export function divideError(cpu: X86Cpu): never {
  return cpu.fault(EXC_DE);
}

/**
 * Shift/rotate group (0 ROL, 1 ROR, 2 RCL, 3 RCR, 4 SHL, 5 SHR, 6 SAL, 7 SAR) on a 1/2/4-byte
 * value. A masked count of 0 changes nothing (flags included).
 */
export function shift(cpu: X86Cpu, op: number, size: number, v: number, cnt: number): number {
  const count = cnt & 0x1f;
  if (count === 0) return v;
  const bits = size * 8;
  const sh = bits - 1;
  const m = sizeMask(size);
  v = size === 4 ? v | 0 : v & m;
  let r: number;
  if (op <= 3) {
    const cfIn = cpu.cf(); // materializes: rotates only change CF and OF
    let cf: number;
    if (op === 0) {
      const c = count % bits;
      r = c === 0 ? v : ((v << c) | (v >>> (bits - c))) & m;
      cf = r & 1;
    } else if (op === 1) {
      const c = count % bits;
      r = c === 0 ? v : ((v >>> c) | (v << (bits - c))) & m;
      cf = (r >>> sh) & 1;
    } else {
      const c = count % (bits + 1);
      if (c === 0) return v;
      r = v;
      cf = cfIn;
      for (let i = 0; i < c; i++) {
        if (op === 2) {
          const out = (r >>> sh) & 1;
          r = ((r << 1) | cf) & m;
          cf = out;
        } else {
          const out = r & 1;
          r = ((r >>> 1) | (cf << sh)) & m;
          cf = out;
        }
      }
    }
    if (size === 4) r |= 0;
    const of = ((v ^ r) >>> sh) & 1;
    cpu.flags = (cpu.flags & ~(FLAG_CF | FLAG_OF)) | cf | (of << 11);
    return r;
  }
  let src1: number;
  if (op === 5) {
    src1 = (v >>> (count - 1)) & m;
    r = src1 >>> 1;
  } else if (op === 7) {
    const sv = size === 1 ? (v << 24) >> 24 : size === 2 ? (v << 16) >> 16 : v;
    src1 = (sv >> Math.min(count - 1, 31)) & m;
    r = (sv >> Math.min(count, 31)) & m;
    setResultFlags(cpu, r, size, src1 & 1, 0, 0);
    return size === 4 ? r | 0 : r;
  } else {
    src1 = count - 1 < bits ? (v << (count - 1)) & m : 0;
    r = (src1 << 1) & m;
    const cf = (src1 >>> sh) & 1;
    setResultFlags(cpu, r, size, cf, ((src1 ^ r) >>> sh) & 1, 0);
    return size === 4 ? r | 0 : r;
  }
  setResultFlags(cpu, r, size, src1 & 1, ((src1 ^ r) >>> sh) & 1, 0);
  return size === 4 ? r | 0 : r;
}

const big = (lo: number, hi: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** 64-bit shift/rotate (cold path, BigInt); returns low half, high half in `cpu.hi`. */
export function shift64(cpu: X86Cpu, op: number, lo: number, hi: number, cnt: number): number {
  const count = BigInt(cnt & 0x3f);
  if (count === 0n) {
    cpu.hi = hi;
    return lo;
  }
  const M = (1n << 64n) - 1n;
  const v = big(lo, hi);
  let r: bigint;
  const msb = (x: bigint) => Number((x >> 63n) & 1n);
  if (op <= 3) {
    let cf = cpu.cf();
    if (op === 0) {
      r = ((v << count) | (v >> (64n - count))) & M;
      cf = Number(r & 1n);
    } else if (op === 1) {
      r = ((v >> count) | (v << (64n - count))) & M;
      cf = msb(r);
    } else {
      r = v;
      for (let i = 0n; i < count; i++) {
        if (op === 2) {
          const out = msb(r);
          r = ((r << 1n) | BigInt(cf)) & M;
          cf = out;
        } else {
          const out = Number(r & 1n);
          r = (r >> 1n) | (BigInt(cf) << 63n);
          cf = out;
        }
      }
    }
    cpu.flags = (cpu.flags & ~(FLAG_CF | FLAG_OF)) | cf | (msb(v ^ r) << 11);
  } else {
    let src1: bigint;
    if (op === 5) {
      src1 = v >> (count - 1n);
      r = src1 >> 1n;
      setResultFlags64(
        cpu,
        Number(r & 0xffffffffn) | 0,
        Number(r >> 32n) | 0,
        Number(src1 & 1n),
        msb(src1 ^ r),
        0,
      );
    } else if (op === 7) {
      const sv = BigInt.asIntN(64, v);
      src1 = BigInt.asUintN(64, sv >> (count - 1n));
      r = BigInt.asUintN(64, sv >> count);
      setResultFlags64(
        cpu,
        Number(r & 0xffffffffn) | 0,
        Number(r >> 32n) | 0,
        Number(src1 & 1n),
        0,
        0,
      );
    } else {
      src1 = (v << (count - 1n)) & M;
      r = (src1 << 1n) & M;
      setResultFlags64(
        cpu,
        Number(r & 0xffffffffn) | 0,
        Number(r >> 32n) | 0,
        msb(src1),
        msb(src1 ^ r),
        0,
      );
    }
  }
  cpu.hi = Number(r >> 32n) | 0;
  return Number(r & 0xffffffffn) | 0;
}

/** SHLD (left) / SHRD of `size` bytes (2, 4, 8; 8 uses `dHi`/`sHi`); high half in `cpu.hi`. */
export function doubleShift(
  cpu: X86Cpu,
  left: boolean,
  size: number,
  d: number,
  dHi: number,
  s: number,
  sHi: number,
  cnt: number,
): number {
  const W = BigInt(size * 8);
  const c = BigInt(cnt & (size === 8 ? 0x3f : 0x1f));
  const M = (1n << W) - 1n;
  const D = (size === 8 ? big(d, dHi) : BigInt(d >>> 0)) & M;
  const S = (size === 8 ? big(s, sHi) : BigInt(s >>> 0)) & M;
  if (c === 0n) {
    cpu.hi = dHi;
    return d;
  }
  let r: bigint, tmp: bigint, cf: number;
  if (size === 2 && c > 16n) {
    // Counts above 16 are undefined for 16-bit operands; like QEMU (and so Unicorn), shift
    // through the 48-bit value D:S:D (SHLD) or D:S:D read the other way (SHRD).
    const cat = left ? (D << 32n) | (S << 16n) | D : D | (S << 16n) | (D << 32n);
    if (left) {
      r = (cat >> (32n - c)) & M;
      tmp = (cat >> (33n - c)) & M;
      cf = Number((tmp >> 15n) & 1n);
    } else {
      r = (cat >> c) & M;
      tmp = (cat >> (c - 1n)) & M;
      cf = Number(tmp & 1n);
    }
  } else if (left) {
    const cat = (D << W) | S;
    r = ((cat << c) >> W) & M;
    tmp = ((cat << (c - 1n)) >> W) & M;
    cf = Number((tmp >> (W - 1n)) & 1n);
  } else {
    const cat = (S << W) | D;
    r = (cat >> c) & M;
    tmp = (cat >> (c - 1n)) & M;
    cf = Number(tmp & 1n);
  }
  const of = Number(((tmp ^ r) >> (W - 1n)) & 1n);
  const lo = Number(r & 0xffffffffn) | 0;
  const hi = Number(r >> 32n) | 0;
  if (size === 8) setResultFlags64(cpu, lo, hi, cf, of, 0);
  else setResultFlags(cpu, lo, size, cf, of, 0);
  cpu.hi = hi;
  return size === 2 ? lo & 0xffff : lo;
}

/** Unsigned 32x32 -> 64 multiply: returns the low half, high half in `cpu.hi`. */
export function mulu32(cpu: X86Cpu, a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  cpu.hi = (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
  return (ll & 0xffff) | (mid << 16);
}

/** Signed 32x32 -> 64 multiply: low half returned, high half in `cpu.hi`. */
export function muls32(cpu: X86Cpu, a: number, b: number): number {
  const lo = mulu32(cpu, a, b);
  cpu.hi = (cpu.hi - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
  return lo;
}

/**
 * Group 3 multiply/divide on the accumulator: op 4 MUL, 5 IMUL, 6 DIV, 7 IDIV with operand
 * `src` (`srcHi` for 64-bit).
 */
export function mulDiv(cpu: X86Cpu, op: number, size: number, src: number, srcHi: number): void {
  const R = cpu.reg;
  if (size === 1) {
    const al = R[0] & 0xff;
    if (op === 4 || op === 5) {
      const p = op === 4 ? al * src : ((al << 24) >> 24) * ((src << 24) >> 24);
      const ax = p & 0xffff;
      R[0] = (R[0] & ~0xffff) | ax;
      const over = op === 4 ? ax >> 8 !== 0 : ((ax << 24) >> 24) !== p;
      setResultFlags(cpu, ax, 1, over ? 1 : 0, over ? 1 : 0, 0);
      return;
    }
    const ax = R[0] & 0xffff;
    if (src === 0) divideError(cpu);
    let q: number, rem: number;
    if (op === 6) {
      q = Math.floor(ax / src), rem = ax % src;
      if (q > 0xff) divideError(cpu);
    } else {
      const n = (ax << 16) >> 16, d = (src << 24) >> 24;
      q = Math.trunc(n / d), rem = n % d;
      if (q > 127 || q < -128) divideError(cpu);
    }
    R[0] = (R[0] & ~0xffff) | (q & 0xff) | ((rem & 0xff) << 8);
    return;
  }
  if (size === 2) {
    const ax = R[0] & 0xffff;
    if (op === 4 || op === 5) {
      const p = op === 4 ? ax * src : ((ax << 16) >> 16) * ((src << 16) >> 16);
      R[0] = (R[0] & ~0xffff) | (p & 0xffff);
      R[2] = (R[2] & ~0xffff) | ((p >> 16) & 0xffff);
      const over = op === 4 ? (p >>> 16) !== 0 : ((p << 16) >> 16) !== p;
      setResultFlags(cpu, p, 2, over ? 1 : 0, over ? 1 : 0, 0);
      return;
    }
    if (src === 0) divideError(cpu);
    const n = ((R[2] & 0xffff) << 16) | ax;
    let q: number, rem: number;
    if (op === 6) {
      q = Math.floor((n >>> 0) / src), rem = (n >>> 0) % src;
      if (q > 0xffff) divideError(cpu);
    } else {
      const d = (src << 16) >> 16;
      q = Math.trunc(n / d), rem = n % d;
      if (q > 32767 || q < -32768) divideError(cpu);
    }
    R[0] = (R[0] & ~0xffff) | (q & 0xffff);
    R[2] = (R[2] & ~0xffff) | (rem & 0xffff);
    return;
  }
  if (size === 4) {
    if (op === 4 || op === 5) {
      const lo = op === 4 ? mulu32(cpu, R[0], src) : muls32(cpu, R[0], src);
      const hi = cpu.hi;
      R[0] = lo, R[2] = hi;
      cpu.regHi[0] = 0, cpu.regHi[2] = 0;
      const over = op === 4 ? hi !== 0 : hi !== (lo >> 31);
      setResultFlags(cpu, lo, 4, over ? 1 : 0, over ? 1 : 0, 0);
      return;
    }
    if (src === 0) divideError(cpu);
    let q: bigint, rem: bigint;
    if (op === 6) {
      const n = big(R[0], R[2]), d = BigInt(src >>> 0);
      q = n / d, rem = n % d;
      if (q > 0xffffffffn) divideError(cpu);
    } else {
      const n = BigInt.asIntN(64, big(R[0], R[2])), d = BigInt(src | 0);
      q = n / d, rem = n % d;
      if (q > 0x7fffffffn || q < -0x80000000n) divideError(cpu);
    }
    R[0] = Number(BigInt.asIntN(32, q)), R[2] = Number(BigInt.asIntN(32, rem));
    cpu.regHi[0] = 0, cpu.regHi[2] = 0;
    return;
  }
  // 64-bit
  const a = big(R[0], cpu.regHi[0]), s = big(src, srcHi);
  const set = (r: number, v: bigint) => {
    const u = BigInt.asUintN(64, v);
    R[r] = Number(u & 0xffffffffn) | 0;
    cpu.regHi[r] = Number(u >> 32n) | 0;
  };
  if (op === 4 || op === 5) {
    const p = op === 4 ? a * s : BigInt.asIntN(64, a) * BigInt.asIntN(64, s);
    set(0, p);
    set(2, p >> 64n);
    const over = op === 4 ? (p >> 64n) !== 0n : BigInt.asIntN(64, p) !== p;
    setResultFlags64(cpu, R[0], cpu.regHi[0], over ? 1 : 0, over ? 1 : 0, 0);
    return;
  }
  if (s === 0n) divideError(cpu);
  const n128 = (big(R[2], cpu.regHi[2]) << 64n) | a;
  let q: bigint, rem: bigint;
  if (op === 6) {
    q = n128 / s, rem = n128 % s;
    if (q >> 64n !== 0n) divideError(cpu);
  } else {
    const n = BigInt.asIntN(128, n128), d = BigInt.asIntN(64, s);
    q = n / d, rem = n % d;
    if (BigInt.asIntN(64, q) !== q) divideError(cpu);
  }
  set(0, q);
  set(2, rem);
}

/**
 * Two/three-operand IMUL truncated to `size` (2, 4, 8); CF=OF when the product does not fit.
 * Returns the low half (high half of 64-bit results in `cpu.hi`).
 */
export function imulTrunc(
  cpu: X86Cpu,
  size: number,
  a: number,
  aHi: number,
  b: number,
  bHi: number,
): number {
  if (size === 2) {
    const p = ((a << 16) >> 16) * ((b << 16) >> 16);
    const r = p & 0xffff;
    const over = ((r << 16) >> 16) !== p ? 1 : 0;
    setResultFlags(cpu, r, 2, over, over, 0);
    return r;
  }
  if (size === 4) {
    const lo = muls32(cpu, a, b);
    const over = cpu.hi !== (lo >> 31) ? 1 : 0;
    setResultFlags(cpu, lo, 4, over, over, 0);
    return lo;
  }
  const p = BigInt.asIntN(64, big(a, aHi)) * BigInt.asIntN(64, big(b, bHi));
  const t = BigInt.asIntN(64, p);
  const over = t !== p ? 1 : 0;
  const lo = Number(BigInt.asUintN(64, t) & 0xffffffffn) | 0;
  const hi = Number(BigInt.asUintN(64, t) >> 32n) | 0;
  setResultFlags64(cpu, lo, hi, over, over, 0);
  cpu.hi = hi;
  return lo;
}

/** Evaluate condition code `cc` (0-15, the Jcc/SETcc/CMOVcc low nibble). */
export function cond(cpu: X86Cpu, cc: number): boolean {
  if (cpu.lfOp !== 0) {
    if ((cc & 0xe) === 4) return (cpu.lfRes === 0) !== ((cc & 1) === 1);
    materializeFlags(cpu);
  }
  const f = cpu.flags;
  let r: boolean;
  switch (cc >> 1) {
    case 0:
      r = (f & FLAG_OF) !== 0;
      break;
    case 1:
      r = (f & FLAG_CF) !== 0;
      break;
    case 2:
      r = (f & FLAG_ZF) !== 0;
      break;
    case 3:
      r = (f & (FLAG_CF | FLAG_ZF)) !== 0;
      break;
    case 4:
      r = (f & FLAG_SF) !== 0;
      break;
    case 5:
      r = (f & FLAG_PF) !== 0;
      break;
    case 6:
      r = ((f & FLAG_SF) !== 0) !== ((f & FLAG_OF) !== 0);
      break;
    default:
      r = (f & FLAG_ZF) !== 0 || ((f & FLAG_SF) !== 0) !== ((f & FLAG_OF) !== 0);
  }
  return (cc & 1) === 1 ? !r : r;
}
