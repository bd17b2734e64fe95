/**
 * PowerPC 750 address translation: real mode, block address translation (IBAT/DBAT) and the
 * segmented hashed page table (SDR1, primary and secondary PTEG, R/C bits), as the 750 user's
 * manual §7 describes it (hardware.md §6.4). BATs win over the page table.
 *
 * Every function returns the physical address, or -1 after storing the exception details
 * (`cpu.xlatFault`: DSISR bits for data, SRR1 bits for instruction fetches) for the caller to
 * raise DSI or ISI. `cpu.xlatWimg` receives the WIMG bits of the successful translation.
 *
 * Decisions: real-mode data accesses are WIMG 0011 and instruction fetches 0001 (750UM);
 * direct-store segments (SR[T] = 1) fault (data: DSISR 0x04000000, fetch: SRR1 0x10000000);
 * no-execute segments (SR[N]) and guarded pages fault on fetch (SRR1 0x10000000).
 *
 * @example
 * ```ts ignore
 * import { translateData } from "./mmu.ts";
 * translateData(cpu, 0x80001000, false); // 0x1000 with the GameCube BATs
 * ```
 *
 * @module
 */

/** The CPU state translation reads. */
export interface MmuState {
  /** Machine state register. */
  msr: number;
  /** IBAT0U, IBAT0L, ... IBAT3L. */
  readonly ibat: Uint32Array;
  /** DBAT0U, DBAT0L, ... DBAT3L. */
  readonly dbat: Uint32Array;
  /** Segment registers. */
  readonly sr: Uint32Array;
  /** SDR1. */
  sdr1: number;
  /** Fault bits of the last failed translation. */
  xlatFault: number;
  /** WIMG of the last successful translation. */
  xlatWimg: number;
  /** Read a physical big-endian word (page table walk). */
  physRead32(pa: number): number;
  /** Write a physical big-endian word (page table R/C update). */
  physWrite32(pa: number, value: number): void;
}

const MSR_PR = 0x4000;
/** DSISR / SRR1 bit: no translation found. */
export const FAULT_NOTFOUND = 0x40000000;
/** DSISR / SRR1 bit: protection violation. */
export const FAULT_PROT = 0x08000000;
/** DSISR bit: the access was a store. */
export const FAULT_STORE = 0x02000000;
/** DSISR bit: direct-store segment. */
export const FAULT_DIRECT = 0x04000000;
/** SRR1 bit (ISI): direct-store, no-execute segment or guarded page. */
export const FAULT_NOEXEC = 0x10000000;

/** Match a BAT array; returns the physical address, -2 for no match, -1 for a protection fault. */
function batLookup(s: MmuState, bats: Uint32Array, ea: number, write: boolean): number {
  const user = (s.msr & MSR_PR) !== 0;
  for (let k = 0; k < 8; k += 2) {
    const u = bats[k];
    if ((user ? u & 1 : u & 2) === 0) continue;
    const blMask = ((u >>> 2) & 0x7ff) << 17;
    const cmp = 0xfffe0000 & ~blMask;
    if (((ea ^ u) & cmp) !== 0) continue;
    const l = bats[k + 1];
    const pp = l & 3;
    if (pp === 0 || (write && pp !== 2)) {
      s.xlatFault = FAULT_PROT;
      return -1;
    }
    s.xlatWimg = (l >>> 3) & 0xf;
    return ((l & 0xfffe0000 & cmp) | (ea & (blMask | 0x1ffff))) >>> 0;
  }
  return -2;
}

/** Hashed page table search; returns the physical address or -1 (xlatFault set). */
function pageTable(s: MmuState, ea: number, write: boolean, fetch: boolean): number {
  const seg = s.sr[ea >>> 28];
  if ((seg & 0x80000000) !== 0) {
    s.xlatFault = fetch ? FAULT_NOEXEC : FAULT_DIRECT;
    return -1;
  }
  if (fetch && (seg & 0x10000000) !== 0) {
    s.xlatFault = FAULT_NOEXEC;
    return -1;
  }
  const vsid = seg & 0xffffff;
  const pageIndex = (ea >>> 12) & 0xffff;
  const api = pageIndex >>> 10;
  const hash1 = ((vsid & 0x7ffff) ^ pageIndex) & 0x7ffff;
  const org = s.sdr1 & 0xffff0000;
  const mask = s.sdr1 & 0x1ff;
  for (let h = 0; h < 2; h++) {
    const hash = h === 0 ? hash1 : (~hash1 & 0x7ffff);
    const pteg = ((org & 0xfe000000) |
      ((((org >>> 16) & 0x1ff) | ((hash >>> 10) & mask)) << 16) |
      ((hash & 0x3ff) << 6)) >>> 0;
    const want = (0x80000000 | (vsid << 7) | (h << 6) | api) >>> 0;
    for (let p = 0; p < 8; p++) {
      const a = pteg + p * 8;
      if (s.physRead32(a) !== want) continue;
      const w1 = s.physRead32(a + 4);
      const key = (s.msr & MSR_PR) !== 0 ? (seg >>> 29) & 1 : (seg >>> 30) & 1;
      const pp = w1 & 3;
      const ok = key === 0 ? (!write || pp !== 3) : (pp !== 0 && (!write || pp === 2));
      if (!ok) {
        s.xlatFault = FAULT_PROT;
        return -1;
      }
      const wimg = (w1 >>> 3) & 0xf;
      if (fetch && (wimg & 1) !== 0) {
        s.xlatFault = FAULT_NOEXEC;
        return -1;
      }
      const rc = w1 | 0x100 | (write ? 0x80 : 0);
      if (rc !== w1) s.physWrite32(a + 4, rc >>> 0);
      s.xlatWimg = wimg;
      return ((w1 & 0xfffff000) | (ea & 0xfff)) >>> 0;
    }
  }
  s.xlatFault = FAULT_NOTFOUND;
  return -1;
}

/**
 * Translate a data effective address (MSR[DR]); -1 on a fault (`xlatFault` holds the DSISR
 * bits without the store bit).
 */
export function translateData(s: MmuState, ea: number, write: boolean): number {
  if ((s.msr & 0x10) === 0) {
    s.xlatWimg = 3;
    return ea >>> 0;
  }
  const b = batLookup(s, s.dbat, ea, write);
  if (b !== -2) return b;
  return pageTable(s, ea, write, false);
}

/** Translate an instruction address (MSR[IR]); -1 on a fault (`xlatFault` holds SRR1 bits). */
export function translateFetch(s: MmuState, ea: number): number {
  if ((s.msr & 0x20) === 0) {
    s.xlatWimg = 1;
    return ea >>> 0;
  }
  const b = batLookup(s, s.ibat, ea, false);
  if (b !== -2) return b;
  return pageTable(s, ea, false, true);
}
