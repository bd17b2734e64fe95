/**
 * PowerPC 750 instruction semantics: one `execute(cpu, word)` with a dense switch on the
 * primary opcode and nested switches on the extended opcodes of groups 19 and 31. Fields are
 * extracted from the word each time (PowerPC decoding is field extraction; the decoded-instruction
 * cache in `cpu.ts` keeps the fetched words per physical page). CR0 and XER are updated eagerly.
 *
 * Invalid forms follow Unicorn/QEMU (the oracle of the golden vectors): load-with-update with
 * rA = 0 or rA = rD and store-with-update with rA = 0 raise a program exception (illegal);
 * divw/divwu by zero and 0x80000000 / -1, which the 750 user's manual leaves undefined, give
 * rD = rA with OV set (QEMU divides by 1 instead).
 *
 * @example
 * ```ts ignore
 * import { execute } from "./exec.ts";
 * execute(cpu, 0x38600005); // li r3,5
 * ```
 *
 * @module
 */

import type { PpcCpu } from "./cpu.ts";
import { MSR, PROGRAM_TRAP, VEC } from "./constants.ts";
import { sprRead, sprWrite, tbHigh, tbLow } from "./spr.ts";
import { FAULT_STORE, translateData } from "./mmu.ts";

/** Set CR0 from a result (LT/GT/EQ) and XER[SO]. */
function setCr0(cpu: PpcCpu, r: number): void {
  const c = r < 0 ? 8 : r > 0 ? 4 : 2;
  cpu.cr = (cpu.cr & 0x0fffffff) | ((c | cpu.so) << 28);
}

/** Set CR field `f` (0..7) to the 4-bit value `v`. */
function setCrField(cpu: PpcCpu, f: number, v: number): void {
  const sh = 28 - 4 * f;
  cpu.cr = (cpu.cr & ~(0xf << sh)) | (v << sh);
}

/** The rotate mask MB..ME (PowerPC bit numbering, wrapping when MB > ME). */
export function rotMask(mb: number, me: number): number {
  const m1 = 0xffffffff >>> mb;
  const m2 = 0xffffffff << (31 - me);
  return mb <= me ? m1 & m2 : m1 | m2;
}

function rotl(v: number, n: number): number {
  return n === 0 ? v : (v << n) | (v >>> (32 - n));
}

/** High 32 bits of the unsigned 64-bit product (int32). */
export function mulhwu(a: number, b: number): number {
  a >>>= 0;
  b >>>= 0;
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = Math.floor(ll / 65536) + (lh % 65536) + (hl % 65536);
  return (hh + Math.floor(lh / 65536) + Math.floor(hl / 65536) + Math.floor(mid / 65536)) | 0;
}

