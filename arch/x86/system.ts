/**
 * x86 system state: descriptor-table reads, segment register loads with protected-mode checks,
 * far JMP/CALL/RET, control registers (with the mode transitions CR0.PE/PG, EFER.LME -> LMA),
 * MSRs, CPUID, and the descriptor-table instructions' helpers. Model features gate what exists:
 * a 386 has no CR4, a 32-bit model cannot set EFER.LME, NXE needs NX.
 *
 * @example
 * ```ts ignore
 * import { writeCr } from "./system.ts";
 * writeCr(cpu, 0, 0x80000011); // enable paging
 * ```
 *
 * @module
 */

import { SEG_CS, SEG_FS, SEG_GS, SEG_LDTR, SEG_SS, SEG_TR } from "./cpu_constants.ts";
import type { X86Cpu } from "./cpu.ts";
import { loadPdptes } from "./paging.ts";

const EXC_NP = 11, EXC_SS = 12;

/**
 * Read the 8-byte descriptor for selector `sel` from the GDT or LDT: low dword returned, high
 * dword in `cpu.hi`. #GP(selector | ext) when outside the table limit.
 */
export function readDescriptor(cpu: X86Cpu, sel: number, ext: number): number {
  const idx = sel & 0xfff8;
  let base: number, limit: number;
  if ((sel & 4) !== 0) {
    if ((cpu.segAttr[SEG_LDTR] & 0x80) === 0) cpu.gp((sel & 0xfffc) | ext);
    base = cpu.segBase[SEG_LDTR], limit = cpu.segLimit[SEG_LDTR];
  } else {
    base = cpu.gdtrBase, limit = cpu.gdtrLimit;
  }
  if (idx + 7 > limit) cpu.gp((sel & 0xfffc) | ext);
  const a = base + idx;
  const lin = cpu.mode64 || (cpu.efer & 0x400) !== 0 ? a : a >>> 0;
  const lo = cpu.rdLin32(lin);
  cpu.hi = cpu.rdLin32(lin + 4);
  return lo;
}

/** Fill segment register `seg`'s cache from a descriptor (sets the accessed bit in memory). */
export function setSegmentFromDescriptor(
  cpu: X86Cpu,
  seg: number,
  sel: number,
  lo: number,
  hi: number,
): void {
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  if ((hi & 0x800000) !== 0) limit = ((limit << 12) | 0xfff) >>> 0;
  cpu.segSel[seg] = sel & 0xffff;
  cpu.segBase[seg] = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
  cpu.segLimit[seg] = limit;
  cpu.segAttr[seg] = (hi >> 8) & 0xf0ff;
  if ((hi & 0x1000) !== 0 && (hi & 0x100) === 0) {
    // Set the accessed bit of a code/data descriptor in the table.
    cpu.segAttr[seg] |= 1;
    const table = (sel & 4) !== 0 ? cpu.segBase[SEG_LDTR] : cpu.gdtrBase;
    const a = table + (sel & 0xfff8) + 4;
    cpu.wrLin32((cpu.efer & 0x400) !== 0 ? a : a >>> 0, hi | 0x100);
  }
}

/** Load CS from a code descriptor (checks done by the caller) and update the mode. */
export function loadCodeSegment(cpu: X86Cpu, sel: number, lo: number, hi: number): void {
  setSegmentFromDescriptor(cpu, SEG_CS, sel, lo, hi);
  const before = cpu.codeBits;
  cpu.updateMode();
  if (cpu.codeBits !== before) {
    cpu.env.trace.emit("mode", `CS=${sel.toString(16)}: ${cpu.modeName}`, cpu.index);
  }
}

