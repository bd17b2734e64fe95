/**
 * Execution of one-byte x86 opcodes (the hot `switch`); operand helpers are in `operands.ts`.
 * Two-byte opcodes go to {@linkcode execute0f}.
 *
 * @example
 * ```ts ignore
 * import { execute } from "./exec.ts";
 * execute(cpu, ins); // cpu.ip already points past ins
 * ```
 *
 * @module
 */

import { SEG_CS, SEG_DS, SEG_ES, SEG_SS } from "./cpu_constants.ts";
import type { X86Cpu } from "./cpu.ts";
import type { Instr } from "./decode.ts";
import {
  alu,
  alu64,
  cond,
  imulTrunc,
  incDec,
  incDec64,
  logicFlags,
  materializeFlags,
  mulDiv,
  setResultFlags,
  setResultFlags64,
  shift,
  shift64,
} from "./alu.ts";
import { deliverOnce, EXC_BP, EXC_NM, EXC_OF, iret, writableFlags } from "./interrupts.ts";
import { farReturn, farTransfer, loadSegment } from "./system.ts";
import { execute0f } from "./exec_0f.ts";
import { stringOp } from "./string_ops.ts";
import { FLAG_AF, FLAG_CF, FLAG_DF, FLAG_IF } from "./flags.ts";
import {
  checkIo,
  ea,
  ea64,
  getCount,
  immOf,
  jumpRel,
  readRM,
  segOf,
  setCount,
  writeRM,
} from "./operands.ts";

/** Near jump to an absolute target of operand size `osz` (lo/hi). */
function jumpAbs(cpu: X86Cpu, osz: number, lo: number, hi: number): void {
  cpu.ip = osz === 8 ? hi * 4294967296 + (lo >>> 0) : osz === 4 ? lo >>> 0 : lo & 0xffff;
}

/** Push the next-instruction pointer for a near CALL. */
function pushIp(cpu: X86Cpu, osz: number): void {
  if (osz === 8) {
    const ip = cpu.ip;
    cpu.push(8, ip % 4294967296 | 0, Math.floor(ip / 4294967296) | 0);
  } else cpu.push(osz, cpu.ip);
}

/** True when a LOCK prefix is valid on this instruction (memory-destination RMW forms). */
function lockable(ins: Instr): boolean {
  if (ins.mod === 3 || ins.mod < 0) return false;
  const op = ins.op, sub = ins.reg & 7;
  if (op < 0x40) return (op & 7) <= 1 && op >> 3 !== 7;
  if (op >= 0x80 && op <= 0x83) return sub !== 7;
  switch (op) {
    case 0x86:
    case 0x87:
    case 0x1ab:
    case 0x1b3:
    case 0x1bb:
    case 0x1b0:
    case 0x1b1:
    case 0x1c0:
    case 0x1c1:
      return true;
    case 0xf6:
    case 0xf7:
      return sub === 2 || sub === 3;
    case 0xfe:
    case 0xff:
      return sub <= 1;
    case 0x1ba:
      return sub >= 5;
    case 0x1c7:
      return sub === 1;
    default:
      return false;
  }
}

function aluBlock(cpu: X86Cpu, ins: Instr, op: number): void {
  const aop = (op >> 3) & 7;
  const form = op & 7;
  const size = (form & 1) !== 0 ? ins.osz : 1;
  if (form >= 4) {
    const a = cpu.getReg(size, 0, 1);
    let r: number;
    if (size === 8) r = alu64(cpu, aop, a, cpu.regHi[0], ins.imm, ins.imm >> 31);
    else r = alu(cpu, aop, size, a, immOf(ins.imm, size));
    if (aop !== 7) cpu.setReg(size, 0, 1, r, cpu.hi);
    return;
  }
  const rex = ins.rex;
  if (form < 2) {
    const src = cpu.getReg(size, ins.reg, rex), srcHi = cpu.hi;
    if (ins.mod === 3) {
      const d = cpu.getReg(size, ins.rm, rex);
      const r = size === 8 ? alu64(cpu, aop, d, cpu.hi, src, srcHi) : alu(cpu, aop, size, d, src);
      if (aop !== 7) cpu.setReg(size, ins.rm, rex, r, cpu.hi);
    } else {
      const seg = segOf(ins), off = ea(cpu, ins);
      const d = cpu.rdx(seg, off, size);
      const r = size === 8 ? alu64(cpu, aop, d, cpu.hi, src, srcHi) : alu(cpu, aop, size, d, src);
      if (aop !== 7) cpu.wr(seg, off, size, r, cpu.hi);
    }
  } else {
    const src = readRM(cpu, ins, size), srcHi = cpu.hi;
    const d = cpu.getReg(size, ins.reg, rex);
    const r = size === 8 ? alu64(cpu, aop, d, cpu.hi, src, srcHi) : alu(cpu, aop, size, d, src);
    if (aop !== 7) cpu.setReg(size, ins.reg, rex, r, cpu.hi);
  }
}

