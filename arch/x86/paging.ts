/**
 * x86 address translation: 2-level paging (4 KiB and PSE 4 MiB pages, PSE-36), legacy PAE
 * (PDPTEs loaded on CR3 writes) and 4-level long-mode paging, with A/D bit updates, CR0.WP,
 * U/S, NX (EFER.NXE) and reserved-bit checks against the model's MAXPHYADDR. Faults raise #PF
 * with CR2 and the architectural error code (P, W/R, U/S, RSVD, I/D).
 *
 * @example
 * ```ts ignore
 * import { translate } from "./paging.ts";
 * translate(cpu, 0x1000, 0); // physical address of a read at linear 0x1000
 * ```
 *
 * @module
 */

import type { X86Cpu } from "./cpu.ts";

/** Page-fault vector. */
const EXC_PF = 14;
const P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;
const TWO32 = 4294967296;

function pageFault(cpu: X86Cpu, lin: number, kind: number, present: boolean, rsvd: boolean): never {
  cpu.cr2 = lin;
  let code = present ? 1 : 0;
  if (kind === 1) code |= 2;
  if (cpu.cpl === 3) code |= 4;
  if (rsvd) code |= 8 | 1;
  if (kind === 2 && (cpu.efer & 0x800) !== 0 && (cpu.cr4 & 0x20) !== 0) code |= 16;
  return cpu.fault(EXC_PF, code);
}

/** High-dword reserved mask for PAE/long-mode entries (bits MAXPHYADDR..51, and 63 unless NXE). */
function rsvdHi(cpu: X86Cpu): number {
  const w = cpu.model.maxPhysAddr - 32;
  let m = ((1 << 20) - 1) & ~((1 << w) - 1);
  if ((cpu.efer & 0x800) === 0) m |= 0x80000000;
  return m;
}

/** Read a 64-bit paging entry: low dword returned, high dword in `cpu.hi`. */
function readEntry(cpu: X86Cpu, addr: number): number {
  const lo = cpu.busRead(addr, 4);
  cpu.hi = cpu.busRead(addr + 4, 4);
  return lo;
}

/**
 * Load the four PAE PDPTEs from CR3. With `check`, a present PDPTE with reserved bits set
 * raises #GP(0) (MOV CR3 / enabling paging); otherwise entries are taken as they are.
 */
export function loadPdptes(cpu: X86Cpu, check: boolean): void {
  const base = (cpu.cr3 % TWO32) - ((cpu.cr3 % TWO32) % 32);
  const w = cpu.model.maxPhysAddr - 32;
  const hiRsvd = ~((1 << w) - 1);
  const tmp = new Int32Array(8);
  for (let i = 0; i < 4; i++) {
    const lo = readEntry(cpu, base + i * 8);
    const hi = cpu.hi;
    if (check && (lo & P) !== 0 && ((lo & 0x1e6) !== 0 || (hi & hiRsvd) !== 0)) cpu.gp(0);
    tmp[i * 2] = lo;
    tmp[i * 2 + 1] = hi;
  }
  cpu.pdpte.set(tmp);
}

