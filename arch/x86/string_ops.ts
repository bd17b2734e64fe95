/**
 * String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with REP/REPE/REPNE. REP MOVS
 * and REP STOS take a bulk path per page pair (`PhysicalMemory.copy` / `writeBytes`) when both
 * pages are RAM and the copy does not interfere with itself; registers then advance by whole
 * pages. A fault at a page boundary leaves (E)CX/(E)SI/(E)DI describing exactly the elements
 * already done, as the per-element hardware loop would; a pending interrupt stops the REP
 * between chunks with IP at the instruction so it resumes afterwards.
 *
 * @example
 * ```ts ignore
 * import { stringOp } from "./string_ops.ts";
 * stringOp(cpu, ins, 0xa5); // (REP) MOVSD
 * ```
 *
 * @module
 */

import { ACC_R, ACC_W, FAULT, SEG_DS, SEG_ES, TLB_SIZE } from "./cpu_constants.ts";
import type { X86Cpu } from "./cpu.ts";
import type { Instr } from "./decode.ts";
import { alu, alu64 } from "./alu.ts";
import { checkIo, getCount, setCount } from "./operands.ts";
import { FLAG_DF, FLAG_ZF } from "./flags.ts";

function getIdx(cpu: X86Cpu, r: number, asz: number): number {
  return asz === 8 ? cpu.r64(r) : asz === 4 ? cpu.reg[r] >>> 0 : cpu.reg[r] & 0xffff;
}

function setIdx(cpu: X86Cpu, r: number, asz: number, v: number): void {
  if (asz === 8) cpu.setR64(r, v);
  else if (asz === 4) cpu.reg[r] = v | 0, cpu.regHi[r] = 0;
  else cpu.reg[r] = (cpu.reg[r] & ~0xffff) | (v & 0xffff);
}

const scratch = new Uint8Array(4096);

/**
 * A REP instruction yields (IP back at the instruction, registers consistent) after this many
 * elements on the bulk path / per-element path, so one instruction never runs unbounded and
 * the run loop's budget and interrupts stay responsive. Hardware may likewise take interrupts
 * between iterations; the only visible difference is the retired-instruction count.
 */
const REP_SLICE = 1 << 18;
const REP_SLICE_SLOW = 1 << 12;

/** Execute string opcode `op` (6C-6F, A4-A7, AA-AF) with its prefixes. */
export function stringOp(cpu: X86Cpu, ins: Instr, op: number): void {
  const size = (op & 1) === 0 ? 1 : op <= 0x6f && ins.osz === 8 ? 4 : ins.osz;
  const asz = ins.asz;
  const srcSeg = ins.seg >= 0 ? ins.seg : SEG_DS;
  const delta = (cpu.flags & FLAG_DF) !== 0 ? -size : size;
  const kind = op & 0xfe;
  if (kind === 0x6c || kind === 0x6e) checkIo(cpu);
  if (ins.rep === 0) {
    element(cpu, kind, size, srcSeg, asz, delta);
    return;
  }
  const cmp = kind === 0xa6 || kind === 0xae;
  const untilEqual = ins.rep === 0xf2; // REPNE
  let count = getCount(cpu, asz);
  let sinceCheck = 0;
  while (count !== 0) {
    if (!cmp && asz !== 2 && (kind === 0xa4 || kind === 0xaa)) {
      const done = bulk(cpu, kind, size, srcSeg, asz, delta, count);
      if (done > 0) {
        count -= done;
        sinceCheck += done;
        if (count !== 0 && (sinceCheck >= REP_SLICE || (cpu.eventPending && sinceCheck >= 4096))) {
          cpu.ip = cpu.instrStart; // resume the REP after the interrupt
          return;
        }
        continue;
      }
    }
    element(cpu, kind, size, srcSeg, asz, delta);
    count = asz === 8 ? count - 1 : asz === 4 ? (count - 1) >>> 0 : (count - 1) & 0xffff;
    setCount(cpu, asz, count);
    if (cmp) {
      const zf = (cpu.getFlags() & FLAG_ZF) !== 0;
      if (zf === untilEqual) return;
    }
    if (++sinceCheck >= 4096 && count !== 0 && (cpu.eventPending || sinceCheck >= REP_SLICE_SLOW)) {
      cpu.ip = cpu.instrStart;
      return;
    }
  }
}