function group1(cpu: X86Cpu, ins: Instr, op: number): void {
  const size = op === 0x80 || op === 0x82 ? 1 : ins.osz;
  const aop = ins.reg & 7;
  let imm = ins.imm;
  if (op === 0x83) imm = (imm << 24) >> 24;
  if (ins.mod === 3) {
    const d = cpu.getReg(size, ins.rm, ins.rex);
    const r = size === 8
      ? alu64(cpu, aop, d, cpu.hi, imm, imm >> 31)
      : alu(cpu, aop, size, d, immOf(imm, size));
    if (aop !== 7) cpu.setReg(size, ins.rm, ins.rex, r, cpu.hi);
  } else {
    const seg = segOf(ins), off = ea(cpu, ins);
    const d = cpu.rdx(seg, off, size);
    const r = size === 8
      ? alu64(cpu, aop, d, cpu.hi, imm, imm >> 31)
      : alu(cpu, aop, size, d, immOf(imm, size));
    if (aop !== 7) cpu.wr(seg, off, size, r, cpu.hi);
  }
}

function shiftGroup(cpu: X86Cpu, ins: Instr, size: number, count: number): void {
  const sop = ins.reg & 7;
  if (ins.mod === 3) {
    const v = cpu.getReg(size, ins.rm, ins.rex);
    const r = size === 8 ? shift64(cpu, sop, v, cpu.hi, count) : shift(cpu, sop, size, v, count);
    cpu.setReg(size, ins.rm, ins.rex, r, cpu.hi);
  } else {
    const seg = segOf(ins), off = ea(cpu, ins);
    const v = cpu.rdx(seg, off, size);
    const r = size === 8 ? shift64(cpu, sop, v, cpu.hi, count) : shift(cpu, sop, size, v, count);
    cpu.wr(seg, off, size, r, cpu.hi);
  }
}

function group3(cpu: X86Cpu, ins: Instr, size: number): void {
  const sub = ins.reg & 7;
  switch (sub) {
    case 0:
    case 1: {
      const v = readRM(cpu, ins, size), vh = cpu.hi;
      if (size === 8) {
        setResultFlags64(cpu, v & ins.imm, vh & (ins.imm >> 31), 0, 0, 0);
      } else logicFlags(cpu, size, v & immOf(ins.imm, size));
      return;
    }
    case 2: {
      const seg = segOf(ins), off = ins.mod === 3 ? 0 : ea(cpu, ins);
      const v = ins.mod === 3 ? cpu.getReg(size, ins.rm, ins.rex) : cpu.rdx(seg, off, size);
      const hi = ~cpu.hi;
      if (ins.mod === 3) cpu.setReg(size, ins.rm, ins.rex, ~v, hi);
      else cpu.wr(seg, off, size, ~v, hi);
      return;
    }
    case 3: {
      const seg = segOf(ins), off = ins.mod === 3 ? 0 : ea(cpu, ins);
      const v = ins.mod === 3 ? cpu.getReg(size, ins.rm, ins.rex) : cpu.rdx(seg, off, size);
      const r = size === 8 ? alu64(cpu, 5, 0, 0, v, cpu.hi) : alu(cpu, 5, size, 0, v);
      if (ins.mod === 3) cpu.setReg(size, ins.rm, ins.rex, r, cpu.hi);
      else cpu.wr(seg, off, size, r, cpu.hi);
      return;
    }
    default: {
      const v = readRM(cpu, ins, size);
      mulDiv(cpu, sub, size, v, cpu.hi);
    }
  }
}

