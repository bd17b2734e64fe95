/**
 * Execution of two-byte (0F xx) x86 opcodes: system instructions (descriptor tables, control
 * and debug registers, MSRs, CPUID, INVLPG, caches), bit operations, CMOVcc/SETcc/Jcc near,
 * MOVZX/MOVSX, SHLD/SHRD, CMPXCHG/XADD/CMPXCHG8B and BSWAP, each gated by the CPU model.
 *
 * @example
 * ```ts ignore
 * import { execute0f } from "./exec_0f.ts";
 * execute0f(cpu, ins); // ins.op = 0x1a2 (CPUID)
 * ```
 *
 * @module
 */

import { SEG_FS, SEG_GS, SEG_LDTR, SEG_SS, SEG_TR } from "./cpu_constants.ts";
import type { X86Cpu } from "./cpu.ts";
import type { Instr } from "./decode.ts";
import { alu, alu64, cond, doubleShift, imulTrunc } from "./alu.ts";
import { ea, jumpRel, readRM, segOf, writeRM } from "./operands.ts";
import {
  cpuid,
  loadSegment,
  loadSystemSegment,
  rdmsrValue,
  readCr,
  writeCr,
  wrmsrValue,
} from "./system.ts";
import { FLAG_CF, FLAG_ZF } from "./flags.ts";

function priv(cpu: X86Cpu): void {
  if (cpu.cpl !== 0) cpu.gp(0);
}

