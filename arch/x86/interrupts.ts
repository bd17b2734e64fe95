/**
 * x86 exception and interrupt delivery: the real-mode IVT, 16/32-bit IDT gates and 64-bit IDT
 * gates (with IST and stack switches through the TSS), the double-fault rules and triple fault
 * (shutdown), and IRET/IRETD/IRETQ (which also unblocks NMI).
 *
 * @example
 * ```ts ignore
 * import { deliverEvent } from "./interrupts.ts";
 * deliverEvent(cpu, 0x20, -1, true); // external interrupt vector 0x20
 * ```
 *
 * @module
 */

import { FAULT, SEG_CS, SEG_SS, SEG_TR } from "./cpu_constants.ts";
import type { X86Cpu } from "./cpu.ts";
import { loadCodeSegment, readDescriptor, setSegmentFromDescriptor } from "./system.ts";

/** Exception vectors. */
export const EXC_DE = 0,
  EXC_DB = 1,
  EXC_NMI = 2,
  EXC_BP = 3,
  EXC_OF = 4,
  EXC_BR = 5,
  EXC_UD = 6,
  EXC_NM = 7,
  EXC_DF = 8,
  EXC_TS = 10,
  EXC_NP = 11,
  EXC_SS = 12,
  EXC_GP = 13,
  EXC_PF = 14,
  EXC_MF = 16,
  EXC_AC = 17;

const NAMES: Record<number, string> = {
  0: "#DE",
  1: "#DB",
  2: "NMI",
  3: "#BP",
  4: "#OF",
  5: "#BR",
  6: "#UD",
  7: "#NM",
  8: "#DF",
  10: "#TS",
  11: "#NP",
  12: "#SS",
  13: "#GP",
  14: "#PF",
  16: "#MF",
  17: "#AC",
};

/** Name of an exception vector, e.g. `#GP`. */
export function vectorName(v: number): string {
  return NAMES[v] ?? `vector 0x${v.toString(16)}`;
}

const contributory = (v: number) => v === 0 || (v >= 10 && v <= 13);

function describe(cpu: X86Cpu, v: number, code: number): string {
  const ip = cpu.ip < 0 ? BigInt.asUintN(64, BigInt(cpu.ip)).toString(16) : cpu.ip.toString(16);
  let s = `${vectorName(v)}${code >= 0 ? `(0x${code.toString(16)})` : ""} at ${
    cpu.segSel[SEG_CS].toString(16).padStart(4, "0")
  }:${ip}`;
  if (v === EXC_PF) {
    const cr2 = cpu.cr2 < 0 ? BigInt.asUintN(64, BigInt(cpu.cr2)) : cpu.cr2;
    s += ` cr2=0x${cr2.toString(16)}`;
  }
  return s;
}

/**
 * Deliver an exception or interrupt (`code` < 0: no error code). Faults during delivery
 * follow the double-fault rules; a fault while delivering #DF shuts the CPU down.
 * `external` marks hardware interrupts (EXT bit in error codes, no trace as exception).
 */
export function deliverEvent(cpu: X86Cpu, vector: number, code: number, external: boolean): void {
  let v = vector, c = code, ext = external;
  const chain: string[] = [];
  if (!ext || v === EXC_NMI) {
    const d = describe(cpu, v, c);
    chain.push(d);
    if (!ext) {
      cpu.lastException = d;
      cpu.env.trace.emit("exception", d, cpu.index);
    }
  }
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      deliverOnce(cpu, v, c, ext, false);
      return;
    } catch (e) {
      if (e !== FAULT) throw e;
      const nv = cpu.faultVector, nc = cpu.faultHasCode ? cpu.faultCode : -1;
      chain.push(describe(cpu, nv, nc));
      if (v === EXC_DF) {
        cpu.shutdown(`triple fault: ${chain.join(" -> ")}`);
        return;
      }
      if (
        (contributory(v) && contributory(nv)) ||
        (v === EXC_PF && (nv === EXC_PF || contributory(nv)))
      ) {
        v = EXC_DF, c = 0;
        chain.push("#DF");
      } else {
        v = nv, c = nc;
      }
      ext = false;
      cpu.lastException = chain.join(" -> ");
      cpu.env.trace.emit("exception", `while delivering: ${cpu.lastException}`, cpu.index);
    }
  }
  cpu.shutdown(`triple fault: ${chain.join(" -> ")}`);
}

/**
 * One delivery attempt through the IVT/IDT (faults propagate as FAULT). `soft` is an INT n /
 * INT3 / INTO instruction (gate DPL checked against CPL).
 */