/** Execute one decoded instruction (`cpu.ip` already points past it). */
export function execute(cpu: X86Cpu, ins: Instr): void {
  const op = ins.op;
  if (ins.lock !== 0 && !lockable(ins)) return cpu.undefinedOpcode("LOCK prefix not allowed");
  if (op < 0x40 && op >= 0 && (op & 7) < 6) return aluBlock(cpu, ins, op);
  if (op >= 0x100) return execute0f(cpu, ins);
  const R = cpu.reg;
  const osz = ins.osz;
  switch (op) {
    case 0x40:
    case 0x41:
    case 0x42:
    case 0x43:
    case 0x44:
    case 0x45:
    case 0x46:
    case 0x47:
    case 0x48:
    case 0x49:
    case 0x4a:
    case 0x4b:
    case 0x4c:
    case 0x4d:
    case 0x4e:
    case 0x4f: {
      const r = op & 7;
      cpu.setReg(osz, r, 0, incDec(cpu, osz, cpu.getReg(osz, r, 0), op >= 0x48), 0);
      return;
    }
    case 0x50:
    case 0x51:
    case 0x52:
    case 0x53:
    case 0x54:
    case 0x55:
    case 0x56:
    case 0x57: {
      const r = ins.rm;
      if (osz === 8) cpu.push(8, R[r], cpu.regHi[r]);
      else cpu.push(osz, R[r]);
      return;
    }
    case 0x58:
    case 0x59:
    case 0x5a:
    case 0x5b:
    case 0x5c:
    case 0x5d:
    case 0x5e:
    case 0x5f: {
      const v = cpu.pop(osz);
      cpu.setReg(osz, ins.rm, 1, v, cpu.hi);
      return;
    }
    case 0x70:
    case 0x71:
    case 0x72:
    case 0x73:
    case 0x74:
    case 0x75:
    case 0x76:
    case 0x77:
    case 0x78:
    case 0x79:
    case 0x7a:
    case 0x7b:
    case 0x7c:
    case 0x7d:
    case 0x7e:
    case 0x7f:
      if (cond(cpu, op & 15)) jumpRel(cpu, ins, (ins.imm << 24) >> 24);
      return;
    case 0x80:
    case 0x81:
    case 0x82:
    case 0x83:
      return group1(cpu, ins, op);
    case 0x84:
    case 0x85: {
      const size = op === 0x84 ? 1 : osz;
      const a = readRM(cpu, ins, size), ah = cpu.hi;
      const b = cpu.getReg(size, ins.reg, ins.rex);
      if (size === 8) setResultFlags64(cpu, a & b, ah & cpu.hi, 0, 0, 0);
      else logicFlags(cpu, size, a & b);
      return;
    }
    case 0x86:
    case 0x87: {
      const size = op === 0x86 ? 1 : osz;
      const b = cpu.getReg(size, ins.reg, ins.rex), bh = cpu.hi;
      if (ins.mod === 3) {
        const a = cpu.getReg(size, ins.rm, ins.rex), ah = cpu.hi;
        cpu.setReg(size, ins.rm, ins.rex, b, bh);
        cpu.setReg(size, ins.reg, ins.rex, a, ah);
      } else {
        const seg = segOf(ins), off = ea(cpu, ins);
        const a = cpu.rdx(seg, off, size), ah = cpu.hi;
        cpu.wr(seg, off, size, b, bh);
        cpu.setReg(size, ins.reg, ins.rex, a, ah);
      }
      return;
    }
    case 0x88:
    case 0x89: {
      const size = op === 0x88 ? 1 : osz;
      const v = cpu.getReg(size, ins.reg, ins.rex);
      if (ins.mod === 3) cpu.setReg(size, ins.rm, ins.rex, v, cpu.hi);
      else cpu.wr(segOf(ins), ea(cpu, ins), size, v, cpu.hi);
      return;
    }
    case 0x8a:
    case 0x8b: {
      const size = op === 0x8a ? 1 : osz;
      const v = readRM(cpu, ins, size);
      cpu.setReg(size, ins.reg, ins.rex, v, cpu.hi);
      return;
    }
    case 0x8d: {
      if (ins.mod === 3) return cpu.ud();
      if (ins.asz === 8) {
        const lo = ea64(cpu, ins);
        cpu.setReg(osz, ins.reg, ins.rex, lo, cpu.eaHi);
      } else cpu.setReg(osz, ins.reg, ins.rex, ea(cpu, ins), 0);
      return;
    }
    case 0xb0:
    case 0xb1:
    case 0xb2:
    case 0xb3:
    case 0xb4:
    case 0xb5:
    case 0xb6:
    case 0xb7:
      cpu.setReg(1, ins.rm, ins.rex, ins.imm, 0);
      return;
    case 0xb8:
    case 0xb9:
    case 0xba:
    case 0xbb:
    case 0xbc:
    case 0xbd:
    case 0xbe:
    case 0xbf:
      cpu.setReg(osz, ins.rm, ins.rex, ins.imm, ins.imm2);
      return;
    default:
      return execute2(cpu, ins, op);
  }
}