/** Translate linear `lin` for access kind 0 read, 1 write, 2 execute; returns physical. */
export function translate(cpu: X86Cpu, lin: number, kind: number): number {
  cpu.lastWalkGlobal = false;
  if (!cpu.paging) return lin >>> 0;
  const user = cpu.cpl === 3;
  const pae = (cpu.cr4 & 0x20) !== 0;
  let rw = RW, us = US, nx = false;
  let phys: number;
  let leaf: number, leafAddr: number;
  const entries: number[] = []; // addresses of non-leaf entries whose A bit to set
  const ents: number[] = [];
  if (!pae) {
    const l = lin >>> 0;
    const pdeAddr = ((cpu.cr3 >>> 0) & 0xfffff000) + (l >>> 22) * 4;
    const pde = cpu.busRead(pdeAddr, 4);
    if ((pde & P) === 0) return pageFault(cpu, lin, kind, false, false);
    rw &= pde, us &= pde;
    if ((pde & PS) !== 0 && (cpu.cr4 & 0x10) !== 0) {
      // 4 MiB page; PSE-36 puts physical bits 32+ in PDE bits 13..20.
      const feat = cpu.model.features;
      let hiBits = 0;
      const w = cpu.model.maxPhysAddr - 32;
      if (feat.pse36) {
        hiBits = (pde >>> 13) & 0xff;
        if ((hiBits & ~((1 << w) - 1)) !== 0 || (pde & 0x200000) !== 0) {
          return pageFault(cpu, lin, kind, true, true);
        }
      } else if ((pde & 0x3fe000) !== 0) {
        return pageFault(cpu, lin, kind, true, true);
      }
      leaf = pde, leafAddr = pdeAddr;
      phys = hiBits * TWO32 + ((pde & 0xffc00000) >>> 0) + (l & 0x3fffff);
    } else {
      entries.push(pdeAddr), ents.push(pde);
      const pteAddr = ((pde & 0xfffff000) >>> 0) + ((l >>> 12) & 0x3ff) * 4;
      const pte = cpu.busRead(pteAddr, 4);
      if ((pte & P) === 0) return pageFault(cpu, lin, kind, false, false);
      rw &= pte, us &= pte;
      leaf = pte, leafAddr = pteAddr;
      phys = ((pte & 0xfffff000) >>> 0) + (l & 0xfff);
    }
  } else {
    const rh = rsvdHi(cpu);
    const addrHiMask = (1 << (cpu.model.maxPhysAddr - 32)) - 1;
    const nxe = (cpu.efer & 0x800) !== 0;
    const long = (cpu.efer & 0x400) !== 0;
    let tableBase: number;
    let l48: number;
    if (long) {
      l48 = lin < 0 ? lin + 2 ** 48 : lin;
      const cr3 = cpu.cr3 - (cpu.cr3 % 4096);
      const pml4Addr = cr3 + (Math.floor(l48 / 2 ** 39) & 511) * 8;
      const e4 = readEntry(cpu, pml4Addr);
      const e4h = cpu.hi;
      if ((e4 & P) === 0) return pageFault(cpu, lin, kind, false, false);
      if ((e4h & rh) !== 0 || (e4 & PS) !== 0) return pageFault(cpu, lin, kind, true, true);
      rw &= e4, us &= e4;
      if (nxe && e4h < 0) nx = true;
      entries.push(pml4Addr), ents.push(e4);
      const pdptAddr = (e4h & addrHiMask) * TWO32 + ((e4 & 0xfffff000) >>> 0) +
        (Math.floor(l48 / 2 ** 30) & 511) * 8;
      const e3 = readEntry(cpu, pdptAddr);
      const e3h = cpu.hi;
      if ((e3 & P) === 0) return pageFault(cpu, lin, kind, false, false);
      // 1 GiB pages do not exist on these models: PS in a PDPTE is reserved.
      if ((e3h & rh) !== 0 || (e3 & PS) !== 0) return pageFault(cpu, lin, kind, true, true);
      rw &= e3, us &= e3;
      if (nxe && e3h < 0) nx = true;
      entries.push(pdptAddr), ents.push(e3);
      tableBase = (e3h & addrHiMask) * TWO32 + ((e3 & 0xfffff000) >>> 0);
    } else {
      l48 = lin >>> 0;
      const i = l48 >>> 30;
      const e3 = cpu.pdpte[i * 2], e3h = cpu.pdpte[i * 2 + 1];
      if ((e3 & P) === 0) return pageFault(cpu, lin, kind, false, false);
      tableBase = (e3h & addrHiMask) * TWO32 + ((e3 & 0xfffff000) >>> 0);
    }
    const pdeAddr = tableBase + (Math.floor(l48 / 2 ** 21) & 511) * 8;
    const pde = readEntry(cpu, pdeAddr);
    const pdeh = cpu.hi;
    if ((pde & P) === 0) return pageFault(cpu, lin, kind, false, false);
    if ((pdeh & rh) !== 0) return pageFault(cpu, lin, kind, true, true);
    rw &= pde, us &= pde;
    if (nxe && pdeh < 0) nx = true;
    if ((pde & PS) !== 0) {
      if ((pde & 0x1fe000) !== 0) return pageFault(cpu, lin, kind, true, true);
      leaf = pde, leafAddr = pdeAddr;
      phys = (pdeh & addrHiMask) * TWO32 + ((pde & 0xffe00000) >>> 0) + (l48 % 2 ** 21);
    } else {
      entries.push(pdeAddr), ents.push(pde);
      const pteAddr = (pdeh & addrHiMask) * TWO32 + ((pde & 0xfffff000) >>> 0) +
        (Math.floor(l48 / 4096) & 511) * 8;
      const pte = readEntry(cpu, pteAddr);
      const pteh = cpu.hi;
      if ((pte & P) === 0) return pageFault(cpu, lin, kind, false, false);
      if ((pteh & rh) !== 0) return pageFault(cpu, lin, kind, true, true);
      rw &= pte, us &= pte;
      if (nxe && pteh < 0) nx = true;
      leaf = pte, leafAddr = pteAddr;
      phys = (pteh & addrHiMask) * TWO32 + ((pte & 0xfffff000) >>> 0) + (l48 % 4096);
    }
  }
  // Permission checks.
  if (user && us === 0) return pageFault(cpu, lin, kind, true, false);
  if (kind === 1 && rw === 0 && (user || (cpu.cr0 & 0x10000) !== 0)) {
    return pageFault(cpu, lin, kind, true, false);
  }
  if (kind === 2 && nx) return pageFault(cpu, lin, kind, true, false);
  // Accessed / dirty bits.
  for (let k = 0; k < entries.length; k++) {
    if ((ents[k] & A) === 0) cpu.busWrite(entries[k], 4, ents[k] | A);
  }
  const want = A | (kind === 1 ? D : 0);
  if ((leaf & want) !== want) cpu.busWrite(leafAddr, 4, leaf | want);
  cpu.lastWalkGlobal = (leaf & G) !== 0 && (cpu.cr4 & 0x80) !== 0;
  // A read entry must not later allow writes without setting D: the TLB keeps separate
  // entries per access kind, so a write always walks once and sets D.
  return phys;
}