function element(
  cpu: X86Cpu,
  kind: number,
  size: number,
  srcSeg: number,
  asz: number,
  delta: number,
): void {
  switch (kind) {
    case 0xa4: {
      const si = getIdx(cpu, 6, asz), di = getIdx(cpu, 7, asz);
      const v = cpu.rdx(srcSeg, si, size);
      cpu.wr(SEG_ES, di, size, v, cpu.hi);
      setIdx(cpu, 6, asz, si + delta);
      setIdx(cpu, 7, asz, di + delta);
      return;
    }
    case 0xa6: {
      const si = getIdx(cpu, 6, asz), di = getIdx(cpu, 7, asz);
      const a = cpu.rdx(srcSeg, si, size), ah = cpu.hi;
      const b = cpu.rdx(SEG_ES, di, size), bh = cpu.hi;
      if (size === 8) alu64(cpu, 7, a, ah, b, bh);
      else alu(cpu, 7, size, a, b);
      setIdx(cpu, 6, asz, si + delta);
      setIdx(cpu, 7, asz, di + delta);
      return;
    }
    case 0xaa: {
      const di = getIdx(cpu, 7, asz);
      cpu.wr(SEG_ES, di, size, cpu.getReg(size, 0, 1), cpu.hi);
      setIdx(cpu, 7, asz, di + delta);
      return;
    }
    case 0xac: {
      const si = getIdx(cpu, 6, asz);
      const v = cpu.rdx(srcSeg, si, size);
      cpu.setReg(size, 0, 1, v, cpu.hi);
      setIdx(cpu, 6, asz, si + delta);
      return;
    }
    case 0xae: {
      const di = getIdx(cpu, 7, asz);
      const b = cpu.rdx(SEG_ES, di, size), bh = cpu.hi;
      const a = cpu.getReg(size, 0, 1), ah = cpu.hi;
      if (size === 8) alu64(cpu, 7, a, ah, b, bh);
      else alu(cpu, 7, size, a, b);
      setIdx(cpu, 7, asz, di + delta);
      return;
    }
    case 0x6c: {
      const di = getIdx(cpu, 7, asz);
      // The destination is probed before the port is read (no lost input on a fault).
      cpu.lin(SEG_ES, di, size, true);
      const v = cpu.env.io.read(cpu.reg[2] & 0xffff, size as 1 | 2 | 4);
      cpu.wr(SEG_ES, di, size, v | 0);
      setIdx(cpu, 7, asz, di + delta);
      return;
    }
    default: {
      const si = getIdx(cpu, 6, asz);
      const v = cpu.rd(srcSeg, si, size);
      cpu.env.io.write(cpu.reg[2] & 0xffff, size as 1 | 2 | 4, v);
      setIdx(cpu, 6, asz, si + delta);
    }
  }
}

/** Physical page base for a linear address and access kind, through the TLB (may #PF). */
function physPage(cpu: X86Cpu, lin: number, kind: number): number {
  const lpn = Math.floor(lin / 4096);
  let i = kind * TLB_SIZE + (lpn & (TLB_SIZE - 1));
  if (cpu.tlbTag[i] !== lpn) i = cpu.tlbFill(lin, kind, lpn);
  return cpu.tlbRam[i] === 1 ? cpu.tlbPhys[i] : -1;
}

/**
 * Bytes beyond the first `first` bytes that can be added to a forward bulk operation because
 * the following linear pages of the destination (and source) are RAM at physically contiguous
 * addresses. Stops at the first page that would fault (the per-page path then faults there with
 * exact registers) and at `REP_SLICE` elements' worth of bytes.
 */
function contiguousPages(
  cpu: X86Cpu,
  kind: number,
  dLin: number,
  sLin: number,
  first: number,
  max: number,
  size: number,
): number {
  if (((dLin + first) & 0xfff) !== 0) return 0;
  if (kind === 0xa4 && ((sLin + first) & 0xfff) !== 0) return 0;
  const dPhys0 = physPage(cpu, dLin, ACC_W);
  const sPhys0 = kind === 0xa4 ? physPage(cpu, sLin, ACC_R) : 0;
  if (dPhys0 < 0 || sPhys0 < 0) return 0;
  let extra = 0;
  const limit = Math.min(max, REP_SLICE * size) - first;
  const cr2 = cpu.cr2;
  try {
    for (let k = 1; extra < limit; k++) {
      if (physPage(cpu, dLin + first + extra, ACC_W) !== dPhys0 + k * 4096) break;
      if (kind === 0xa4 && physPage(cpu, sLin + first + extra, ACC_R) !== sPhys0 + k * 4096) break;
      extra += 4096;
    }
  } catch (e) {
    if (e !== FAULT) throw e;
    cpu.cr2 = cr2; // the per-element path faults there again, with exact registers
  }
  return Math.min(extra, limit);
}