export function deliverOnce(
  cpu: X86Cpu,
  vector: number,
  code: number,
  ext: boolean,
  soft: boolean,
): void {
  const flags = cpu.getFlags();
  cpu.runStateValue = "running";
  if (!cpu.protectedMode) {
    if (vector * 4 + 3 > cpu.idtrLimit) cpu.gp(0);
    const ent = cpu.rdLin32((cpu.idtrBase + vector * 4) >>> 0);
    cpu.push(2, flags & 0xffff);
    cpu.push(2, cpu.segSel[SEG_CS]);
    cpu.push(2, cpu.ip & 0xffff);
    cpu.flags = flags & ~(0x100 | 0x200 | 0x40000);
    const sel = ent >>> 16;
    cpu.segSel[SEG_CS] = sel;
    cpu.segBase[SEG_CS] = sel << 4;
    cpu.dropFetchPage();
    cpu.ip = ent & 0xffff;
    return;
  }
  const extBit = ext ? 1 : 0;
  const errSel = vector * 8 + 2 + extBit;
  const long = (cpu.efer & 0x400) !== 0;
  const gsz = long ? 16 : 8;
  if (vector * gsz + gsz - 1 > cpu.idtrLimit) cpu.gp(errSel);
  const gaddr = cpu.idtrBase + vector * gsz;
  const lo = cpu.rdLin32(long ? gaddr : gaddr >>> 0);
  const hi = cpu.rdLin32(long ? gaddr + 4 : (gaddr + 4) >>> 0);
  const type = (hi >> 8) & 0x1f;
  const dpl = (hi >> 13) & 3;
  if (soft && dpl < cpu.cpl) cpu.gp(errSel);
  const okType = long ? type === 0xe || type === 0xf : type === 6 || type === 7 || type === 0xe ||
    type === 0xf;
  if (!okType) cpu.gp(errSel); // task gates are not modelled
  if ((hi & 0x8000) === 0) cpu.fault(EXC_NP, errSel);
  const sel = lo >>> 16;
  let offset: number;
  if (long) {
    const hi2 = cpu.rdLin32(gaddr + 8);
    offset = hi2 * 4294967296 + (((hi & 0xffff0000) | (lo & 0xffff)) >>> 0);
  } else {
    offset = ((hi & 0xffff0000) | (lo & 0xffff)) >>> 0;
    if ((type & 8) === 0) offset &= 0xffff;
  }
  // Target code segment.
  if ((sel & 0xfffc) === 0) cpu.gp(extBit);
  const dlo = readDescriptor(cpu, sel, extBit);
  const dhi = cpu.hi;
  const dattr = (dhi >> 8) & 0xf0ff;
  if ((dattr & 0x18) !== 0x18) cpu.gp((sel & 0xfffc) | extBit);
  if ((dattr & 0x80) === 0) cpu.fault(EXC_NP, (sel & 0xfffc) | extBit);
  const conforming = (dattr & 4) !== 0;
  const cdpl = (dattr >> 5) & 3;
  const newCpl = conforming ? cpu.cpl : cdpl;
  if (newCpl > cpu.cpl) cpu.gp((sel & 0xfffc) | extBit);
  if (long && (dattr & 0x2000) === 0) cpu.gp((sel & 0xfffc) | extBit);
  const oldCs = cpu.segSel[SEG_CS], oldIp = cpu.ip;
  const oldSs = cpu.segSel[SEG_SS];
  const oldSp = long ? cpu.r64(4) : cpu.reg[4] >>> 0;
  if (long) {
    const ist = hi & 7;
    let rsp: number;
    if (ist !== 0) rsp = readTss64(cpu, 0x24 + (ist - 1) * 8);
    else if (newCpl < cpu.cpl) rsp = readTss64(cpu, 4 + newCpl * 8);
    else rsp = cpu.r64(4);
    rsp -= rsp % 16 < 0 ? 16 + (rsp % 16) : rsp % 16;
    const words = [oldSs, oldSp, cpu.getFlags(), oldCs, oldIp];
    if (code >= 0) words.push(code);
    for (const w of words) {
      rsp -= 8;
      const big = BigInt.asUintN(64, BigInt(w));
      cpu.wrLin64(rsp, Number(big & 0xffffffffn) | 0, Number(big >> 32n) | 0);
    }
    if (newCpl !== cpu.cpl) {
      cpu.segSel[SEG_SS] = newCpl;
      cpu.segBase[SEG_SS] = 0;
      cpu.segLimit[SEG_SS] = 0xffffffff;
      cpu.segAttr[SEG_SS] = 0x93 | (newCpl << 5) | 0x4000 | 0x8000;
    }
    setSegmentFromDescriptor(cpu, SEG_CS, (sel & 0xfffc) | newCpl, dlo, dhi);
    cpu.setR64(4, rsp);
    cpu.updateMode();
  } else {
    const gate32 = (type & 8) !== 0;
    const psz = gate32 ? 4 : 2;
    if (newCpl < cpu.cpl) {
      // Inner-ring stack from the 32-bit TSS (SS0:ESP0 at +4/+8, 8 bytes per ring).
      const tssBase = cpu.segBase[SEG_TR];
      const esp = cpu.rdLin32((tssBase + 4 + newCpl * 8) >>> 0);
      const ss = cpu.rdLin16((tssBase + 8 + newCpl * 8) >>> 0);
      const slo = readDescriptor(cpu, ss, extBit);
      setSegmentFromDescriptor(cpu, SEG_SS, ss, slo, cpu.hi);
      cpu.reg[4] = esp;
      cpu.updateMode();
      cpu.push(psz, oldSs);
      cpu.push(psz, oldSp);
    }
    cpu.push(psz, flags);
    cpu.push(psz, oldCs);
    cpu.push(psz, oldIp);
    if (code >= 0) cpu.push(psz, code);
    loadCodeSegment(cpu, (sel & 0xfffc) | newCpl, dlo, dhi);
  }
  cpu.ip = offset;
  // TF, NT, RF, VM cleared; interrupt gates also clear IF.
  cpu.flags = cpu.flags & ~(0x100 | 0x4000 | 0x10000 | 0x20000 | ((type & 1) === 0 ? 0x200 : 0));
  cpu.updateMode();
}

