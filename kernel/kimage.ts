/**
 * The kimage: a loaded kexec image and its entry ("indirection") list, written into guest
 * physical memory exactly as Linux lays it out (reference kexec-kernel.md §2), so that the
 * relocation stub, real machine code, can walk it. Also the page allocator that keeps source
 * pages out of destination ranges, the control-page allocators (normal and crash), segment
 * loading for both versions, termination and kimage_free.
 *
 * @module
 */

import type { PhysicalMemory } from "../hw/memory.ts";
import { KernelError } from "./errno.ts";
import type { KexecLimits } from "./arch.ts";
import type { Gfp, PageAllocator } from "./page_alloc.ts";
import type { VersionBehaviour } from "./versions.ts";

/** IND_DESTINATION: the address is the new destination cursor. */
export const IND_DESTINATION = 0x1;
/** IND_INDIRECTION: continue reading entries at the address. */
export const IND_INDIRECTION = 0x2;
/** IND_DONE: end of the list. */
export const IND_DONE = 0x4;
/** IND_SOURCE: copy one page from the address to the cursor. */
export const IND_SOURCE = 0x8;
/** KEXEC_TYPE_DEFAULT. */
export const KEXEC_TYPE_DEFAULT = 0;
/** KEXEC_TYPE_CRASH. */
export const KEXEC_TYPE_CRASH = 1;

const PAGE = 4096;
const KIMAGE_NO_DEST = -1;

/** Page-aligned part of an entry (works above 2^32). */
export function pageOf(v: number): number {
  return v - (v % PAGE);
}

/** One kernel-side segment (struct kexec_segment after copy_from_user), values as bigint. */
export interface KexecSegment {
  /** User data (null: the pointer faults). */
  readonly buf: Uint8Array | null;
  /** Bytes at buf. */
  readonly bufsz: bigint;
  /** Physical destination. */
  readonly mem: bigint;
  /** Bytes of destination memory. */
  readonly memsz: bigint;
}

/** A slot of the entry list: the `head` field of the kimage or a guest physical address. */
export type Slot = "head" | number;

/** Options for {@linkcode Kimage}. */
export interface KimageOptions {
  /** Guest memory. */
  readonly memory: PhysicalMemory;
  /** The kernel's page allocator. */
  readonly pages: PageAllocator;
  /** asm/kexec.h limits of the architecture. */
  readonly limits: KexecLimits;
  /** Version behaviour. */
  readonly behaviour: VersionBehaviour;
  /** Segments (already validated). */
  readonly segments: readonly KexecSegment[];
  /** Entry point. */
  readonly start: bigint;
  /** KEXEC_TYPE_DEFAULT or KEXEC_TYPE_CRASH. */
  readonly type?: number;
  /** crashk_res [start, end] for crash images. */
  readonly crashRegion?: { start: bigint; end: bigint };
  /** Trace sink for allocator decisions. */
  readonly log?: (fn: string, message: string) => void;
}

/**
 * struct kimage with its entry list in guest memory.
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "../hw/memory.ts";
 * import { PageAllocator } from "./page_alloc.ts";
 * import { Kimage } from "./kimage.ts";
 * import { VERSIONS } from "./versions.ts";
 * const memory = new PhysicalMemory({ addressSpace: 2 ** 32 });
 * const pages = new PageAllocator({ free: [{ start: 0x800000, end: 0x1000000 }],
 *   zones: [{ name: "Normal", startPfn: 0, endPfn: 0x1000 }],
 *   fallback: { GFP_KERNEL: ["Normal"], GFP_HIGHUSER: ["Normal"] } });
 * const limits = { sourceMemoryLimit: 0xffffffffn, destinationMemoryLimit: 0xffffffffn,
 *   controlMemoryLimit: 0xc0000000n, controlCodeSize: 4096, kexecArch: 0x30000, wordBytes: 4 } as const;
 * const img = new Kimage({ memory, pages, limits, behaviour: VERSIONS["2.6.13"],
 *   segments: [{ buf: new Uint8Array(16), bufsz: 16n, mem: 0x100000n, memsz: 0x1000n }], start: 0x100000n });
 * img.loadSegment(img.segments[0]);
 * img.terminate();
 * (img.head & 2) !== 0; // true: head points at indirection page 0
 * ```
 */