/**
 * Bulk REP MOVS/STOS over the elements that stay inside the current source and destination
 * pages. Returns the number of elements done (0: take the per-element path).
 */
function bulk(
  cpu: X86Cpu,
  kind: number,
  size: number,
  srcSeg: number,
  asz: number,
  delta: number,
  count: number,
): number {
  const down = delta < 0;
  const di = getIdx(cpu, 7, asz);
  const dLin = cpu.lin(SEG_ES, di, size, true);
  const dOff = dLin & 0xfff;
  if (dOff + size > 4096) return 0; // element straddles pages
  let n = down ? Math.floor(dOff / size) + 1 : Math.floor((4096 - dOff) / size);
  let sLin = 0;
  if (kind === 0xa4) {
    const si = getIdx(cpu, 6, asz);
    sLin = cpu.lin(srcSeg, si, size, false);
    const sOff = sLin & 0xfff;
    if (sOff + size > 4096) return 0;
    n = Math.min(n, down ? Math.floor(sOff / size) + 1 : Math.floor((4096 - sOff) / size));
  }
  n = Math.min(n, count);
  if (n <= 1) return 0;
  let extra = 0;
  if (
    !down && n < count && cpu.segLimit[SEG_ES] === 0xffffffff &&
    (kind !== 0xa4 || cpu.segLimit[srcSeg] === 0xffffffff)
  ) {
    extra = contiguousPages(cpu, kind, dLin, sLin, n * size, count * size, size);
  }
  n = Math.min(count, n + Math.floor(extra / size));
  const len = n * size;
  // Lowest offsets of the block, and segment checks of the far end.
  const dStartLin = down ? dLin - (n - 1) * size : dLin;
  cpu.lin(SEG_ES, down ? di - (n - 1) * size : di + (n - 1) * size, size, true);
  const dPhys = physPage(cpu, dLin, ACC_W);
  if (dPhys < 0) return 0;
  const dStart = dPhys + (dStartLin & 0xfff);
  const mem = cpu.mem;
  if (kind === 0xa4) {
    const si = getIdx(cpu, 6, asz);
    cpu.lin(srcSeg, down ? si - (n - 1) * size : si + (n - 1) * size, size, false);
    const sPhys = physPage(cpu, sLin, ACC_R);
    if (sPhys < 0) return 0;
    const sStartLin = down ? sLin - (n - 1) * size : sLin;
    const sStart = sPhys + (sStartLin & 0xfff);
    // Element order matters when the destination overlaps the not-yet-read source.
    if (!down && dStart > sStart && dStart < sStart + len) return 0;
    if (down && dStart < sStart && dStart + len > sStart) return 0;
    // The destination TLB entry may have been evicted by the source fill (same index).
    if (physPage(cpu, dLin, ACC_W) !== dPhys) return 0;
    mem.copy(dStart, sStart, len);
    setIdx(cpu, 6, asz, si + delta * n);
  } else {
    const v = cpu.getReg(size, 0, 1), vh = cpu.hi;
    for (let k = 0; k < size; k++) {
      scratch[k] = k < 4 ? (v >>> (8 * k)) & 0xff : (vh >>> (8 * (k - 4))) & 0xff;
    }
    let filled = size;
    while (filled < Math.min(len, 4096)) {
      const c = Math.min(filled, 4096 - filled);
      scratch.copyWithin(filled, 0, c);
      filled += c;
    }
    for (let o = 0; o < len; o += 4096) {
      mem.writeBytes(dStart + o, scratch.subarray(0, Math.min(4096, len - o)));
    }
  }
  setIdx(cpu, 7, asz, di + delta * n);
  const left = count - n;
  setCount(cpu, asz, left);
  return n;
}