function execute2(cpu: X86Cpu, ins: Instr, op: number): void {
  const R = cpu.reg;
  const osz = ins.osz;
  switch (op) {
    case 0x06:
    case 0x0e:
    case 0x16:
    case 0x1e:
      cpu.push(osz, cpu.segSel[op >> 3]);
      return;
    case 0x07:
    case 0x17:
    case 0x1f: {
      const sp = cpu.getSp();
      const v = cpu.rd(SEG_SS, sp, 2); // the selector is the low word of the slot
      loadSegment(cpu, op >> 3, v);
      cpu.setSp(cpu.spAdd(sp, osz));
      if (op === 0x17) cpu.shadowAt = cpu.retiredCount + 1;
      return;
    }
    case 0x27:
    case 0x2f:
    case 0x37:
    case 0x3f:
      return bcdAdjust(cpu, op);
    case 0x60: {
      const sp = cpu.getSp();
      for (let i = 0; i < 8; i++) {
        cpu.wr(SEG_SS, cpu.spAdd(sp, -(i + 1) * osz), osz, i === 4 ? sp : R[i]);
      }
      cpu.setSp(cpu.spAdd(sp, -8 * osz));
      return;
    }
    case 0x61: {
      const sp = cpu.getSp();
      const vals = [0, 0, 0, 0, 0, 0, 0, 0];
      for (let i = 0; i < 8; i++) vals[7 - i] = cpu.rd(SEG_SS, cpu.spAdd(sp, i * osz), osz);
      for (let i = 0; i < 8; i++) if (i !== 4) cpu.setReg(osz, i, 0, vals[i], 0);
      cpu.setSp(cpu.spAdd(sp, 8 * osz));
      return;
    }
    case 0x63:
      if (cpu.mode64) {
        // MOVSXD
        const v = readRM(cpu, ins, 4);
        cpu.setReg(osz, ins.reg, ins.rex, v, osz === 8 ? v >> 31 : 0);
        return;
      }
      return arpl(cpu, ins);
    case 0x68:
      if (osz === 8) cpu.push(8, ins.imm, ins.imm >> 31);
      else cpu.push(osz, ins.imm);
      return;
    case 0x6a: {
      const v = (ins.imm << 24) >> 24;
      if (osz === 8) cpu.push(8, v, v >> 31);
      else cpu.push(osz, v);
      return;
    }
    case 0x69:
    case 0x6b: {
      const v = readRM(cpu, ins, osz), vh = cpu.hi;
      const imm = op === 0x6b ? (ins.imm << 24) >> 24 : ins.imm;
      const r = imulTrunc(cpu, osz, v, vh, immOf(imm, osz === 8 ? 4 : osz), imm >> 31);
      cpu.setReg(osz, ins.reg, ins.rex, r, cpu.hi);
      return;
    }
    case 0x6c:
    case 0x6d:
    case 0x6e:
    case 0x6f:
    case 0xa4:
    case 0xa5:
    case 0xa6:
    case 0xa7:
    case 0xaa:
    case 0xab:
    case 0xac:
    case 0xad:
    case 0xae:
    case 0xaf:
      return stringOp(cpu, ins, op);
    case 0x8c: {
      const s = ins.reg & 7;
      if (s > 5) return cpu.ud();
      if (ins.mod === 3) cpu.setReg(osz === 2 ? 2 : osz, ins.rm, ins.rex, cpu.segSel[s], 0);
      else cpu.wr(segOf(ins), ea(cpu, ins), 2, cpu.segSel[s]);
      return;
    }
    case 0x8e: {
      const s = ins.reg & 7;
      if (s === SEG_CS || s > 5) return cpu.ud();
      loadSegment(cpu, s, readRM(cpu, ins, 2));
      if (s === SEG_SS) cpu.shadowAt = cpu.retiredCount + 1;
      return;
    }
    case 0x8f: {
      if ((ins.reg & 7) !== 0) return cpu.ud();
      // The address uses the stack pointer after the pop.
      const sp = cpu.getSp();
      const v = cpu.rdx(SEG_SS, sp, osz), vh = cpu.hi;
      cpu.setSp(cpu.spAdd(sp, osz));
      try {
        writeRM(cpu, ins, osz, v, vh);
      } catch (e) {
        cpu.setSp(sp);
        throw e;
      }
      return;
    }
    case 0x90:
      if (ins.rm === 0) return; // NOP / PAUSE
      // fallthrough: XCHG r8, rAX with REX.B
    case 0x91:
    case 0x92:
    case 0x93:
    case 0x94:
    case 0x95:
    case 0x96:
    case 0x97: {
      const a = cpu.getReg(osz, 0, 1), ah = cpu.hi;
      const b = cpu.getReg(osz, ins.rm, 1), bh = cpu.hi;
      cpu.setReg(osz, 0, 1, b, bh);
      cpu.setReg(osz, ins.rm, 1, a, ah);
      return;
    }
    case 0x98:
      if (osz === 2) R[0] = (R[0] & ~0xffff) | (((R[0] << 24) >> 24) & 0xffff);
      else if (osz === 4) R[0] = (R[0] << 16) >> 16, cpu.regHi[0] = 0;
      else cpu.regHi[0] = R[0] >> 31;
      return;
    case 0x99:
      if (osz === 2) R[2] = (R[2] & ~0xffff) | (((R[0] << 16) >> 31) & 0xffff);
      else if (osz === 4) R[2] = R[0] >> 31, cpu.regHi[2] = 0;
      else R[2] = cpu.regHi[2] = cpu.regHi[0] >> 31;
      return;
    case 0x9a:
      return farTransfer(cpu, ins.imm2, ins.imm, true, osz);
    case 0x9b:
      if ((cpu.cr0 & 0xa) === 0xa) cpu.fault(EXC_NM);
      return;
    case 0x9c: {
      if ((cpu.flags & 0x20000) !== 0 && ((cpu.flags >> 12) & 3) < 3) return cpu.gp(0);
      const f = cpu.getFlags() & ~0x30000;
      if (osz === 8) cpu.push(8, f, 0);
      else cpu.push(osz, f);
      return;
    }
    case 0x9d: {
      const v = cpu.pop(osz);
      const m = writableFlags(cpu, false) & (osz === 2 ? 0xffff : -1);
      cpu.flags = (cpu.getFlags() & ~m) | (v & m) | 2;
      return;
    }
    case 0x9e: {
      if (cpu.mode64 && !cpu.model.features.longMode) return cpu.ud();
      cpu.getFlags();
      cpu.flags = (cpu.flags & ~0xd5) | ((R[0] >> 8) & 0xd5) | 2;
      return;
    }
    case 0x9f:
      R[0] = (R[0] & ~0xff00) | (((cpu.getFlags() & 0xd5) | 2) << 8);
      return;
    case 0xa0:
    case 0xa1:
    case 0xa2:
    case 0xa3: {
      const size = (op & 1) === 0 ? 1 : osz;
      const seg = ins.seg >= 0 ? ins.seg : SEG_DS;
      const off = ins.asz === 8
        ? ins.imm2 * 4294967296 + (ins.disp >>> 0)
        : ins.asz === 4
        ? ins.disp >>> 0
        : ins.disp & 0xffff;
      if (op < 0xa2) cpu.setReg(size, 0, 1, cpu.rdx(seg, off, size), cpu.hi);
      else cpu.wr(seg, off, size, cpu.getReg(size, 0, 1), cpu.hi);
      return;
    }
    case 0xa8:
    case 0xa9: {
      const size = op === 0xa8 ? 1 : osz;
      const a = cpu.getReg(size, 0, 1);
      if (size === 8) setResultFlags64(cpu, a & ins.imm, cpu.hi & (ins.imm >> 31), 0, 0, 0);
      else logicFlags(cpu, size, a & immOf(ins.imm, size));
      return;
    }
    case 0xc0:
    case 0xc1:
      return shiftGroup(cpu, ins, op === 0xc0 ? 1 : osz, ins.imm);
    case 0xd0:
    case 0xd1:
      return shiftGroup(cpu, ins, op === 0xd0 ? 1 : osz, 1);
    case 0xd2:
    case 0xd3:
      return shiftGroup(cpu, ins, op === 0xd2 ? 1 : osz, R[1] & 0xff);
    case 0xc2:
    case 0xc3: {
      const v = cpu.pop(osz);
      jumpAbs(cpu, osz, v, cpu.hi);
      if (op === 0xc2) cpu.setSp(cpu.spAdd(cpu.getSp(), ins.imm));
      return;
    }
    case 0xc4:
    case 0xc5: {
      if (ins.mod === 3) return cpu.ud();
      const seg = segOf(ins), off = ea(cpu, ins);
      const v = cpu.rd(seg, off, osz);
      const sel = cpu.rd(seg, off + osz, 2);
      loadSegment(cpu, op === 0xc4 ? SEG_ES : SEG_DS, sel);
      cpu.setReg(osz, ins.reg, ins.rex, v, 0);
      return;
    }
    case 0xc6:
    case 0xc7: {
      if ((ins.reg & 7) !== 0) return cpu.ud();
      const size = op === 0xc6 ? 1 : osz;
      writeRM(cpu, ins, size, immOf(ins.imm, size === 8 ? 4 : size), ins.imm >> 31);
      return;
    }
    case 0xc8:
      return enter(cpu, ins);
    case 0xc9: {
      // LEAVE: SP = BP, pop BP
      const b = cpu.stackBits;
      const bp = b === 64 ? cpu.r64(5) : b === 32 ? R[5] >>> 0 : R[5] & 0xffff;
      const v = cpu.rdx(SEG_SS, bp, osz), vh = cpu.hi;
      cpu.setSp(cpu.spAdd(bp, osz));
      cpu.setReg(osz, 5, 1, v, vh);
      return;
    }
    case 0xca:
    case 0xcb:
      return farReturn(cpu, osz, op === 0xca ? ins.imm : 0);
    case 0xcc:
      return deliverOnce(cpu, EXC_BP, -1, false, true);
    case 0xcd:
      if (cpu.protectedMode && (cpu.flags & 0x20000) !== 0 && ((cpu.flags >> 12) & 3) < 3) {
        return cpu.gp(0);
      }
      return deliverOnce(cpu, ins.imm & 0xff, -1, false, true);
    case 0xce:
      if (cond(cpu, 0)) deliverOnce(cpu, EXC_OF, -1, false, true);
      return;
    case 0xcf:
      return iret(cpu, osz);
    case 0xd4: {
      // AAM
      const base = ins.imm & 0xff;
      if (base === 0) return cpu.fault(0);
      const al = R[0] & 0xff;
      const r = ((Math.floor(al / base) & 0xff) << 8) | (al % base);
      R[0] = (R[0] & ~0xffff) | r;
      setResultFlags(cpu, r & 0xff, 1, 0, 0, 0);
      return;
    }
    case 0xd5: {
      // AAD
      const r = (((R[0] >> 8) & 0xff) * (ins.imm & 0xff) + (R[0] & 0xff)) & 0xff;
      R[0] = (R[0] & ~0xffff) | r;
      setResultFlags(cpu, r, 1, 0, 0, 0);
      return;
    }
    case 0xd7: {
      const b = ins.asz === 8 ? cpu.r64(3) : ins.asz === 4 ? R[3] >>> 0 : R[3] & 0xffff;
      const a = ins.asz === 8
        ? b + (R[0] & 0xff)
        : ins.asz === 4
        ? (b + (R[0] & 0xff)) >>> 0
        : (b + (R[0] & 0xff)) & 0xffff;
      R[0] = (R[0] & ~0xff) | cpu.rd(ins.seg >= 0 ? ins.seg : SEG_DS, a, 1);
      return;
    }
    case 0xd8:
    case 0xd9:
    case 0xda:
    case 0xdb:
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf:
      if ((cpu.cr0 & 0xc) !== 0) return cpu.fault(EXC_NM);
      return cpu.undefinedOpcode("x87 instructions are not modelled");
    case 0xe0:
    case 0xe1:
    case 0xe2: {
      const n = getCount(cpu, ins.asz) - 1;
      setCount(cpu, ins.asz, n);
      const nz = ins.asz === 8 ? n !== 0 : ins.asz === 4 ? (n | 0) !== 0 : (n & 0xffff) !== 0;
      let take = nz;
      if (op === 0xe0) take = nz && !cond(cpu, 4);
      else if (op === 0xe1) take = nz && cond(cpu, 4);
      if (take) jumpRel(cpu, ins, (ins.imm << 24) >> 24);
      return;
    }
    case 0xe3:
      if (getCount(cpu, ins.asz) === 0) jumpRel(cpu, ins, (ins.imm << 24) >> 24);
      return;
    case 0xe4:
    case 0xe5:
    case 0xec:
    case 0xed: {
      checkIo(cpu);
      const size = (op & 1) === 0 ? 1 : osz === 2 ? 2 : 4;
      const port = op < 0xe8 ? ins.imm & 0xff : R[2] & 0xffff;
      const v = cpu.env.io.read(port, size as 1 | 2 | 4);
      cpu.setReg(size, 0, 1, v | 0, 0);
      return;
    }
    case 0xe6:
    case 0xe7:
    case 0xee:
    case 0xef: {
      checkIo(cpu);
      const size = (op & 1) === 0 ? 1 : osz === 2 ? 2 : 4;
      const port = op < 0xe8 ? ins.imm & 0xff : R[2] & 0xffff;
      cpu.env.io.write(port, size as 1 | 2 | 4, cpu.getReg(size, 0, 1));
      return;
    }
    case 0xe8: {
      pushIp(cpu, osz);
      jumpRel(cpu, ins, ins.imm);
      return;
    }
    case 0xe9:
      return jumpRel(cpu, ins, ins.imm);
    case 0xea:
      return farTransfer(cpu, ins.imm2, ins.imm, false, osz);
    case 0xeb:
      return jumpRel(cpu, ins, (ins.imm << 24) >> 24);
    case 0xf4:
      if (cpu.cpl !== 0) return cpu.gp(0);
      cpu.runStateValue = (cpu.flags & FLAG_IF) !== 0 ? "halted" : "stopped";
      return;
    case 0xf5:
      materializeFlags(cpu);
      cpu.flags ^= FLAG_CF;
      return;
    case 0xf6:
    case 0xf7:
      return group3(cpu, ins, op === 0xf6 ? 1 : osz);
    case 0xf8:
    case 0xf9:
      cpu.getFlags();
      cpu.flags = op === 0xf8 ? cpu.flags & ~FLAG_CF : cpu.flags | FLAG_CF;
      return;
    case 0xfa:
    case 0xfb: {
      if (cpu.protectedMode && cpu.cpl > ((cpu.flags >> 12) & 3)) return cpu.gp(0);
      if (op === 0xfa) cpu.flags &= ~FLAG_IF;
      else {
        if ((cpu.flags & FLAG_IF) === 0) cpu.shadowAt = cpu.retiredCount + 1;
        cpu.flags |= FLAG_IF;
      }
      return;
    }
    case 0xfc:
      cpu.flags &= ~FLAG_DF;
      return;
    case 0xfd:
      cpu.flags |= FLAG_DF;
      return;
    case 0xfe:
    case 0xff:
      return group45(cpu, ins, op);
    default:
      return cpu.undefinedOpcode();
  }
}