/** Execute a two-byte opcode (`ins.op` = 0x100 | second byte). */
export function execute0f(cpu: X86Cpu, ins: Instr): void {
  const f = cpu.model.features;
  const op = ins.op & 0xff;
  const osz = ins.osz;
  const R = cpu.reg;
  if (op >= 0x80 && op <= 0x8f) {
    if (cond(cpu, op & 15)) jumpRel(cpu, ins, ins.imm);
    return;
  }
  if (op >= 0x90 && op <= 0x9f) {
    writeRM(cpu, ins, 1, cond(cpu, op & 15) ? 1 : 0, 0);
    return;
  }
  if (op >= 0x40 && op <= 0x4f) {
    if (!f.p6) return cpu.notOnModel();
    const v = readRM(cpu, ins, osz), vh = cpu.hi;
    if (cond(cpu, op & 15)) cpu.setReg(osz, ins.reg, ins.rex, v, vh);
    else if (osz === 4) cpu.regHi[ins.reg] = 0;
    return;
  }
  if (op >= 0xc8 && op <= 0xcf) {
    if (!f.i486) return cpu.notOnModel();
    const r = ins.rm;
    const sw = (x: number) =>
      ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | ((x >>> 24) & 0xff);
    if (osz === 8) {
      const lo = R[r], hi = cpu.regHi[r];
      R[r] = sw(hi), cpu.regHi[r] = sw(lo);
    } else if (osz === 4) R[r] = sw(R[r]), cpu.regHi[r] = 0;
    else R[r] &= ~0xffff; // BSWAP r16 is undefined; hardware gives 0 in the low word
    return;
  }
  switch (op) {
    case 0x00:
      return group6(cpu, ins);
    case 0x01:
      return group7(cpu, ins);
    case 0x06:
      priv(cpu);
      cpu.cr0 = (cpu.cr0 & ~8) >>> 0;
      return;
    case 0x08:
    case 0x09:
      if (!f.i486) return cpu.notOnModel();
      priv(cpu);
      return;
    case 0x0b:
      return cpu.undefinedOpcode("UD2");
    case 0x18:
    case 0x19:
    case 0x1a:
    case 0x1b:
    case 0x1c:
    case 0x1d:
    case 0x1e:
    case 0x1f:
      if (!f.p6) return cpu.notOnModel();
      return; // hint NOPs
    case 0x20:
    case 0x22: {
      priv(cpu);
      const n = ins.reg;
      if (op === 0x20) {
        const v = readCr(cpu, n);
        if (cpu.mode64) cpu.setReg(8, ins.rm, 1, v, cpu.hi);
        else cpu.setReg(4, ins.rm, 1, v, 0);
      } else {
        const v = R[ins.rm], vh = cpu.mode64 ? cpu.regHi[ins.rm] : 0;
        writeCr(cpu, n, v, vh);
      }
      return;
    }
    case 0x21:
    case 0x23: {
      priv(cpu);
      const n = ins.reg & 7;
      if ((n === 4 || n === 5) && (cpu.cr4 & 8) !== 0) return cpu.ud();
      const idx = n === 4 ? 6 : n === 5 ? 7 : n;
      if (op === 0x21) {
        const v = cpu.dr[idx];
        cpu.setReg(
          cpu.mode64 ? 8 : 4,
          ins.rm,
          1,
          v % 4294967296 | 0,
          Math.floor(v / 4294967296) | 0,
        );
      } else {
        cpu.dr[idx] = R[ins.rm] >>> 0;
      }
      return;
    }
    case 0x30:
    case 0x32: {
      if (!f.pentium) return cpu.notOnModel();
      priv(cpu);
      const idx = R[1] >>> 0;
      if (op === 0x32) {
        const v = rdmsrValue(cpu, idx);
        if (v === undefined) return cpu.gp(0);
        R[0] = Number(v & 0xffffffffn) | 0, R[2] = Number(v >> 32n) | 0;
        cpu.regHi[0] = cpu.regHi[2] = 0;
      } else {
        const v = (BigInt(R[2] >>> 0) << 32n) | BigInt(R[0] >>> 0);
        if (!wrmsrValue(cpu, idx, v)) return cpu.gp(0);
      }
      return;
    }
    case 0x31: {
      if (!f.pentium) return cpu.notOnModel();
      if ((cpu.cr4 & 4) !== 0 && cpu.cpl !== 0 && cpu.protectedMode) return cpu.gp(0);
      const v = rdmsrValue(cpu, 0x10)!;
      R[0] = Number(v & 0xffffffffn) | 0, R[2] = Number(v >> 32n) | 0;
      cpu.regHi[0] = cpu.regHi[2] = 0;
      return;
    }
    case 0xa0:
    case 0xa8:
      cpu.push(osz, cpu.segSel[op === 0xa0 ? SEG_FS : SEG_GS], 0);
      return;
    case 0xa1:
    case 0xa9: {
      const sp = cpu.getSp();
      const v = cpu.rd(SEG_SS, sp, 2);
      loadSegment(cpu, op === 0xa1 ? SEG_FS : SEG_GS, v);
      cpu.setSp(cpu.spAdd(sp, osz));
      return;
    }
    case 0xa2:
      if (!f.cpuid) return cpu.notOnModel();
      return cpuid(cpu);
    case 0xa3:
    case 0xab:
    case 0xb3:
    case 0xbb:
    case 0xba:
      return bitOp(cpu, ins, op);
    case 0xa4:
    case 0xa5:
    case 0xac:
    case 0xad: {
      const count = op === 0xa4 || op === 0xac ? ins.imm : R[1] & 0xff;
      const size = osz;
      const s = cpu.getReg(size, ins.reg, ins.rex), sh = cpu.hi;
      const seg = segOf(ins), off = ins.mod === 3 ? 0 : ea(cpu, ins);
      const d = ins.mod === 3 ? cpu.getReg(size, ins.rm, ins.rex) : cpu.rdx(seg, off, size);
      const r = doubleShift(cpu, op < 0xa8, size, d, cpu.hi, s, sh, count);
      if (ins.mod === 3) cpu.setReg(size, ins.rm, ins.rex, r, cpu.hi);
      else cpu.wr(seg, off, size, r, cpu.hi);
      return;
    }
    case 0xae: {
      const sub = ins.reg & 7;
      if (ins.mod === 3 && sub >= 5) {
        if (!f.sse2) return cpu.notOnModel();
        return; // LFENCE / MFENCE / SFENCE
      }
      if (ins.mod !== 3 && sub === 7) {
        if (!f.sse2) return cpu.notOnModel();
        cpu.rd(segOf(ins), ea(cpu, ins), 1); // CLFLUSH: faults like a read
        return;
      }
      return cpu.undefinedOpcode("SSE state instructions are not modelled");
    }
    case 0xaf: {
      const v = readRM(cpu, ins, osz), vh = cpu.hi;
      const d = cpu.getReg(osz, ins.reg, ins.rex), dh = cpu.hi;
      cpu.setReg(osz, ins.reg, ins.rex, imulTrunc(cpu, osz, d, dh, v, vh), cpu.hi);
      return;
    }
    case 0xb0:
    case 0xb1: {
      if (!f.i486) return cpu.notOnModel();
      const size = op === 0xb0 ? 1 : osz;
      const seg = segOf(ins), off = ins.mod === 3 ? 0 : ea(cpu, ins);
      const d = ins.mod === 3 ? cpu.getReg(size, ins.rm, ins.rex) : cpu.rdx(seg, off, size);
      const dh = cpu.hi;
      const a = cpu.getReg(size, 0, 1), ah = cpu.hi;
      let equal: boolean;
      if (size === 8) {
        equal = a === d && ah === dh;
        cmp64(cpu, a, ah, d, dh);
      } else {
        equal = alu(cpu, 7, size, a, d) === 0;
      }
      if (equal) {
        const s = cpu.getReg(size, ins.reg, ins.rex);
        if (ins.mod === 3) cpu.setReg(size, ins.rm, ins.rex, s, cpu.hi);
        else cpu.wr(seg, off, size, s, cpu.hi);
      } else {
        if (ins.mod !== 3) cpu.wr(seg, off, size, d, dh);
        cpu.setReg(size, 0, 1, d, dh);
      }
      return;
    }
    case 0xb2:
    case 0xb4:
    case 0xb5: {
      if (ins.mod === 3) return cpu.ud();
      const seg = segOf(ins), off = ea(cpu, ins);
      const v = cpu.rdx(seg, off, osz), vh = cpu.hi;
      const sel = cpu.rd(seg, off + osz, 2);
      const sr = op === 0xb2 ? SEG_SS : op === 0xb4 ? SEG_FS : SEG_GS;
      loadSegment(cpu, sr, sel);
      if (sr === SEG_SS) cpu.shadowAt = cpu.retiredCount + 1;
      cpu.setReg(osz, ins.reg, ins.rex, v, vh);
      return;
    }
    case 0xb6:
    case 0xb7:
    case 0xbe:
    case 0xbf: {
      const ssz = (op & 1) === 0 ? 1 : 2;
      let v = readRM(cpu, ins, ssz);
      if (op >= 0xbe) v = ssz === 1 ? (v << 24) >> 24 : (v << 16) >> 16;
      cpu.setReg(osz, ins.reg, ins.rex, osz === 2 ? v & 0xffff : v, osz === 8 ? v >> 31 : 0);
      return;
    }
    case 0xbc:
    case 0xbd: {
      const v = readRM(cpu, ins, osz), vh = osz === 8 ? cpu.hi : 0;
      cpu.getFlags();
      if (v === 0 && vh === 0) {
        cpu.flags |= FLAG_ZF;
        return;
      }
      cpu.flags &= ~FLAG_ZF;
      let idx: number;
      if (op === 0xbc) {
        idx = v !== 0 ? 31 - Math.clz32(v & -v) : 32 + 31 - Math.clz32(vh & -vh);
      } else {
        idx = vh !== 0 ? 63 - Math.clz32(vh) : 31 - Math.clz32(osz === 2 ? v & 0xffff : v);
      }
      cpu.setReg(osz, ins.reg, ins.rex, idx, 0);
      return;
    }
    case 0xc0:
    case 0xc1: {
      if (!f.i486) return cpu.notOnModel();
      const size = op === 0xc0 ? 1 : osz;
      const seg = segOf(ins), off = ins.mod === 3 ? 0 : ea(cpu, ins);
      const d = ins.mod === 3 ? cpu.getReg(size, ins.rm, ins.rex) : cpu.rdx(seg, off, size);
      const dh = cpu.hi;
      const s = cpu.getReg(size, ins.reg, ins.rex), sh = cpu.hi;
      let r: number, rh = 0;
      if (size === 8) {
        r = add64(cpu, d, dh, s, sh);
        rh = cpu.hi;
      } else r = alu(cpu, 0, size, d, s);
      if (ins.mod === 3) {
        cpu.setReg(size, ins.reg, ins.rex, d, dh);
        cpu.setReg(size, ins.rm, ins.rex, r, rh);
      } else {
        cpu.wr(seg, off, size, r, rh);
        cpu.setReg(size, ins.reg, ins.rex, d, dh);
      }
      return;
    }
    case 0xc7: {
      if ((ins.reg & 7) !== 1 || ins.mod === 3 || osz === 8) return cpu.undefinedOpcode();
      if (!f.pentium) return cpu.notOnModel();
      const seg = segOf(ins), off = ea(cpu, ins);
      const lo = cpu.rd(seg, off, 4), hi = cpu.rd(seg, off + 4, 4);
      cpu.getFlags();
      if (lo === R[0] && hi === R[2]) {
        cpu.wr(seg, off, 8, R[3], R[1]);
        cpu.flags |= FLAG_ZF;
      } else {
        cpu.wr(seg, off, 8, lo, hi);
        cpu.setReg(4, 0, 1, lo, 0);
        cpu.setReg(4, 2, 1, hi, 0);
        cpu.flags &= ~FLAG_ZF;
      }
      return;
    }
    default:
      return cpu.undefinedOpcode();
  }
}