export class Kimage {
  /** The head entry (kept in kernel memory, not in the list pages). */
  head = 0;
  #entry: Slot = "head";
  #lastEntry: Slot = "head";
  /** Bookkeeping destination cursor. */
  destination = 0;
  /** Entry point. */
  start: bigint;
  /** Physical address of the control code page(s). */
  controlCodePage: number = -1;
  /** Segments. */
  readonly segments: readonly KexecSegment[];
  /** Blocks on control_pages (physical address, order). */
  readonly controlPages: { addr: number; order: number }[] = [];
  /** Pages on dest_pages. */
  destPages: number[] = [];
  /** Pages on unuseable_pages (stays empty: the allocator skips pages above the source limit). */
  unusablePages: number[] = [];
  /**
   * How many pages Linux would have parked on unuseable_pages (every free page above
   * KEXEC_SOURCE_MEMORY_LIMIT, taken before the first usable one); counted once.
   */
  unusableCount: number = -1;
  /** Next crash control address (2.6.13 `control_page`, ~0 until set). */
  controlPage: bigint = -1n;
  /** KEXEC_TYPE_DEFAULT or KEXEC_TYPE_CRASH. */
  readonly type: number;
  /** Indirection pages allocated (in order), for traces and tests. */
  readonly indirectionPages: number[] = [];
  /** Architecture data (x86_64: the page-table pages). */
  arch: Record<string, unknown> = {};
  readonly #mem: PhysicalMemory;
  readonly #pages: PageAllocator;
  readonly #limits: KexecLimits;
  readonly #b: VersionBehaviour;
  readonly #crash?: { start: bigint; end: bigint };
  readonly #log: (fn: string, message: string) => void;
  readonly #w: 4 | 8;