/** High 32 bits of the signed 64-bit product (int32). */
export function mulhw(a: number, b: number): number {
  return (mulhwu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
}

function compare(cpu: PpcCpu, f: number, a: number, b: number): void {
  setCrField(cpu, f, (a < b ? 8 : a > b ? 4 : 2) | cpu.so);
}

function trap(cpu: PpcCpu, to: number, a: number, b: number): void {
  const ua = a >>> 0, ub = b >>> 0;
  if (
    ((to & 16) !== 0 && a < b) || ((to & 8) !== 0 && a > b) || ((to & 4) !== 0 && a === b) ||
    ((to & 2) !== 0 && ua < ub) || ((to & 1) !== 0 && ua > ub)
  ) {
    cpu.raise(VEC.program, cpu.cia, PROGRAM_TRAP, "program (trap)");
  }
}

/** Evaluate a bc/bclr/bcctr condition (decrementing CTR when BO[2] = 0 and `useCtr`). */
function branchTaken(cpu: PpcCpu, w: number, useCtr: boolean): boolean {
  const bo = (w >>> 21) & 31;
  let ctrOk = true;
  if ((bo & 4) === 0 && useCtr) {
    cpu.ctr = (cpu.ctr - 1) >>> 0;
    ctrOk = (cpu.ctr !== 0) !== ((bo & 2) !== 0);
  }
  if ((bo & 16) !== 0) return ctrOk;
  const bi = (w >>> 16) & 31;
  return ctrOk && ((cpu.cr >>> (31 - bi)) & 1) === ((bo >>> 3) & 1);
}

/** Execute one instruction word (PC already points past it; `cpu.cia` is its address). */
export function execute(cpu: PpcCpu, w: number): void {
  const g = cpu.gpr;
  switch (w >>> 26) {
    case 3: // twi
      return trap(cpu, (w >>> 21) & 31, g[(w >>> 16) & 31], (w << 16) >> 16);
    case 7: // mulli
      g[(w >>> 21) & 31] = Math.imul(g[(w >>> 16) & 31], (w << 16) >> 16);
      return;
    case 8: { // subfic
      const a = g[(w >>> 16) & 31], imm = (w << 16) >> 16;
      cpu.ca = (imm >>> 0) >= (a >>> 0) ? 1 : 0;
      g[(w >>> 21) & 31] = (imm - a) | 0;
      return;
    }
    case 10: // cmpli
      return compare(cpu, (w >>> 23) & 7, g[(w >>> 16) & 31] >>> 0, w & 0xffff);
    case 11: // cmpi
      return compare(cpu, (w >>> 23) & 7, g[(w >>> 16) & 31], (w << 16) >> 16);
    case 12:
    case 13: { // addic, addic.
      const s = (g[(w >>> 16) & 31] >>> 0) + (((w << 16) >> 16) >>> 0);
      const r = s | 0;
      cpu.ca = s > 0xffffffff ? 1 : 0;
      g[(w >>> 21) & 31] = r;
      if ((w >>> 26) === 13) setCr0(cpu, r);
      return;
    }
    case 14: { // addi
      const ra = (w >>> 16) & 31;
      g[(w >>> 21) & 31] = ((ra === 0 ? 0 : g[ra]) + ((w << 16) >> 16)) | 0;
      return;
    }
    case 15: { // addis
      const ra = (w >>> 16) & 31;
      g[(w >>> 21) & 31] = ((ra === 0 ? 0 : g[ra]) + (w << 16)) | 0;
      return;
    }
    case 16: { // bc
      const lk = (w & 1) !== 0;
      if (branchTaken(cpu, w, true)) {
        const bd = ((w << 16) >> 16) & ~3;
        if (lk) cpu.lr = cpu.pc;
        cpu.pc = (((w & 2) !== 0 ? 0 : cpu.cia) + bd) >>> 0;
      } else if (lk) cpu.lr = cpu.pc;
      return;
    }
    case 17: // sc
      if ((w & 2) === 0) return cpu.illegal(w);
      return cpu.deliver(VEC.systemCall, cpu.pc, 0, "system call");
    case 18: { // b
      const li = ((w << 6) >> 6) & ~3;
      if ((w & 1) !== 0) cpu.lr = cpu.pc;
      cpu.pc = (((w & 2) !== 0 ? 0 : cpu.cia) + li) >>> 0;
      return;
    }
    case 19:
      return op19(cpu, w);
    case 20: { // rlwimi
      const m = rotMask((w >>> 6) & 31, (w >>> 1) & 31);
      const ra = (w >>> 16) & 31;
      const r = (rotl(g[(w >>> 21) & 31], (w >>> 11) & 31) & m) | (g[ra] & ~m);
      g[ra] = r;
      if ((w & 1) !== 0) setCr0(cpu, r);
      return;
    }
    case 21: { // rlwinm
      const r = rotl(g[(w >>> 21) & 31], (w >>> 11) & 31) & rotMask((w >>> 6) & 31, (w >>> 1) & 31);
      g[(w >>> 16) & 31] = r;
      if ((w & 1) !== 0) setCr0(cpu, r);
      return;
    }
    case 23: { // rlwnm
      const n = g[(w >>> 11) & 31] & 31;
      const r = rotl(g[(w >>> 21) & 31], n) & rotMask((w >>> 6) & 31, (w >>> 1) & 31);
      g[(w >>> 16) & 31] = r;
      if ((w & 1) !== 0) setCr0(cpu, r);
      return;
    }
    case 24: // ori
      g[(w >>> 16) & 31] = g[(w >>> 21) & 31] | (w & 0xffff);
      return;
    case 25: // oris
      g[(w >>> 16) & 31] = g[(w >>> 21) & 31] | (w << 16);
      return;
    case 26: // xori
      g[(w >>> 16) & 31] = g[(w >>> 21) & 31] ^ (w & 0xffff);
      return;
    case 27: // xoris
      g[(w >>> 16) & 31] = g[(w >>> 21) & 31] ^ (w << 16);
      return;
    case 28: { // andi.
      const r = g[(w >>> 21) & 31] & (w & 0xffff);
      g[(w >>> 16) & 31] = r;
      return setCr0(cpu, r);
    }
    case 29: { // andis.
      const r = g[(w >>> 21) & 31] & (w << 16);
      g[(w >>> 16) & 31] = r;
      return setCr0(cpu, r);
    }
    case 31:
      return op31(cpu, w);
    case 32:
    case 33:
    case 34:
    case 35:
    case 36:
    case 37:
    case 38:
    case 39:
    case 40:
    case 41:
    case 42:
    case 43:
    case 44:
    case 45:
      return loadStoreD(cpu, w);
    case 46: // lmw
    case 47: { // stmw
      const ra = (w >>> 16) & 31, rd = (w >>> 21) & 31;
      const ea = ((ra === 0 ? 0 : g[ra]) + ((w << 16) >> 16)) >>> 0;
      if ((ea & 3) !== 0) return cpu.alignment(w, ea);
      if ((w >>> 26) === 46) {
        for (let r = rd, a = ea; r < 32; r++, a = (a + 4) >>> 0) g[r] = cpu.rd32(a);
      } else {
        for (let r = rd, a = ea; r < 32; r++, a = (a + 4) >>> 0) cpu.wr32(a, g[r]);
      }
      return;
    }
    case 48:
    case 49:
    case 50:
    case 51:
    case 52:
    case 53:
    case 54:
    case 55:
    case 59:
    case 63:
      return cpu.floatingPoint(w);
    case 4:
    case 56:
    case 57:
    case 60:
    case 61: // Gekko paired singles
      if (cpu.model.gekkoSprs) return cpu.floatingPoint(w);
      return cpu.illegal(w);
    default:
      return cpu.illegal(w);
  }
}

/** CR logic, branches to LR/CTR, rfi, isync. */
function op19(cpu: PpcCpu, w: number): void {
  const xo = (w >>> 1) & 0x3ff;
  switch (xo) {
    case 0: { // mcrf
      const v = (cpu.cr >>> (28 - 4 * ((w >>> 18) & 7))) & 0xf;
      return setCrField(cpu, (w >>> 23) & 7, v);
    }
    case 16: { // bclr
      const target = cpu.lr & ~3;
      const taken = branchTaken(cpu, w, true);
      if ((w & 1) !== 0) cpu.lr = cpu.pc;
      if (taken) cpu.pc = target >>> 0;
      return;
    }
    case 528: { // bcctr (BO[2] = 0 is an invalid form: CTR is not decremented)
      const target = cpu.ctr & ~3;
      const taken = branchTaken(cpu, w, false);
      if ((w & 1) !== 0) cpu.lr = cpu.pc;
      if (taken) cpu.pc = target >>> 0;
      return;
    }
    case 33: // crnor
    case 129: // crandc
    case 193: // crxor
    case 225: // crnand
    case 257: // crand
    case 289: // creqv
    case 417: // crorc
    case 449: { // cror
      const a = (cpu.cr >>> (31 - ((w >>> 16) & 31))) & 1;
      const b = (cpu.cr >>> (31 - ((w >>> 11) & 31))) & 1;
      let r: number;
      switch (xo) {
        case 33:
          r = (a | b) ^ 1;
          break;
        case 129:
          r = a & (b ^ 1);
          break;
        case 193:
          r = a ^ b;
          break;
        case 225:
          r = (a & b) ^ 1;
          break;
        case 257:
          r = a & b;
          break;
        case 289:
          r = (a ^ b) ^ 1;
          break;
        case 417:
          r = a | (b ^ 1);
          break;
        default:
          r = a | b;
      }
      const bit = 31 - ((w >>> 21) & 31);
      cpu.cr = (cpu.cr & ~(1 << bit)) | (r << bit);
      return;
    }
    case 50: { // rfi
      cpu.privileged();
      const m = 0x87c0ff73;
      cpu.writeMsr(((cpu.msr & ~m) | (cpu.srr1 & m)) & ~MSR.POW);
      cpu.pc = (cpu.srr0 & ~3) >>> 0;
      cpu.fVpn = -1;
      return;
    }
    case 150: // isync
      cpu.fVpn = -1;
      return;
    default:
      return cpu.illegal(w);
  }
}

/** D-form loads and stores (opcodes 32-45). */
function loadStoreD(cpu: PpcCpu, w: number): void {
  const g = cpu.gpr;
  const op = w >>> 26;
  const rd = (w >>> 21) & 31, ra = (w >>> 16) & 31;
  const update = (op & 1) === 1;
  if (update && (ra === 0 || (op < 36 || (op >= 40 && op < 44)) && ra === rd)) {
    return cpu.illegal(w, "invalid update form");
  }
  const ea = ((ra === 0 ? 0 : g[ra]) + ((w << 16) >> 16)) >>> 0;
  switch (op) {
    case 32:
    case 33:
      g[rd] = cpu.rd32(ea);
      break;
    case 34:
    case 35:
      g[rd] = cpu.rd8(ea);
      break;
    case 36:
    case 37:
      cpu.wr32(ea, g[rd]);
      break;
    case 38:
    case 39:
      cpu.wr8(ea, g[rd] & 0xff);
      break;
    case 40:
    case 41:
      g[rd] = cpu.rd16(ea);
      break;
    case 42:
    case 43:
      g[rd] = (cpu.rd16(ea) << 16) >> 16;
      break;
    default: // 44, 45
      cpu.wr16(ea, g[rd] & 0xffff);
  }
  if (update) g[ra] = ea | 0;
}

/** X-form loads and stores; returns false for an extended opcode that is not one. */
function loadStoreX(cpu: PpcCpu, w: number, xo: number): boolean {
  const g = cpu.gpr;
  const rd = (w >>> 21) & 31, ra = (w >>> 16) & 31;
  let load: boolean;
  switch (xo) {
    case 23: // lwzx
    case 55: // lwzux
    case 87: // lbzx
    case 119: // lbzux
    case 279: // lhzx
    case 311: // lhzux
    case 343: // lhax
    case 375: // lhaux
    case 534: // lwbrx
    case 790: // lhbrx
      load = true;
      break;
    case 151: // stwx
    case 183: // stwux
    case 215: // stbx
    case 247: // stbux
    case 407: // sthx
    case 439: // sthux
    case 662: // stwbrx
    case 918: // sthbrx
      load = false;
      break;
    default:
      return false;
  }
  const update = xo < 512 && (xo & 32) !== 0;
  if (update && (ra === 0 || (load && ra === rd))) {
    cpu.illegal(w, "invalid update form");
  }
  const ea = ((ra === 0 ? 0 : g[ra]) + g[(w >>> 11) & 31]) >>> 0;
  switch (xo) {
    case 23:
    case 55:
      g[rd] = cpu.rd32(ea);
      break;
    case 87:
    case 119:
      g[rd] = cpu.rd8(ea);
      break;
    case 279:
    case 311:
      g[rd] = cpu.rd16(ea);
      break;
    case 343:
    case 375:
      g[rd] = (cpu.rd16(ea) << 16) >> 16;
      break;
    case 534: {
      const v = cpu.rd32(ea);
      g[rd] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
      break;
    }
    case 790: {
      const v = cpu.rd16(ea);
      g[rd] = ((v & 0xff) << 8) | (v >>> 8);
      break;
    }
    case 151:
    case 183:
      cpu.wr32(ea, g[rd]);
      break;
    case 215:
    case 247:
      cpu.wr8(ea, g[rd] & 0xff);
      break;
    case 407:
    case 439:
      cpu.wr16(ea, g[rd] & 0xffff);
      break;
    case 662: {
      const v = g[rd];
      cpu.wr32(ea, ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24));
      break;
    }
    default: { // 918 sthbrx
      const v = g[rd];
      cpu.wr16(ea, ((v & 0xff) << 8) | ((v >>> 8) & 0xff));
    }
  }
  if (update) g[ra] = ea | 0;
  return true;
}