function group45(cpu: X86Cpu, ins: Instr, op: number): void {
  const sub = ins.reg & 7;
  if (op === 0xfe && sub > 1) return cpu.undefinedOpcode();
  const osz = ins.osz;
  if (sub <= 1) {
    const size = op === 0xfe ? 1 : osz;
    const seg = segOf(ins), off = ins.mod === 3 ? 0 : ea(cpu, ins);
    const v = ins.mod === 3 ? cpu.getReg(size, ins.rm, ins.rex) : cpu.rdx(seg, off, size);
    const r = size === 8 ? incDec64(cpu, v, cpu.hi, sub === 1) : incDec(cpu, size, v, sub === 1);
    if (ins.mod === 3) cpu.setReg(size, ins.rm, ins.rex, r, cpu.hi);
    else cpu.wr(seg, off, size, r, cpu.hi);
    return;
  }
  switch (sub) {
    case 2:
    case 4: {
      const size = cpu.mode64 ? 8 : osz;
      const v = readRM(cpu, ins, size);
      const vh = cpu.hi;
      if (sub === 2) pushIp(cpu, size);
      jumpAbs(cpu, size, v, vh);
      return;
    }
    case 3:
    case 5: {
      if (ins.mod === 3) return cpu.ud();
      const seg = segOf(ins), off = ea(cpu, ins);
      const v = cpu.rdx(seg, off, osz), vh = cpu.hi;
      const sel = cpu.rd(seg, off + osz, 2);
      const target = osz === 8 ? vh * 4294967296 + (v >>> 0) : v >>> 0;
      return farTransfer(cpu, sel, osz === 2 ? target & 0xffff : target, sub === 3, osz);
    }
    case 6: {
      const size = cpu.mode64 && osz !== 2 ? 8 : osz;
      const v = readRM(cpu, ins, size);
      cpu.push(size, v, cpu.hi);
      return;
    }
    default:
      return cpu.undefinedOpcode();
  }
}

