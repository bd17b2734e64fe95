/**
 * The old kernel's page allocator, modelled deterministically. Linux's buddy allocator after boot
 * hands out order-0 pages by splitting the most recently freed (highest) 4 MiB block from its low
 * end upwards, and returns freed pages first (hot per-CPU lists). This model reproduces that
 * shape: per zone a cursor walks the highest block with free pages from its bottom up, freed
 * blocks are reused last-in first-out, and zones fall back as the gfp mask allows
 * (i386: GFP_HIGHUSER HighMem → Normal → DMA, GFP_KERNEL Normal → DMA; x86_64: Normal → DMA).
 *
 * Only page numbers are tracked (free ranges as intervals, allocated pages in a set), so a
 * machine with many GiB of RAM costs nothing. The allocator never touches guest memory: pages
 * come back with whatever bytes they held, as alloc_pages without __GFP_ZERO does.
 *
 * @module
 */

/** Page size. */
export const PAGE_SIZE = 4096;
const BLOCK_PAGES = 1024; // MAX_ORDER-1 = 10 → 4 MiB blocks

/** Allocation flags the kexec code uses. */
export type Gfp = "GFP_KERNEL" | "GFP_HIGHUSER";

/** A zone: page frame range [startPfn, endPfn). */
export interface ZoneSpec {
  /** Zone name. */
  readonly name: "DMA" | "Normal" | "HighMem";
  /** First page frame. */
  readonly startPfn: number;
  /** One past the last page frame. */
  readonly endPfn: number;
}

/** Options for {@linkcode PageAllocator}. */
export interface PageAllocatorOptions {
  /** Free RAM as byte ranges [start, end) (page aligned inward). */
  readonly free: readonly { start: number; end: number }[];
  /** Zones in ascending order. */
  readonly zones: readonly ZoneSpec[];
  /** Zone fallback order per gfp mask (zone names). */
  readonly fallback: Readonly<Record<Gfp, readonly ZoneSpec["name"][]>>;
}

interface Cursor {
  blockStart: number; // current block being split (pfn), -1 before the first
  next: number; // next pfn to try in the block
}

interface ZoneState {
  spec: ZoneSpec;
  cursors: Map<number, Cursor>; // by the caller's pfn bound (Infinity: none)
  hot: number[][]; // per order: LIFO of freed block pfns
}

/**
 * Deterministic page allocator.
 *
 * @example
 * ```ts
 * import { PageAllocator } from "./page_alloc.ts";
 * const pa = new PageAllocator({
 *   free: [{ start: 0x400000, end: 0x800000 }],
 *   zones: [{ name: "Normal", startPfn: 0, endPfn: 0x800 }],
 *   fallback: { GFP_KERNEL: ["Normal"], GFP_HIGHUSER: ["Normal"] },
 * });
 * pa.alloc("GFP_KERNEL", 0); // 0x400000
 * ```
 */
export class PageAllocator {
  #free: { s: number; e: number }[] = []; // pfn intervals, sorted, disjoint
  readonly #used = new Set<number>();
  readonly #zones: ZoneState[];
  readonly #fallback: Readonly<Record<Gfp, readonly ZoneSpec["name"][]>>;