function readTss64(cpu: X86Cpu, off: number): number {
  const base = cpu.segBase[SEG_TR];
  if (off + 7 > cpu.segLimit[SEG_TR]) cpu.fault(EXC_TS, cpu.segSel[SEG_TR] & 0xfffc);
  const lo = cpu.rdLin32(base + off);
  return cpu.hi = cpu.rdLin32(base + off + 4), cpu.hi * 4294967296 + (lo >>> 0);
}

/** Writable EFLAGS bits for POPF/IRET at the current privilege. */
export function writableFlags(cpu: X86Cpu, iret: boolean): number {
  let m = 0x4fd5; // CF PF AF ZF SF TF DF OF NT
  const iopl = (cpu.flags >> 12) & 3;
  if (cpu.cpl <= iopl) m |= 0x200;
  if (cpu.cpl === 0) m |= 0x3000;
  if (cpu.model.features.i486) m |= 0x40000;
  if (cpu.model.features.cpuid) m |= 0x200000;
  if (iret) m |= 0x10000;
  return m;
}

/** IRET / IRETD / IRETQ with operand size `osz`. */
export function iret(cpu: X86Cpu, osz: number): void {
  cpu.nmiBlocked = false;
  if (!cpu.protectedMode) {
    const ip = cpu.pop(osz), cs = cpu.pop(osz) & 0xffff, fl = cpu.pop(osz);
    const m = writableFlags(cpu, true) & (osz === 2 ? 0xffff : -1);
    cpu.flags = (cpu.getFlags() & ~m) | (fl & m) | 2;
    cpu.segSel[SEG_CS] = cs;
    cpu.segBase[SEG_CS] = cs << 4;
    cpu.dropFetchPage();
    cpu.ip = osz === 2 ? ip & 0xffff : ip >>> 0;
    cpu.updateMode();
    return;
  }
  if ((cpu.flags & 0x4000) !== 0 && (cpu.efer & 0x400) === 0) cpu.gp(0); // task return
  const mode64 = cpu.mode64;
  const ipLo = cpu.pop(osz), ipHi = osz === 8 ? cpu.hi : 0;
  const cs = cpu.pop(osz) & 0xffff;
  const fl = cpu.pop(osz);
  const rpl = cs & 3;
  if (rpl < cpu.cpl) cpu.gp(cs & 0xfffc);
  let spLo = 0, spHi = 0, ss = -1;
  if (mode64 || rpl > cpu.cpl) {
    spLo = cpu.pop(osz), spHi = osz === 8 ? cpu.hi : 0;
    ss = cpu.pop(osz) & 0xffff;
  }
  const dlo = readDescriptor(cpu, cs, 0);
  const dhi = cpu.hi;
  const m = writableFlags(cpu, true) & (osz === 2 ? 0xffff : -1);
  const newFlags = (cpu.getFlags() & ~m) | (fl & m) | 2;
  loadCodeSegment(cpu, cs, dlo, dhi);
  cpu.flags = newFlags;
  cpu.ip = osz === 8 ? ipHi * 4294967296 + (ipLo >>> 0) : osz === 4 ? ipLo >>> 0 : ipLo & 0xffff;
  if (ss >= 0) {
    if ((ss & 0xfffc) === 0 && (cpu.efer & 0x400) !== 0 && rpl < 3) {
      cpu.segSel[SEG_SS] = ss;
      cpu.segAttr[SEG_SS] = (cpu.segAttr[SEG_SS] & ~0x60) | (rpl << 5);
    } else {
      const slo = readDescriptor(cpu, ss, 0);
      setSegmentFromDescriptor(cpu, SEG_SS, ss, slo, cpu.hi);
    }
    cpu.updateMode();
    if (osz === 8) cpu.setR64(4, spHi * 4294967296 + (spLo >>> 0));
    else if (osz === 4) cpu.reg[4] = spLo, cpu.regHi[4] = 0;
    else cpu.reg[4] = (cpu.reg[4] & ~0xffff) | (spLo & 0xffff);
  }
  cpu.updateMode();
}