function enter(cpu: X86Cpu, ins: Instr): void {
  const osz = ins.osz;
  const size = ins.imm & 0xffff;
  const level = ins.imm2 & 31;
  const R = cpu.reg;
  const b = cpu.stackBits;
  const bp = b === 64 ? cpu.r64(5) : b === 32 ? R[5] >>> 0 : R[5] & 0xffff;
  const bpHi = cpu.regHi[5];
  cpu.push(osz, R[5], bpHi);
  const frame = cpu.getSp();
  let p = bp;
  for (let i = 1; i < level; i++) {
    p = cpu.spAdd(p, -osz);
    const v = cpu.rdx(SEG_SS, p, osz);
    cpu.push(osz, v, cpu.hi);
  }
  if (level > 0) {
    if (osz === 8) cpu.push(8, frame % 4294967296 | 0, Math.floor(frame / 4294967296) | 0);
    else cpu.push(osz, frame);
  }
  if (osz === 8) cpu.setR64(5, frame);
  else cpu.setReg(osz, 5, 1, frame, 0);
  cpu.setSp(cpu.spAdd(cpu.getSp(), -size));
}

function arpl(cpu: X86Cpu, ins: Instr): void {
  if (!cpu.protectedMode || (cpu.flags & 0x20000) !== 0) return cpu.undefinedOpcode();
  const seg = segOf(ins), off = ins.mod === 3 ? 0 : ea(cpu, ins);
  const d = ins.mod === 3 ? cpu.getReg(2, ins.rm, 0) : cpu.rd(seg, off, 2);
  const s = cpu.getReg(2, ins.reg, 0);
  cpu.getFlags();
  if ((d & 3) < (s & 3)) {
    const r = (d & ~3) | (s & 3);
    if (ins.mod === 3) cpu.setReg(2, ins.rm, 0, r, 0);
    else cpu.wr(seg, off, 2, r);
    cpu.flags |= 0x40;
  } else cpu.flags &= ~0x40;
}