  /** Build the allocator over the free ranges. */
  constructor(options: PageAllocatorOptions) {
    for (const r of options.free) {
      const s = Math.ceil(r.start / PAGE_SIZE), e = Math.floor(r.end / PAGE_SIZE);
      if (e > s) this.#free.push({ s, e });
    }
    this.#normalise();
    this.#zones = options.zones.map((spec) => ({
      spec,
      cursors: new Map(),
      hot: Array.from({ length: 11 }, () => []),
    }));
    this.#fallback = options.fallback;
  }

  #normalise(): void {
    this.#free.sort((a, b) => a.s - b.s);
    const out: { s: number; e: number }[] = [];
    for (const r of this.#free) {
      const last = out[out.length - 1];
      if (last && r.s <= last.e) last.e = Math.max(last.e, r.e);
      else out.push({ ...r });
    }
    this.#free = out;
  }

  /** Remove [start, end) (bytes) from the free memory, as reserve_bootmem does. */
  reserve(start: number, end: number): void {
    const s = Math.floor(start / PAGE_SIZE), e = Math.ceil(end / PAGE_SIZE);
    const out: { s: number; e: number }[] = [];
    for (const r of this.#free) {
      if (r.e <= s || r.s >= e) out.push(r);
      else {
        if (r.s < s) out.push({ s: r.s, e: s });
        if (r.e > e) out.push({ s: e, e: r.e });
      }
    }
    this.#free = out;
  }

  #inFree(pfn: number): boolean {
    let lo = 0, hi = this.#free.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, r = this.#free[mid];
      if (pfn < r.s) hi = mid - 1;
      else if (pfn >= r.e) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** True when the page at physical `addr` is free RAM not handed out. */
  isFree(addr: number): boolean {
    const pfn = Math.floor(addr / PAGE_SIZE);
    return this.#inFree(pfn) && !this.#used.has(pfn);
  }

  /** Number of free pages (all zones). */
  get freePages(): number {
    let n = 0;
    for (const r of this.#free) n += r.e - r.s;
    return n - this.#used.size;
  }

  /** Free pages at or above page frame `pfn`. */
  freePagesFrom(pfn: number): number {
    let n = 0;
    for (const r of this.#free) if (r.e > pfn) n += r.e - Math.max(r.s, pfn);
    for (const u of this.#used) if (u >= pfn) n--;
    return n;
  }

  /** Number of pages currently handed out. */
  get usedPages(): number {
    return this.#used.size;
  }

  #blockFree(z: ZoneState, pfn: number, n: number): boolean {
    for (let p = pfn; p < pfn + n; p++) {
      if (p < z.spec.startPfn || p >= z.spec.endPfn || !this.#inFree(p) || this.#used.has(p)) {
        return false;
      }
    }
    return true;
  }

  // Highest block start below `below` (pfn) in the zone that contains some free RAM.
  #lowerBlock(z: ZoneState, below: number): number {
    let limit = Math.min(below, z.spec.endPfn);
    for (let i = this.#free.length - 1; i >= 0; i--) {
      const r = this.#free[i];
      const top = Math.min(r.e, limit);
      if (top <= r.s || top <= z.spec.startPfn) continue;
      const pfn = top - 1;
      if (pfn < z.spec.startPfn) continue;
      return pfn - (pfn % BLOCK_PAGES);
    }
    limit = 0;
    return -1;
  }

  #allocZone(z: ZoneState, order: number, below: number): number {
    const n = 1 << order;
    const hot = z.hot[order];
    for (let i = hot.length - 1; i >= 0; i--) {
      const pfn = hot[i];
      if (pfn + n > below) continue;
      hot.splice(i, 1);
      if (this.#blockFree(z, pfn, n)) return pfn;
    }
    let c = z.cursors.get(below);
    if (c === undefined) {
      const start = this.#lowerBlock(z, below);
      c = { blockStart: start, next: start };
      z.cursors.set(below, c);
    }
    while (c.blockStart >= 0) {
      const end = Math.min(c.blockStart + BLOCK_PAGES, below);
      let p = Math.ceil(c.next / n) * n;
      for (let skip = c.next; skip < p && skip < end; skip++) {
        if (this.#blockFree(z, skip, 1)) z.hot[0].unshift(skip);
      }
      for (; p + n <= end; p += n) {
        if (this.#blockFree(z, p, n)) {
          c.next = p + n;
          return p;
        }
      }
      c.blockStart = this.#lowerBlock(z, c.blockStart);
      c.next = c.blockStart;
    }
    return -1;
  }

  /**
   * alloc_pages(gfp, order): physical address of a free, naturally aligned block, or null.
   * `belowPfn` restricts the search to page frames below it: the kexec source allocator's
   * KEXEC_SOURCE_MEMORY_LIMIT test, which in Linux takes each page above the limit, parks it on
   * unuseable_pages and tries again (freeing them all later); skipping them is equivalent and
   * does not walk, say, 12 GiB of HighMem one page at a time.
   */
  alloc(gfp: Gfp, order: number, options: { belowPfn?: number } = {}): number | null {
    const below = options.belowPfn ?? Infinity;
    for (const name of this.#fallback[gfp]) {
      const z = this.#zones.find((x) => x.spec.name === name);
      if (!z) continue;
      const pfn = this.#allocZone(z, order, below);
      if (pfn >= 0) {
        for (let i = 0; i < 1 << order; i++) this.#used.add(pfn + i);
        return pfn * PAGE_SIZE;
      }
    }
    return null;
  }

  /** __free_pages(page, order): the block goes back and is reused first. */
  free(addr: number, order: number): void {
    const pfn = Math.floor(addr / PAGE_SIZE);
    if (!this.#used.has(pfn)) {
      throw new RangeError(`Page freed twice or never allocated: 0x${addr.toString(16)}`);
    }
    for (let i = 0; i < 1 << order; i++) this.#used.delete(pfn + i);
    const z = this.#zones.find((x) => pfn >= x.spec.startPfn && pfn < x.spec.endPfn);
    z?.hot[order].push(pfn);
  }
}

/**
 * Zones and fallback for an architecture: i386 DMA < 16 MiB, Normal < 896 MiB, HighMem above;
 * x86_64 DMA < 16 MiB and Normal above.
 *
 * @example
 * ```ts
 * import { zonesFor } from "./page_alloc.ts";
 * zonesFor("i386", 2 ** 32).zones.length; // 3
 * ```
 */
export function zonesFor(
  arch: "i386" | "x86_64",
  topOfRam: number,
): Pick<PageAllocatorOptions, "zones" | "fallback"> {
  const top = Math.ceil(topOfRam / PAGE_SIZE);
  const dma = 0x1000; // 16 MiB
  if (arch === "i386") {
    const normal = 0x38000; // 896 MiB
    return {
      zones: [
        { name: "DMA", startPfn: 0, endPfn: Math.min(dma, top) },
        { name: "Normal", startPfn: dma, endPfn: Math.max(dma, Math.min(normal, top)) },
        { name: "HighMem", startPfn: normal, endPfn: Math.max(normal, top) },
      ],
      fallback: { GFP_KERNEL: ["Normal", "DMA"], GFP_HIGHUSER: ["HighMem", "Normal", "DMA"] },
    };
  }
  return {
    zones: [
      { name: "DMA", startPfn: 0, endPfn: Math.min(dma, top) },
      { name: "Normal", startPfn: dma, endPfn: Math.max(dma, top) },
    ],
    fallback: { GFP_KERNEL: ["Normal", "DMA"], GFP_HIGHUSER: ["Normal", "DMA"] },
  };
}