/** XO-form arithmetic (9-bit extended opcode, OE at bit 10); false when not one. */
function arith(cpu: PpcCpu, w: number, xo9: number): boolean {
  const g = cpu.gpr;
  const a = g[(w >>> 16) & 31], b = g[(w >>> 11) & 31];
  let r: number, ov = 0, s: number;
  switch (xo9) {
    case 266: // add
      r = (a + b) | 0;
      ov = ((a ^ r) & (b ^ r)) >>> 31;
      break;
    case 10: // addc
      s = (a >>> 0) + (b >>> 0);
      r = s | 0;
      cpu.ca = s > 0xffffffff ? 1 : 0;
      ov = ((a ^ r) & (b ^ r)) >>> 31;
      break;
    case 138: // adde
      s = (a >>> 0) + (b >>> 0) + cpu.ca;
      r = s | 0;
      cpu.ca = s > 0xffffffff ? 1 : 0;
      ov = ((a ^ r) & (b ^ r)) >>> 31;
      break;
    case 234: // addme
      s = (a >>> 0) + cpu.ca + 0xffffffff;
      r = s | 0;
      cpu.ca = s > 0xffffffff ? 1 : 0;
      ov = ((a ^ r) & ~r) >>> 31;
      break;
    case 202: // addze
      s = (a >>> 0) + cpu.ca;
      r = s | 0;
      cpu.ca = s > 0xffffffff ? 1 : 0;
      ov = ((a ^ r) & r) >>> 31;
      break;
    case 40: // subf
      r = (b - a) | 0;
      ov = ((~a ^ r) & (b ^ r)) >>> 31;
      break;
    case 8: // subfc
      s = (~a >>> 0) + (b >>> 0) + 1;
      r = s | 0;
      cpu.ca = s > 0xffffffff ? 1 : 0;
      ov = ((~a ^ r) & (b ^ r)) >>> 31;
      break;
    case 136: // subfe
      s = (~a >>> 0) + (b >>> 0) + cpu.ca;
      r = s | 0;
      cpu.ca = s > 0xffffffff ? 1 : 0;
      ov = ((~a ^ r) & (b ^ r)) >>> 31;
      break;
    case 232: // subfme
      s = (~a >>> 0) + cpu.ca + 0xffffffff;
      r = s | 0;
      cpu.ca = s > 0xffffffff ? 1 : 0;
      ov = ((~a ^ r) & ~r) >>> 31;
      break;
    case 200: // subfze
      s = (~a >>> 0) + cpu.ca;
      r = s | 0;
      cpu.ca = s > 0xffffffff ? 1 : 0;
      ov = ((~a ^ r) & r) >>> 31;
      break;
    case 104: // neg
      r = -a | 0;
      ov = a === -2147483648 ? 1 : 0;
      break;
    case 235: // mullw
      r = Math.imul(a, b);
      ov = a * b !== r ? 1 : 0;
      break;
    case 75: // mulhw
      r = mulhw(a, b);
      break;
    case 11: // mulhwu
      r = mulhwu(a, b);
      break;
    case 491: // divw
      if (b === 0 || (a === -2147483648 && b === -1)) {
        r = a;
        ov = 1;
      } else r = (a / b) | 0;
      break;
    case 459: // divwu
      if (b === 0) {
        r = a;
        ov = 1;
      } else r = Math.floor((a >>> 0) / (b >>> 0)) | 0;
      break;
    default:
      return false;
  }
  g[(w >>> 21) & 31] = r;
  if ((w & 0x400) !== 0 && xo9 !== 75 && xo9 !== 11) {
    cpu.ov = ov;
    cpu.so |= ov;
  }
  if ((w & 1) !== 0) setCr0(cpu, r);
  return true;
}