function bcdAdjust(cpu: X86Cpu, op: number): void {
  const R = cpu.reg;
  const f = cpu.getFlags();
  let al = R[0] & 0xff;
  const cf = f & FLAG_CF, af = f & FLAG_AF;
  if (op === 0x27 || op === 0x2f) {
    const oldAl = al;
    let ncf = 0, naf = 0;
    const sub = op === 0x2f;
    if ((al & 0xf) > 9 || af) {
      al = sub ? al - 6 : al + 6;
      ncf = cf | ((sub ? al < 0 : al > 0xff) ? 1 : 0);
      al &= 0xff;
      naf = 1;
    }
    if (oldAl > 0x99 || cf) {
      al = (sub ? al - 0x60 : al + 0x60) & 0xff;
      ncf = 1;
    }
    R[0] = (R[0] & ~0xff) | al;
    setResultFlags(cpu, al, 1, ncf, 0, naf);
    return;
  }
  // AAA / AAS
  let ax = R[0] & 0xffff;
  let c = 0;
  if ((al & 0xf) > 9 || af) {
    if (op === 0x37) ax = ax + 0x106;
    else ax = (ax - 6 - 0x100) & 0xffff; // AX -= 6 (may borrow from AH), then AH -= 1
    c = 1;
  }
  ax = (ax & 0xff0f) & 0xffff;
  R[0] = (R[0] & ~0xffff) | ax;
  cpu.flags = (f & ~(FLAG_CF | FLAG_AF)) | (c ? FLAG_CF | FLAG_AF : 0);
}