  /** Create an empty image (kimage_alloc / do_kimage_alloc after validation). */
  constructor(options: KimageOptions) {
    this.#mem = options.memory;
    this.#pages = options.pages;
    this.#limits = options.limits;
    this.#b = options.behaviour;
    this.segments = options.segments;
    this.start = options.start;
    this.type = options.type ?? KEXEC_TYPE_DEFAULT;
    this.#crash = options.crashRegion;
    this.#w = options.limits.wordBytes;
    this.#log = options.log ?? (() => {});
    if (this.type === KEXEC_TYPE_CRASH && this.#crash) this.controlPage = this.#crash.start;
  }

  /** Size of one entry in bytes (4 on i386/ppc, 8 on x86_64). */
  get entryBytes(): 4 | 8 {
    return this.#w;
  }

  // ---- entry slots ----

  /** Read an entry at a slot. */
  readSlot(slot: Slot): number {
    if (slot === "head") return this.head;
    if (this.#w === 4) return this.#mem.read32(slot);
    return this.#mem.read32(slot) + this.#mem.read32(slot + 4) * 2 ** 32;
  }

  /** Write an entry at a slot. */
  writeSlot(slot: Slot, value: number): void {
    if (slot === "head") {
      this.head = value;
      return;
    }
    if (this.#w === 4) this.#mem.write32(slot, value >>> 0);
    else {
      this.#mem.write32(slot, value % 2 ** 32);
      this.#mem.write32(slot + 4, Math.floor(value / 2 ** 32));
    }
  }

  #next(slot: Slot): Slot {
    if (slot === "head") {
      // &head + 1 is the kimage's next field in Linux; never reached with a valid list.
      throw new RangeError("Entry list walked past the head field");
    }
    return slot + this.#w;
  }

  /** The slot `entry` points at (the next one to fill). */
  get entrySlot(): Slot {
    return this.#entry;
  }

  /** for_each_kimage_entry: every (slot, entry) until 0 or IND_DONE, following indirections. */
  *entries(): Generator<[Slot, number]> {
    let slot: Slot = "head";
    // Linux would spin forever on a list that loops (guest memory corrupted); the model stops
    // with an error instead, so a run always ends.
    const visited = new Set<number>();
    for (;;) {
      const e = this.readSlot(slot);
      if (e === 0 || (e & IND_DONE) !== 0) return;
      yield [slot, e];
      if ((e & IND_INDIRECTION) !== 0) {
        const page = pageOf(e);
        if (visited.has(page)) {
          throw new RangeError(`Entry list loops back to indirection page 0x${page.toString(16)}`);
        }
        visited.add(page);
        slot = page;
      } else slot = this.#next(slot);
    }
  }

  /** kimage_add_entry. */
  addEntry(entry: number): void {
    if (this.readSlot(this.#entry) !== 0) this.#entry = this.#next(this.#entry);
    if (this.#entry === this.#lastEntry) {
      const page = this.allocPage("GFP_KERNEL", KIMAGE_NO_DEST);
      if (page === null) throw new KernelError("ENOMEM", "no page for an indirection page");
      this.indirectionPages.push(page);
      this.writeSlot(this.#entry, page + IND_INDIRECTION);
      this.#log("kimage_add_entry", `indirection page 0x${page.toString(16)}`);
      this.#entry = page;
      this.#lastEntry = page + PAGE - this.#w;
    }
    this.writeSlot(this.#entry, entry);
    this.#entry = this.#next(this.#entry);
    this.writeSlot(this.#entry, 0);
  }

  /** kimage_set_destination. */
  setDestination(dest: number): void {
    const d = pageOf(dest);
    this.destination = d;
    this.addEntry(d + IND_DESTINATION);
  }

  /** kimage_add_page. */
  addPage(page: number): void {
    this.addEntry(pageOf(page) + IND_SOURCE);
    this.destination += PAGE;
  }

  // ---- allocation ----

  /** kimage_is_destination_range: [start, end) intersects a segment's [mem, mem+memsz). */
  isDestinationRange(start: number, end: number): boolean {
    const s = BigInt(start), e = BigInt(end);
    for (const seg of this.segments) {
      const ms = seg.mem, me = seg.mem + seg.memsz;
      if (e > ms && s < me) return true;
    }
    return false;
  }

  /** kimage_dst_used: the slot of the source entry whose destination is `page`, or undefined. */
  dstUsed(page: number): Slot | undefined {
    let destination = 0;
    for (const [slot, e] of this.entries()) {
      if (e & IND_DESTINATION) destination = pageOf(e);
      else if (e & IND_SOURCE) {
        if (page === destination) return slot;
        destination += PAGE;
      }
    }
    return undefined;
  }

  /** kimage_alloc_page(gfp, destination): a page that is its own destination or no one's. */
  allocPage(gfp: Gfp, dest: number): number | null {
    const i = this.destPages.indexOf(dest);
    if (i >= 0) {
      this.destPages.splice(i, 1);
      return dest;
    }
    // Pages with pfn > KEXEC_SOURCE_MEMORY_LIMIT >> 12 would go to unuseable_pages and be
    // retried; the allocator skips them directly (see PageAllocator.alloc).
    const belowPfn = Number(this.#limits.sourceMemoryLimit >> 12n) + 1;
    if (this.unusableCount < 0) {
      this.unusableCount = this.#pages.freePagesFrom(belowPfn);
      if (this.unusableCount > 0) {
        this.#log(
          "kimage_alloc_page",
          `${this.unusableCount} free pages above KEXEC_SOURCE_MEMORY_LIMIT go to unuseable_pages`,
        );
      }
    }
    for (;;) {
      const addr = this.#pages.alloc(gfp, 0, { belowPfn });
      if (addr === null) return null;
      if (addr === dest) return addr;
      if (!this.isDestinationRange(addr, addr + PAGE)) return addr;
      const old = this.dstUsed(addr);
      if (old !== undefined) {
        const e = this.readSlot(old);
        const oldAddr = pageOf(e);
        this.#mem.copy(addr, oldAddr, PAGE);
        this.writeSlot(old, addr + (e - oldAddr));
        this.#log(
          "kimage_alloc_page",
          `swap: 0x${addr.toString(16)} is a destination; its data moves there, 0x${
            oldAddr.toString(16)
          } is reused`,
        );
        return oldAddr;
      }
      this.destPages.push(addr);
    }
  }

  /** kimage_alloc_normal_control_pages(order). */
  allocNormalControlPages(order: number): number | null {
    const count = 1 << order;
    const rejected: number[] = [];
    let result: number | null = null;
    for (;;) {
      const addr = this.#pages.alloc("GFP_KERNEL", order);
      if (addr === null) break;
      const epfn = BigInt(addr / PAGE + count);
      if (
        epfn >= this.#limits.controlMemoryLimit >> 12n ||
        this.isDestinationRange(addr, addr + count * PAGE)
      ) {
        rejected.push(addr);
        continue;
      }
      result = addr;
      break;
    }
    for (const r of rejected) this.#pages.free(r, order);
    if (result !== null) this.controlPages.push({ addr: result, order });
    return result;
  }

  /** kimage_alloc_crash_control_pages(order) (2.6.13). */
  allocCrashControlPages(order: number): number | null {
    const crash = this.#crash;
    if (!crash) return null;
    const size = BigInt(PAGE << order);
    const roundUp = (v: bigint) => (v + size - 1n) & ~(size - 1n);
    let holeStart = roundUp(this.controlPage);
    let holeEnd = holeStart + size - 1n;
    let result: bigint | null = null;
    while (holeEnd <= crash.end) {
      if (holeEnd > this.#limits.controlMemoryLimit) break;
      let moved = false;
      for (const seg of this.segments) {
        const ms = seg.mem, me = seg.mem + seg.memsz - 1n;
        if (holeEnd >= ms && holeStart <= me) {
          holeStart = roundUp(me);
          holeEnd = holeStart + size - 1n;
          moved = true;
          break;
        }
      }
      if (!moved) {
        result = holeStart;
        break;
      }
    }
    if (result === null) return null;
    this.controlPage = holeEnd;
    return Number(result);
  }

  /** kimage_alloc_control_pages(order): dispatch on the image type. */
  allocControlPages(order: number): number | null {
    return this.type === KEXEC_TYPE_CRASH
      ? this.allocCrashControlPages(order)
      : this.allocNormalControlPages(order);
  }

  // ---- loading ----

  #copyFromUser(dst: number, seg: KexecSegment, offset: number, n: number): void {
    if (n <= 0) return;
    const buf = seg.buf;
    const avail = buf === null ? 0 : Math.max(0, Math.min(n, buf.length - offset));
    if (avail > 0) this.#mem.writeBytes(dst, buf!.subarray(offset, offset + avail));
    if (avail < n) {
      this.#mem.fill(dst + avail, n - avail, 0);
      throw new KernelError(
        "EIO",
        `copy_from_user faulted at buf+0x${(offset + avail).toString(16)}`,
      );
    }
  }

  /** kimage_load_segment for this image's type and the version. */
  loadSegment(seg: KexecSegment): void {
    if (this.type === KEXEC_TYPE_CRASH) return this.#loadCrash(seg);
    // A segment needing more pages than are free ends in -ENOMEM after taking them all (and
    // kimage_free gives them back): fail at once instead of walking the whole of RAM.
    // (Unless the user buffer faults first: then -EIO comes from the loop.)
    const needed = Number((seg.memsz + 4095n) / 4096n);
    const faults = seg.bufsz > 0n && (seg.buf === null || BigInt(seg.buf.length) < seg.bufsz);
    if (needed > this.#pages.freePages && !faults) {
      throw new KernelError(
        "ENOMEM",
        `segment needs ${needed} pages, ${this.#pages.freePages} free`,
      );
    }
    if (this.#b.loadSegment === "kexec3") return this.#loadKexec3(seg);
    return this.#loadNormal(seg);
  }

  #loadKexec3(seg: KexecSegment): void {
    const mem = Number(seg.mem), memsz = Number(seg.memsz), bufsz = Number(seg.bufsz);
    this.setDestination(mem);
    for (let offset = 0; offset < memsz; offset += PAGE) {
      const page = this.allocPage("GFP_HIGHUSER", mem + offset);
      if (page === null) throw new KernelError("ENOMEM", "no page for segment data");
      this.addPage(page);
      if (bufsz < offset) {
        this.#mem.fill(page, PAGE, 0);
        continue;
      }
      const leader = offset === 0 ? mem % PAGE : 0;
      if (leader) this.#mem.fill(page, leader, 0);
      let size = PAGE - leader;
      if (bufsz - offset < size) size = bufsz - offset;
      if (size < PAGE - leader) this.#mem.fill(page + leader + size, PAGE - leader - size, 0);
      this.#copyFromUser(page + leader, seg, offset, size);
    }
  }

  #loadNormal(seg: KexecSegment): void {
    let maddr = Number(seg.mem), mbytes = Number(seg.memsz), ubytes = Number(seg.bufsz);
    let off = 0;
    this.setDestination(maddr);
    while (mbytes > 0) {
      const page = this.allocPage("GFP_HIGHUSER", maddr);
      if (page === null) throw new KernelError("ENOMEM", "no page for segment data");
      this.addPage(page);
      this.#mem.fill(page, PAGE, 0);
      const mchunk = Math.min(PAGE - (maddr % PAGE), mbytes);
      const uchunk = Math.min(mchunk, ubytes);
      this.#copyFromUser(page + (maddr % PAGE), seg, off, uchunk);
      ubytes -= uchunk;
      maddr += mchunk;
      off += mchunk;
      mbytes -= mchunk;
    }
  }

  #loadCrash(seg: KexecSegment): void {
    let maddr = Number(seg.mem), mbytes = Number(seg.memsz), ubytes = Number(seg.bufsz);
    let off = 0;
    while (mbytes > 0) {
      const mchunk = Math.min(PAGE - (maddr % PAGE), mbytes);
      let uchunk = mchunk;
      if (uchunk > ubytes) {
        uchunk = ubytes;
        this.#mem.fill(maddr + uchunk, mchunk - uchunk, 0);
      }
      this.#copyFromUser(maddr, seg, off, uchunk);
      ubytes -= uchunk;
      maddr += mchunk;
      off += mchunk;
      mbytes -= mchunk;
    }
  }

  /** kimage_terminate. */
  terminate(): void {
    if (this.#b.terminate === "append") {
      this.addEntry(IND_DONE);
      // step back to the IND_DONE slot
      this.#entry = (this.#entry as number) - this.#w;
      this.#freeExtraPages();
    } else {
      if (this.readSlot(this.#entry) !== 0) this.#entry = this.#next(this.#entry);
      this.writeSlot(this.#entry, IND_DONE);
    }
  }

  #freeExtraPages(): void {
    for (const p of this.destPages) this.#pages.free(p, 0);
    for (const p of this.unusablePages) this.#pages.free(p, 0);
    this.destPages = [];
    this.unusablePages = [];
  }

  /** kimage_free up to machine_kexec_cleanup (the caller runs the cleanup hook between). */
  freeEntries(): void {
    this.#freeExtraPages();
    let ind = 0;
    for (const [, e] of this.entries()) {
      if (e & IND_INDIRECTION) {
        if (ind & IND_INDIRECTION) this.#pages.free(pageOf(ind), 0);
        ind = e;
      } else if (e & IND_SOURCE) this.#pages.free(pageOf(e), 0);
    }
    if (ind & IND_INDIRECTION) this.#pages.free(pageOf(ind), 0);
  }

  /** kimage_free's last step: free every block on control_pages. */
  freeControlPages(): void {
    for (const c of this.controlPages) this.#pages.free(c.addr, c.order);
    this.controlPages.length = 0;
  }
}