function cmp64(cpu: X86Cpu, a: number, ah: number, b: number, bh: number): void {
  alu64(cpu, 7, a, ah, b, bh);
}

function add64(cpu: X86Cpu, a: number, ah: number, b: number, bh: number): number {
  return alu64(cpu, 0, a, ah, b, bh);
}

function bitOp(cpu: X86Cpu, ins: Instr, op: number): void {
  const kind = op === 0xba
    ? (ins.reg & 7) - 4
    : op === 0xa3
    ? 0
    : op === 0xab
    ? 1
    : op === 0xb3
    ? 2
    : 3;
  if (kind < 0) return cpu.undefinedOpcode();
  const size = ins.osz;
  const bits = size * 8;
  let bit: number;
  let adj = 0;
  if (op === 0xba) {
    bit = ins.imm & (bits - 1);
  } else {
    const lo = cpu.getReg(size, ins.reg, ins.rex);
    const signed = size === 8
      ? cpu.hi * 4294967296 + (lo >>> 0)
      : size === 4
      ? lo | 0
      : (lo << 16) >> 16;
    bit = lo & (bits - 1);
    if (ins.mod !== 3) adj = Math.floor(signed / bits) * size;
  }
  const seg = segOf(ins);
  let off = 0;
  if (ins.mod !== 3) {
    off = ea(cpu, ins) + adj;
    if (!cpu.mode64) off = ins.asz === 2 ? off & 0xffff : off >>> 0;
  }
  let v = ins.mod === 3 ? cpu.getReg(size, ins.rm, ins.rex) : cpu.rdx(seg, off, size);
  let vh = size === 8 ? cpu.hi : 0;
  const inHi = bit >= 32;
  const b = inHi ? bit - 32 : bit;
  const word = inHi ? vh : v;
  const cf = (word >>> b) & 1;
  cpu.getFlags();
  cpu.flags = (cpu.flags & ~FLAG_CF) | cf;
  if (kind === 0) return;
  const m = 1 << b;
  const nw = kind === 1 ? word | m : kind === 2 ? word & ~m : word ^ m;
  if (inHi) vh = nw;
  else v = nw;
  if (ins.mod === 3) cpu.setReg(size, ins.rm, ins.rex, v, vh);
  else cpu.wr(seg, off, size, v, vh);
}