/** Data-cache block operations: translate (DSI on a fault) and return the physical address. */
function cacheBlock(cpu: PpcCpu, w: number, write: boolean): number {
  const ra = (w >>> 16) & 31;
  const ea = ((ra === 0 ? 0 : cpu.gpr[ra]) + cpu.gpr[(w >>> 11) & 31]) >>> 0;
  const pa = translateData(cpu, ea, write);
  if (pa < 0) cpu.dsi(ea, cpu.xlatFault | (write ? FAULT_STORE : 0));
  return pa;
}

/** Group 31: integer X/XO forms, loads/stores, system instructions. */
function op31(cpu: PpcCpu, w: number): void {
  const xo = (w >>> 1) & 0x3ff;
  if (arith(cpu, w, xo & 0x1ff)) return;
  if (loadStoreX(cpu, w, xo)) return;
  const g = cpu.gpr;
  const rs = (w >>> 21) & 31, ra = (w >>> 16) & 31, rb = (w >>> 11) & 31;
  let r: number;
  switch (xo) {
    case 0: // cmp
      return compare(cpu, (w >>> 23) & 7, g[ra], g[rb]);
    case 32: // cmpl
      return compare(cpu, (w >>> 23) & 7, g[ra] >>> 0, g[rb] >>> 0);
    case 4: // tw
      return trap(cpu, rs, g[ra], g[rb]);
    case 28:
      r = g[rs] & g[rb];
      break;
    case 60:
      r = g[rs] & ~g[rb];
      break;
    case 124:
      r = ~(g[rs] | g[rb]);
      break;
    case 284:
      r = ~(g[rs] ^ g[rb]);
      break;
    case 316:
      r = g[rs] ^ g[rb];
      break;
    case 412:
      r = g[rs] | ~g[rb];
      break;
    case 444:
      r = g[rs] | g[rb];
      break;
    case 476:
      r = ~(g[rs] & g[rb]);
      break;
    case 922:
      r = (g[rs] << 16) >> 16;
      break;
    case 954:
      r = (g[rs] << 24) >> 24;
      break;
    case 26:
      r = Math.clz32(g[rs]);
      break;
    case 24: { // slw
      const n = g[rb] & 63;
      r = n > 31 ? 0 : g[rs] << n;
      break;
    }
    case 536: { // srw
      const n = g[rb] & 63;
      r = n > 31 ? 0 : (g[rs] >>> n) | 0;
      break;
    }
    case 792: { // sraw
      const n = g[rb] & 63, v = g[rs];
      if (n > 31) {
        r = v >> 31;
        cpu.ca = v < 0 ? 1 : 0;
      } else {
        r = v >> n;
        cpu.ca = v < 0 && n !== 0 && (v & ((1 << n) - 1)) !== 0 ? 1 : 0;
      }
      break;
    }
    case 824: { // srawi
      const n = rb, v = g[rs];
      r = v >> n;
      cpu.ca = v < 0 && n !== 0 && (v & ((1 << n) - 1)) !== 0 ? 1 : 0;
      break;
    }
    case 19: // mfcr
      g[rs] = cpu.cr;
      return;
    case 144: { // mtcrf
      const fxm = (w >>> 12) & 0xff;
      let m = 0;
      for (let f = 0; f < 8; f++) if ((fxm & (0x80 >>> f)) !== 0) m |= 0xf << (28 - 4 * f);
      cpu.cr = (cpu.cr & ~m) | (g[rs] & m);
      return;
    }
    case 512: { // mcrxr
      setCrField(cpu, (w >>> 23) & 7, (cpu.so << 3) | (cpu.ov << 2) | (cpu.ca << 1));
      cpu.so = cpu.ov = cpu.ca = 0;
      return;
    }
    case 83: // mfmsr
      cpu.privileged();
      g[rs] = cpu.msr;
      return;
    case 146: // mtmsr
      cpu.privileged();
      cpu.writeMsr(g[rs] >>> 0);
      return;
    case 210: // mtsr
      cpu.privileged();
      cpu.sr[ra & 15] = g[rs];
      return cpu.flushTranslation();
    case 242: // mtsrin
      cpu.privileged();
      cpu.sr[g[rb] >>> 28] = g[rs];
      return cpu.flushTranslation();
    case 595: // mfsr
      cpu.privileged();
      g[rs] = cpu.sr[ra & 15];
      return;
    case 659: // mfsrin
      cpu.privileged();
      g[rs] = cpu.sr[g[rb] >>> 28];
      return;
    case 339: // mfspr
    case 467: { // mtspr
      const n = ra | (rb << 5);
      if ((n & 0x10) !== 0) cpu.privileged();
      if (xo === 339) {
        const v = sprRead(cpu, n);
        if (v === undefined) {
          return cpu.illegal(w, `mfspr of SPR ${n}, not on the ${cpu.model.name}`);
        }
        g[rs] = v;
      } else if (!sprWrite(cpu, n, g[rs] >>> 0)) {
        return cpu.illegal(w, `mtspr to SPR ${n}, not writable on the ${cpu.model.name}`);
      }
      return;
    }
    case 371: { // mftb
      const n = ra | (rb << 5);
      if (n === 268) g[rs] = tbLow(cpu);
      else if (n === 269) g[rs] = tbHigh(cpu);
      else return cpu.illegal(w, `mftb of TBR ${n}`);
      return;
    }
    case 20: { // lwarx
      const ea = ((ra === 0 ? 0 : g[ra]) + g[rb]) >>> 0;
      if ((ea & 3) !== 0) return cpu.alignment(w, ea);
      g[rs] = cpu.rd32(ea);
      cpu.reservation = cpu.physOf(ea, false) & ~31;
      return;
    }
    case 150: { // stwcx.
      const ea = ((ra === 0 ? 0 : g[ra]) + g[rb]) >>> 0;
      if ((ea & 3) !== 0) return cpu.alignment(w, ea);
      let ok = 0;
      if (cpu.reservation >= 0) {
        if ((cpu.physOf(ea, true) & ~31) === cpu.reservation) {
          cpu.wr32(ea, g[rs]);
          ok = 2;
        }
        cpu.reservation = -1;
      }
      cpu.cr = (cpu.cr & 0x0fffffff) | ((ok | cpu.so) << 28);
      return;
    }
    case 533: // lswx
    case 597: // lswi
    case 661: // stswx
    case 725: { // stswi
      const imm = xo === 597 || xo === 725;
      let ea = ((ra === 0 ? 0 : g[ra]) + (imm ? 0 : g[rb])) >>> 0;
      let n = imm ? (rb === 0 ? 32 : rb) : cpu.xerBc;
      let r = (rs + 31) & 31, shift = -8;
      const load = xo === 533 || xo === 597;
      for (; n > 0; n--, ea = (ea + 1) >>> 0) {
        if (shift < 0) {
          r = (r + 1) & 31;
          shift = 24;
          if (load) g[r] = 0;
        }
        if (load) g[r] |= cpu.rd8(ea) << shift;
        else cpu.wr8(ea, (g[r] >>> shift) & 0xff);
        shift -= 8;
      }
      return;
    }
    case 306: // tlbie
      cpu.privileged();
      return cpu.flushTranslation();
    case 566: // tlbsync
      cpu.privileged();
      return;
    case 598: // sync
    case 854: // eieio
    case 246: // dcbtst
    case 278: // dcbt
      return;
    case 54: // dcbst
    case 86: // dcbf
      cacheBlock(cpu, w, false);
      return;
    case 470: // dcbi
      cpu.privileged();
      cacheBlock(cpu, w, true);
      return;
    case 1014: { // dcbz
      const pa = cacheBlock(cpu, w, true);
      if ((cpu.msr & MSR.DR) !== 0 && (cpu.xlatWimg & 0xc) !== 0) {
        const ea = ((ra === 0 ? 0 : g[ra]) + g[rb]) >>> 0;
        return cpu.alignment(w, ea);
      }
      const line = pa - (pa & 31);
      for (let k = 0; k < 32; k += 4) cpu.busWrite(line + k, 4, 0);
      return;
    }
    case 982: // icbi
      cpu.invalidateCode(cacheBlock(cpu, w, false));
      return;
    case 535:
    case 567:
    case 599:
    case 631:
    case 663:
    case 695:
    case 727:
    case 759:
    case 983: // FP loads/stores indexed, stfiwx
      return cpu.floatingPoint(w);
    default:
      return cpu.illegal(w);
  }
  g[ra] = r;
  if ((w & 1) !== 0) setCr0(cpu, r);
}
