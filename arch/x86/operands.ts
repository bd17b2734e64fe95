/**
 * Operand helpers of the x86 interpreter shared by `exec.ts`, `exec_0f.ts`, `string_ops.ts` and
 * `exec_fast.ts`: effective addresses (with the exact 64-bit form), the r/m operand, immediates,
 * relative jumps, the count register and the I/O privilege check. A leaf module, so the
 * execution modules do not import each other for these.
 *
 * @example
 * ```ts ignore
 * import { readRM } from "./operands.ts";
 * readRM(cpu, ins, 4); // the 32-bit r/m operand of ins
 * ```
 *
 * @module
 */

import type { X86Cpu } from "./cpu.ts";
import type { Instr } from "./decode.ts";

/** Effective address offset of the memory operand (not including the segment base). */
export function ea(cpu: X86Cpu, ins: Instr): number {
  let a = ins.disp;
  const asz = ins.asz;
  if (asz === 8) {
    if (ins.ripRel) return cpu.ip + a;
    const lo = ea64(cpu, ins);
    return cpu.eaHi * 4294967296 + (lo >>> 0);
  }
  if (ins.ripRel) return (cpu.ip + a) >>> 0;
  if (ins.base >= 0) a += cpu.reg[ins.base];
  if (ins.index >= 0) a += cpu.reg[ins.index] << ins.scale;
  return asz === 4 ? a >>> 0 : a & 0xffff;
}

/** Exact 64-bit effective address: low half returned, high half in `cpu.eaHi` (not `hi`). */
export function ea64(cpu: X86Cpu, ins: Instr): number {
  let lo = ins.disp >>> 0, hi = ins.disp >> 31;
  if (ins.ripRel) {
    const ip = cpu.ip;
    const s = lo + (ip % 4294967296 >>> 0);
    cpu.eaHi = (hi + Math.floor(ip / 4294967296) + (s > 0xffffffff ? 1 : 0)) | 0;
    return s | 0;
  }
  if (ins.base >= 0) {
    const s = lo + (cpu.reg[ins.base] >>> 0);
    hi = (hi + cpu.regHi[ins.base] + (s > 0xffffffff ? 1 : 0)) | 0;
    lo = s >>> 0;
  }
  if (ins.index >= 0) {
    const sc = ins.scale;
    const il = cpu.reg[ins.index], ih = cpu.regHi[ins.index];
    const xl = (il << sc) >>> 0;
    const xh = sc === 0 ? ih : (ih << sc) | (il >>> (32 - sc));
    const s = lo + xl;
    hi = (hi + xh + (s > 0xffffffff ? 1 : 0)) | 0;
    lo = s >>> 0;
  }
  cpu.eaHi = hi;
  return lo | 0;
}

/** Segment of the memory operand (override or default). */
export function segOf(ins: Instr): number {
  return ins.seg >= 0 ? ins.seg : ins.defSeg;
}

/** Read the r/m operand of `size` bytes (high half of 8-byte values in `cpu.hi`). */
export function readRM(cpu: X86Cpu, ins: Instr, size: number): number {
  if (ins.mod === 3) return cpu.getReg(size, ins.rm, ins.rex);
  return cpu.rdx(segOf(ins), ea(cpu, ins), size);
}

/** Write the r/m operand (register or memory at a freshly computed address). */
export function writeRM(cpu: X86Cpu, ins: Instr, size: number, v: number, hi: number): void {
  if (ins.mod === 3) cpu.setReg(size, ins.rm, ins.rex, v, hi);
  else cpu.wr(segOf(ins), ea(cpu, ins), size, v, hi);
}

/** Immediate masked to `size` (8-byte: low half; high half is the sign). */
export function immOf(imm: number, size: number): number {
  return size === 1 ? imm & 0xff : size === 2 ? imm & 0xffff : imm | 0;
}

/** Relative jump from the next instruction, wrapped to the operand size. */
export function jumpRel(cpu: X86Cpu, ins: Instr, disp: number): void {
  const t = cpu.ip + disp;
  cpu.ip = cpu.codeBits === 64 ? t : ins.osz === 2 ? t & 0xffff : t >>> 0;
}

/** Count register value for the address size (CX/ECX/RCX). */
export function getCount(cpu: X86Cpu, asz: number): number {
  return asz === 8 ? cpu.r64(1) : asz === 4 ? cpu.reg[1] >>> 0 : cpu.reg[1] & 0xffff;
}

/** Set the count register for the address size. */
export function setCount(cpu: X86Cpu, asz: number, v: number): void {
  if (asz === 8) cpu.setR64(1, v);
  else if (asz === 4) cpu.reg[1] = v | 0, cpu.regHi[1] = 0;
  else cpu.reg[1] = (cpu.reg[1] & ~0xffff) | (v & 0xffff);
}

/** I/O permission: #GP(0) when CPL > IOPL in protected mode (no TSS bitmap modelled). */
export function checkIo(cpu: X86Cpu): void {
  if (cpu.protectedMode && (cpu.cpl > ((cpu.flags >> 12) & 3) || (cpu.flags & 0x20000) !== 0)) {
    cpu.gp(0);
  }
}