function group6(cpu: X86Cpu, ins: Instr): void {
  if (!cpu.protectedMode || (cpu.flags & 0x20000) !== 0) return cpu.undefinedOpcode();
  const sub = ins.reg & 7;
  switch (sub) {
    case 0:
    case 1: {
      const v = cpu.segSel[sub === 0 ? SEG_LDTR : SEG_TR];
      if (ins.mod === 3) cpu.setReg(ins.osz, ins.rm, ins.rex, v, 0);
      else cpu.wr(segOf(ins), ea(cpu, ins), 2, v);
      return;
    }
    case 2:
    case 3: {
      priv(cpu);
      const sel = readRM(cpu, ins, 2);
      return loadSystemSegment(cpu, sub === 2, sel);
    }
    case 4:
    case 5: {
      const sel = readRM(cpu, ins, 2);
      let ok = false;
      if ((sel & 0xfffc) !== 0) {
        const idx = sel & 0xfff8;
        const limit = (sel & 4) !== 0 ? cpu.segLimit[SEG_LDTR] : cpu.gdtrLimit;
        if (idx + 7 <= limit) {
          const base = (sel & 4) !== 0 ? cpu.segBase[SEG_LDTR] : cpu.gdtrBase;
          const a = base + idx + 4;
          const hi = cpu.rdLin32(cpu.mode64 ? a : a >>> 0);
          const attr = (hi >> 8) & 0xff;
          const dpl = (attr >> 5) & 3;
          const code = (attr & 8) !== 0;
          const conforming = code && (attr & 4) !== 0;
          const privOk = conforming || (dpl >= cpu.cpl && dpl >= (sel & 3));
          if ((attr & 0x10) !== 0 && privOk) {
            ok = sub === 4 ? !code || (attr & 2) !== 0 : !code && (attr & 2) !== 0;
          }
        }
      }
      cpu.getFlags();
      cpu.flags = ok ? cpu.flags | FLAG_ZF : cpu.flags & ~FLAG_ZF;
      return;
    }
    default:
      return cpu.undefinedOpcode();
  }
}