/** MOV/POP Sreg, LDS/LES/LFS/LGS/LSS: load a data segment register (or SS) with checks. */
export function loadSegment(cpu: X86Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!cpu.protectedMode || (cpu.flags & 0x20000) !== 0) {
    cpu.segSel[seg] = sel;
    cpu.segBase[seg] = sel << 4;
    if (seg === SEG_SS) cpu.updateMode();
    return;
  }
  if ((sel & 0xfffc) === 0) {
    if (seg === SEG_SS && !(cpu.mode64 && cpu.cpl < 3)) cpu.gp(0);
    cpu.segSel[seg] = sel;
    cpu.segBase[seg] = 0;
    cpu.segAttr[seg] = seg === SEG_SS ? (cpu.segAttr[seg] & 0x60) | 0x4093 : 0;
    if (seg === SEG_SS) cpu.updateMode();
    return;
  }
  const lo = readDescriptor(cpu, sel, 0);
  const hi = cpu.hi;
  const attr = (hi >> 8) & 0xff;
  const dpl = (attr >> 5) & 3, rpl = sel & 3;
  if (seg === SEG_SS) {
    if (rpl !== cpu.cpl || dpl !== cpu.cpl || (attr & 0x1a) !== 0x12) cpu.gp(sel & 0xfffc);
    if ((attr & 0x80) === 0) cpu.fault(EXC_SS, sel & 0xfffc);
  } else {
    // data, or readable code
    if ((attr & 0x10) === 0 || (attr & 0x0a) === 0x08) cpu.gp(sel & 0xfffc);
    const conformingCode = (attr & 0x0c) === 0x0c;
    if (!conformingCode && (rpl > dpl || cpu.cpl > dpl)) cpu.gp(sel & 0xfffc);
    if ((attr & 0x80) === 0) cpu.fault(EXC_NP, sel & 0xfffc);
  }
  setSegmentFromDescriptor(cpu, seg, sel, lo, hi);
  if (seg === SEG_SS) cpu.updateMode();
}