function group7(cpu: X86Cpu, ins: Instr): void {
  const sub = ins.reg & 7;
  if (ins.mod === 3) {
    if (sub === 4) {
      cpu.setReg(ins.osz, ins.rm, ins.rex, cpu.cr0, 0);
      return;
    }
    if (sub === 6) return lmsw(cpu, cpu.getReg(2, ins.rm, ins.rex));
    if (sub === 7 && (ins.rm & 7) === 0 && cpu.mode64) {
      // SWAPGS
      priv(cpu);
      const k = cpu.msrs.get(0xc0000102) ?? 0n;
      cpu.msrs.set(0xc0000102, BigInt.asUintN(64, BigInt(cpu.segBase[SEG_GS])));
      cpu.segBase[SEG_GS] = Number(BigInt.asIntN(64, k));
      return;
    }
    return cpu.undefinedOpcode();
  }
  const seg = segOf(ins), off = ea(cpu, ins);
  const next = (
    n: number,
  ) => (cpu.mode64 ? off + n : ins.asz === 2 ? (off + n) & 0xffff : (off + n) >>> 0);
  switch (sub) {
    case 0:
    case 1: {
      const base = sub === 0 ? cpu.gdtrBase : cpu.idtrBase;
      const limit = sub === 0 ? cpu.gdtrLimit : cpu.idtrLimit;
      cpu.wr(seg, off, 2, limit);
      if (cpu.mode64) {
        const b = BigInt.asUintN(64, BigInt(base));
        cpu.wr(seg, next(2), 8, Number(b & 0xffffffffn) | 0, Number(b >> 32n) | 0);
      } else cpu.wr(seg, next(2), 4, ins.osz === 2 ? base & 0xffffff : base);
      return;
    }
    case 2:
    case 3: {
      priv(cpu);
      const limit = cpu.rd(seg, off, 2);
      let base: number;
      if (cpu.mode64) {
        const lo = cpu.rdx(seg, next(2), 8);
        base = cpu.hi * 4294967296 + (lo >>> 0);
      } else {
        base = cpu.rd(seg, next(2), 4) >>> 0;
        if (ins.osz === 2) base &= 0xffffff;
      }
      if (sub === 2) cpu.gdtrBase = base, cpu.gdtrLimit = limit;
      else cpu.idtrBase = base, cpu.idtrLimit = limit;
      return;
    }
    case 4:
      cpu.wr(seg, off, 2, cpu.cr0 & 0xffff);
      return;
    case 6:
      return lmsw(cpu, cpu.rd(seg, off, 2));
    case 7: {
      if (!cpu.model.features.i486) return cpu.notOnModel();
      priv(cpu);
      const lin = cpu.mode64
        ? (seg >= SEG_FS ? off + cpu.segBase[seg] : off)
        : (cpu.segBase[seg] + off) >>> 0;
      cpu.flushTlbPage(lin);
      return;
    }
    default:
      return cpu.undefinedOpcode();
  }
}

function lmsw(cpu: X86Cpu, v: number): void {
  priv(cpu);
  // LMSW sets PE (never clears it), MP, EM, TS.
  const nv = (cpu.cr0 & ~0xe) | (v & 0xe) | ((cpu.cr0 | v) & 1);
  writeCr(cpu, 0, nv, 0);
}