/** Far JMP (call=false) or CALL to `sel:offset` with operand size `osz`. */
export function farTransfer(cpu: X86Cpu, sel: number, offset: number, call: boolean, osz: number) {
  sel &= 0xffff;
  if (!cpu.protectedMode || (cpu.flags & 0x20000) !== 0) {
    if (call) {
      cpu.push(osz, cpu.segSel[SEG_CS]);
      cpu.push(osz, cpu.ip);
    }
    cpu.segSel[SEG_CS] = sel;
    cpu.segBase[SEG_CS] = sel << 4;
    cpu.dropFetchPage();
    cpu.ip = osz === 2 ? offset & 0xffff : offset >>> 0;
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.gp(0);
  const lo = readDescriptor(cpu, sel, 0);
  const hi = cpu.hi;
  const attr = (hi >> 8) & 0xff;
  if ((attr & 0x18) !== 0x18) cpu.gp(sel & 0xfffc); // call gates / TSS: not modelled
  const dpl = (attr >> 5) & 3;
  if ((attr & 4) !== 0) {
    if (dpl > cpu.cpl) cpu.gp(sel & 0xfffc);
  } else if ((sel & 3) > cpu.cpl || dpl !== cpu.cpl) cpu.gp(sel & 0xfffc);
  if ((attr & 0x80) === 0) cpu.fault(EXC_NP, sel & 0xfffc);
  if (call) {
    const sz = cpu.mode64 && osz === 4 ? 8 : osz;
    cpu.push(sz, cpu.segSel[SEG_CS]);
    const ip = BigInt.asUintN(64, BigInt(cpu.ip));
    cpu.push(sz, Number(ip & 0xffffffffn) | 0, Number(ip >> 32n) | 0);
  }
  loadCodeSegment(cpu, (sel & 0xfffc) | cpu.cpl, lo, hi);
  cpu.ip = cpu.mode64 ? offset : osz === 2 ? offset & 0xffff : offset >>> 0;
}

/** RETF / LRETQ with operand size `osz`, releasing `imm` extra stack bytes. */
export function farReturn(cpu: X86Cpu, osz: number, imm: number): void {
  const ipLo = cpu.pop(osz), ipHi = osz === 8 ? cpu.hi : 0;
  const sel = cpu.pop(osz) & 0xffff;
  if (!cpu.protectedMode || (cpu.flags & 0x20000) !== 0) {
    cpu.segSel[SEG_CS] = sel;
    cpu.segBase[SEG_CS] = sel << 4;
    cpu.dropFetchPage();
    cpu.ip = osz === 2 ? ipLo & 0xffff : ipLo >>> 0;
    cpu.setSp(cpu.spAdd(cpu.getSp(), imm));
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.gp(0);
  const rpl = sel & 3;
  if (rpl < cpu.cpl) cpu.gp(sel & 0xfffc);
  const lo = readDescriptor(cpu, sel, 0);
  const hi = cpu.hi;
  const attr = (hi >> 8) & 0xff;
  if ((attr & 0x18) !== 0x18) cpu.gp(sel & 0xfffc);
  if ((attr & 0x80) === 0) cpu.fault(EXC_NP, sel & 0xfffc);
  let newSp = -1, newSpHi = 0, newSs = -1;
  if (rpl > cpu.cpl) {
    cpu.setSp(cpu.spAdd(cpu.getSp(), imm));
    newSp = cpu.pop(osz), newSpHi = osz === 8 ? cpu.hi : 0;
    newSs = cpu.pop(osz) & 0xffff;
  }
  loadCodeSegment(cpu, sel, lo, hi);
  const ip = osz === 8 ? ipHi * 4294967296 + (ipLo >>> 0) : ipLo >>> 0;
  cpu.ip = cpu.mode64 ? ip : cpu.codeBits === 16 ? ip & 0xffff : ip >>> 0;
  if (newSs >= 0) {
    loadSegment(cpu, SEG_SS, newSs);
    if (osz === 8) cpu.setR64(4, newSpHi * 4294967296 + (newSp >>> 0));
    else cpu.setSp(newSp >>> 0);
  }
  cpu.setSp(cpu.spAdd(cpu.getSp(), imm));
}

/** MOV CRn, reg: write control register `n` (value as a non-negative number). */
export function writeCr(cpu: X86Cpu, n: number, value: number, valueHi: number): void {
  const f = cpu.model.features;
  switch (n) {
    case 0: {
      if (valueHi !== 0) cpu.gp(0);
      let v = value >>> 0;
      // `>>> 0`: keep CR0 unsigned (bitwise results are signed int32 with PG set).
      if (f.i486) v = ((v & 0xe005003f) | 0x10) >>> 0;
      else v = ((v & 0x8000001f) | 0x7fffffe0) >>> 0;
      if ((v & 0x80000000) !== 0 && (v & 1) === 0) cpu.gp(0);
      if ((v & 0x60000000) === 0x20000000) cpu.gp(0); // NW without CD
      const old = cpu.cr0;
      const pgOn = (v & 0x80000000) !== 0 && (old & 0x80000000) === 0;
      const pgOff = (v & 0x80000000) === 0 && (old & 0x80000000) !== 0;
      let efer = cpu.efer;
      if (pgOn && (efer & 0x100) !== 0) {
        if ((cpu.cr4 & 0x20) === 0) cpu.gp(0);
        efer |= 0x400; // LMA
      } else if (pgOn && (cpu.cr4 & 0x20) !== 0) {
        const save = cpu.cr0;
        cpu.cr0 = v;
        try {
          loadPdptes(cpu, true);
        } finally {
          cpu.cr0 = save;
        }
      }
      if (pgOff && (efer & 0x400) !== 0) {
        if (cpu.mode64) cpu.gp(0);
        efer &= ~0x400;
      }
      cpu.cr0 = v;
      cpu.efer = efer;
      cpu.updateMode();
      if (((old ^ v) & 0x80010001) !== 0) {
        cpu.flushTlb(true);
        cpu.env.trace.emit(
          "mode",
          `cr0 0x${(old >>> 0).toString(16)} -> 0x${v.toString(16)}: ${cpu.modeName}${
            (efer & 0x400) !== 0 ? " (long mode active)" : ""
          }`,
          cpu.index,
        );
      }
      return;
    }
    case 2:
      cpu.cr2 = valueHi * 4294967296 + (value >>> 0);
      return;
    case 3: {
      const v = (valueHi >>> 0) * 4294967296 + (value >>> 0);
      if ((cpu.efer & 0x400) !== 0 && valueHi >>> 0 >= 2 ** (cpu.model.maxPhysAddr - 32)) cpu.gp(0);
      const old = cpu.cr3;
      cpu.cr3 = (cpu.efer & 0x400) !== 0 ? v : value >>> 0;
      if (cpu.paging && (cpu.cr4 & 0x20) !== 0 && (cpu.efer & 0x400) === 0) {
        try {
          loadPdptes(cpu, true);
        } catch (e) {
          cpu.cr3 = old;
          throw e;
        }
      }
      cpu.flushTlb(false);
      return;
    }
    case 4: {
      if (!f.cr4) cpu.notOnModel();
      if (valueHi !== 0 || (value & ~f.cr4Mask) !== 0) cpu.gp(0);
      const v = value >>> 0;
      const old = cpu.cr4;
      if ((cpu.efer & 0x400) !== 0 && (v & 0x20) === 0) cpu.gp(0);
      if (cpu.paging && (v & 0x20) !== 0 && (cpu.efer & 0x400) === 0 && ((old ^ v) & 0xb0) !== 0) {
        const save = cpu.cr4;
        cpu.cr4 = v;
        try {
          loadPdptes(cpu, true);
        } catch (e) {
          cpu.cr4 = save;
          throw e;
        }
      }
      cpu.cr4 = v;
      if (((old ^ v) & 0xb0) !== 0) cpu.flushTlb(true);
      return;
    }
    case 8:
      if (!cpu.mode64) cpu.ud();
      return; // TPR not modelled
    default:
      cpu.ud();
  }
}

/** MOV reg, CRn: returns the low half, high half in `cpu.hi`. */
export function readCr(cpu: X86Cpu, n: number): number {
  let v: number;
  switch (n) {
    case 0:
      v = cpu.cr0 >>> 0;
      break;
    case 2:
      v = cpu.cr2;
      break;
    case 3:
      v = cpu.cr3;
      break;
    case 4:
      if (!cpu.model.features.cr4) cpu.notOnModel();
      v = cpu.cr4;
      break;
    case 8:
      if (!cpu.mode64) cpu.ud();
      v = 0;
      break;
    default:
      return cpu.ud();
  }
  const b = BigInt.asUintN(64, BigInt(v));
  cpu.hi = Number(b >> 32n) | 0;
  return Number(b & 0xffffffffn) | 0;
}

const KNOWN_MSRS_P6 = [
  0x17,
  0x8b,
  0xfe,
  0x174,
  0x175,
  0x176,
  0x179,
  0x17a,
  0x17b,
  0x1a0,
  0x1d9,
  0x277,
  0x2ff,
  0x250,
  0x258,
  0x259,
  0x268,
  0x269,
  0x26a,
  0x26b,
  0x26c,
  0x26d,
  0x26e,
  0x26f,
];

function msrExists(cpu: X86Cpu, idx: number): boolean {
  const f = cpu.model.features;
  if (idx === 0x10) return true;
  if (idx === 0x1b) return f.apicBaseMsr;
  if (idx === 0xc0000080) return f.efer;
  if (idx >= 0xc0000081 && idx <= 0xc0000084) return f.longMode;
  if (idx >= 0xc0000100 && idx <= 0xc0000102) return f.longMode;
  if (!f.p6) return idx === 0 || idx === 1 || idx === 0xe || (idx >= 0x11 && idx <= 0x14);
  if (idx >= 0x200 && idx <= 0x20f) return true;
  return KNOWN_MSRS_P6.includes(idx);
}

/** RDMSR value, or undefined when the MSR does not exist (#GP). */
export function rdmsrValue(cpu: X86Cpu, idx: number): bigint | undefined {
  if (!msrExists(cpu, idx)) return undefined;
  switch (idx) {
    case 0x10:
      return BigInt.asUintN(64, BigInt(Math.floor(cpu.env.clock.now())) + BigInt(cpu.tscOffset));
    case 0x1b:
      return cpu.apicBase;
    case 0xc0000080:
      return BigInt(cpu.efer >>> 0);
    case 0xc0000100:
      return BigInt.asUintN(64, BigInt(cpu.segBase[SEG_FS]));
    case 0xc0000101:
      return BigInt.asUintN(64, BigInt(cpu.segBase[SEG_GS]));
    case 0xfe:
      return 0x508n; // MTRRcap: 8 variable ranges, fixed ranges, WC
    case 0x2ff:
      return cpu.msrs.get(idx) ?? 0n;
    default:
      return cpu.msrs.get(idx) ?? 0n;
  }
}

/** WRMSR; returns false when the write faults (#GP). */
export function wrmsrValue(cpu: X86Cpu, idx: number, value: bigint): boolean {
  if (!msrExists(cpu, idx)) return false;
  switch (idx) {
    case 0x10:
      cpu.tscOffset = Number(BigInt.asIntN(64, value - BigInt(Math.floor(cpu.env.clock.now()))));
      return true;
    case 0x1b: {
      const physMask = (1n << BigInt(cpu.model.maxPhysAddr)) - 1n;
      if ((value & ~physMask & ~0xfffn) !== 0n || (value & 0x6ffn) !== 0n) return false;
      const v = (value & ~0x100n) | (cpu.apicBase & 0x100n);
      cpu.apicBase = v;
      cpu.env.pins.apicBaseWritten?.(v);
      return true;
    }
    case 0xc0000080: {
      const f = cpu.model.features;
      const v = Number(value & 0xffffffffn);
      if (value >> 32n !== 0n || (v & ~f.eferMask & ~0x400) !== 0) return false;
      if (cpu.paging && ((v ^ cpu.efer) & 0x100) !== 0) return false; // LME with paging on
      cpu.efer = (v & ~0x400) | (cpu.efer & 0x400);
      cpu.flushTlb(true);
      cpu.updateMode();
      return true;
    }
    case 0xc0000100:
    case 0xc0000101: {
      const s = BigInt.asIntN(64, value);
      if (s < -(1n << 47n) || s >= 1n << 47n) return false;
      cpu.segBase[idx === 0xc0000100 ? SEG_FS : SEG_GS] = Number(s);
      return true;
    }
    default:
      cpu.msrs.set(idx, value);
      return true;
  }
}

/** CPUID for leaf EAX / subleaf ECX; writes EAX, EBX, ECX, EDX. */
export function cpuid(cpu: X86Cpu): void {
  const m = cpu.model;
  const leaf = cpu.reg[0] >>> 0;
  let r: readonly number[];
  if (leaf >= 0x80000000) {
    const ext = m.extendedLeaves;
    const i = leaf - 0x80000000;
    if (ext.length > 0 && i < ext.length) r = ext[i];
    else if (m.vendor === "GenuineIntel") r = m.basicLeaves[m.basicLeaves.length - 1];
    else r = [0, 0, 0, 0];
  } else if (leaf < m.basicLeaves.length) {
    r = m.basicLeaves[leaf];
  } else {
    r = m.vendor === "GenuineIntel" ? m.basicLeaves[m.basicLeaves.length - 1] : [0, 0, 0, 0];
  }
  let [a, b, c, d] = r;
  if (leaf === 1) {
    b = (b & 0x00ffffff) | ((cpu.apicId & 0xff) << 24);
    if ((cpu.apicBase & 0x800n) === 0n && m.features.apicBaseMsr) d &= ~0x200; // APIC off
  }
  cpu.reg[0] = a | 0, cpu.reg[3] = b | 0, cpu.reg[1] = c | 0, cpu.reg[2] = d | 0;
  cpu.regHi[0] =
    cpu.regHi[1] =
    cpu.regHi[2] =
    cpu.regHi[3] =
      0;
}

/** LLDT (ldt=true) or LTR with selector `sel`. */
export function loadSystemSegment(cpu: X86Cpu, ldt: boolean, sel: number): void {
  sel &= 0xffff;
  const seg = ldt ? SEG_LDTR : SEG_TR;
  if ((sel & 0xfffc) === 0) {
    if (!ldt) cpu.gp(0);
    cpu.segSel[seg] = sel;
    cpu.segAttr[seg] = 0;
    return;
  }
  if ((sel & 4) !== 0) cpu.gp(sel & 0xfffc);
  const lo = readDescriptor(cpu, sel, 0);
  const hi = cpu.hi;
  const type = (hi >> 8) & 0x1f;
  const long = (cpu.efer & 0x400) !== 0;
  if (ldt ? type !== 2 : !(type === 9 || (!long && type === 1))) cpu.gp(sel & 0xfffc);
  if ((hi & 0x8000) === 0) cpu.fault(EXC_NP, sel & 0xfffc);
  setSegmentFromDescriptor(cpu, seg, sel, lo, hi);
  if (long) {
    const upper = cpu.rdLin32(cpu.gdtrBase + (sel & 0xfff8) + 8);
    cpu.segBase[seg] = upper * 4294967296 + cpu.segBase[seg];
  }
  if (!ldt) {
    const a = cpu.gdtrBase + (sel & 0xfff8) + 4;
    cpu.wrLin32(long ? a : a >>> 0, hi | 0x200); // busy
    cpu.segAttr[seg] |= 2;
  }
}
