/**
 * The generic core of kexec-tools' segment placement, as in kexec-tools 2.0.25 `kexec/kexec.c`
 * (and the 1.101-era variant): memory ranges, `valid_memory_range`, `locate_hole`, `add_segment`,
 * `add_buffer` and `sort_segments`. Addresses are bigints wrapped to the build's `unsigned long`
 * (64 bits on x86_64/ppc64 builds, 32 on i386/ppc) so C's unsigned arithmetic is reproduced.
 *
 * @module
 */

import { KexecToolsError } from "./errors.ts";

/** kexec-tools' memory range types. */
export type KexecRangeType = "ram" | "reserved" | "acpi" | "nvs" | "uncached" | "pmem" | "pram";

/** A memory range as kexec-tools keeps it: `end` inclusive. */
export interface KexecMemoryRange {
  /** First byte. */
  start: bigint;
  /** Last byte (inclusive). */
  end: bigint;
  /** Type. */
  type: KexecRangeType;
}

/** A map entry as the machine describes it (e820 style, exclusive size). */
export interface MemoryMapEntry {
  /** Base address. */
  base: bigint;
  /** Size in bytes. */
  size: bigint;
  /** e820 type; "unusable" maps to reserved as kexec-tools does. */
  type: "ram" | "reserved" | "acpi" | "nvs" | "unusable" | "uncached" | "pmem" | "pram";
}

/** kexec-tools generation whose behaviour is modelled. */
export type KexecToolsEra = "2.0.25" | "1.101";

/** Numeric type codes kexec-tools prints in `MEMORY RANGES`. */
export const RANGE_TYPE_CODE: Readonly<Record<KexecRangeType, number>> = {
  ram: 0,
  reserved: 1,
  acpi: 2,
  nvs: 3,
  uncached: 4,
  pmem: 6,
  pram: 11,
};

/** Options of {@linkcode memoryRangesFromMap}. */
export interface MemoryRangesOptions {
  /** Default "2.0.25" (IVT clamp 0x400, inclusive ends); "1.101" clamps at 0x100 and keeps the range end exclusive. */
  era?: KexecToolsEra;
}

/**
 * Turn a machine memory map into kexec-tools' memory ranges, as `get_memory_ranges` on x86 does
 * with `/sys/firmware/memmap`: sort by start, merge overlapping ranges of one type
 * (`fixup_memory_ranges`), raise the start of the first RAM range below 0x400 to 0x400 (the real
 * mode IVT; 0x100 in 1.101). Zero-sized entries are dropped.
 *
 * @example
 * ```ts
 * import { memoryRangesFromMap } from "./kexec_tools_memory.ts";
 * const r = memoryRangesFromMap([{ base: 0n, size: 0x9fc00n, type: "ram" }]);
 * r[0]; // { start: 0x400n, end: 0x9fbffn, type: "ram" }
 * ```
 */
export function memoryRangesFromMap(
  map: readonly MemoryMapEntry[],
  options: MemoryRangesOptions = {},
): KexecMemoryRange[] {
  const era = options.era ?? "2.0.25";
  const exclusive = era === "1.101" ? 1n : 0n;
  const ranges: KexecMemoryRange[] = map.filter((e) => e.size > 0n).map((e) => ({
    start: e.base,
    end: e.base + e.size - 1n + exclusive,
    type: e.type === "unusable" ? "reserved" : e.type,
  }));
  ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  // fixup_memory_ranges: merge overlapping ranges of the same type.
  const merged: KexecMemoryRange[] = [];
  for (const r of ranges) {
    const prev = merged[merged.length - 1];
    if (prev && prev.type === r.type && r.start <= prev.end) {
      if (r.end > prev.end) prev.end = r.end;
      continue;
    }
    merged.push({ ...r });
  }
  const clamp = era === "1.101" ? 0x100n : 0x400n;
  for (const r of merged) {
    if (r.type !== "ram") continue;
    if (r.start < clamp) r.start = clamp;
    break;
  }
  return merged;
}

/**
 * Format memory ranges as kexec-tools' `--debug` output (`MEMORY RANGES` then one line each).
 *
 * @example
 * ```ts
 * import { formatMemoryRanges } from "./kexec_tools_memory.ts";
 * formatMemoryRanges([{ start: 0x400n, end: 0x9fbffn, type: "ram" }]);
 * // "MEMORY RANGES\n0000000000000400-000000000009fbff (0)\n"
 * ```
 */
export function formatMemoryRanges(ranges: readonly KexecMemoryRange[]): string {
  let s = "MEMORY RANGES\n";
  for (const r of ranges) {
    s += `${r.start.toString(16).padStart(16, "0")}-${r.end.toString(16).padStart(16, "0")} (${
      RANGE_TYPE_CODE[r.type]
    })\n`;
  }
  return s;
}

/** One segment of the list handed to `kexec_load`. */
export interface KexecSegment {
  /** The buffer (captured by reference, as kexec-tools captures the pointer: loaders may keep writing into it). */
  buf: Uint8Array;
  /** Bytes of `buf` copied (`bufsz`); the rest of `memsz` is zero-filled by the kernel. */
  bufsz: bigint;
  /** Physical destination, page aligned. */
  mem: bigint;
  /** Page-rounded size at the destination. */
  memsz: bigint;
  /** What the loader put there ("purgatory", "setup", "kernel", "initrd", "rng-seed", ...). */
  label?: string;
}

/** Options of {@linkcode KexecInfo}. */
export interface KexecInfoOptions {
  /** Memory ranges (see {@linkcode memoryRangesFromMap}). */
  ranges: KexecMemoryRange[];
  /** Width of the build's `unsigned long`: 64 (x86_64, default) or 32 (i386, ppc). */
  longBits?: 32 | 64;
  /** `--mem-min`; default 0. */
  memMin?: bigint;
  /** `--mem-max`; default ULONG_MAX. */
  memMax?: bigint;
  /** Default "2.0.25". */
  era?: KexecToolsEra;
  /** Page size; default 4096. */
  pageSize?: bigint;
}

const hex = (n: bigint) => `0x${n.toString(16)}`;

/**
 * kexec-tools' `struct kexec_info` with the placement algorithms. Messages that kexec-tools prints
 * go to {@linkcode KexecInfo.stderr}; where kexec-tools dies, a {@linkcode KexecToolsError} is thrown.
 *
 * @example
 * ```ts
 * import { KexecInfo } from "./kexec_tools_memory.ts";
 * const info = new KexecInfo({ ranges: [{ start: 0x400n, end: 0x9fbffn, type: "ram" }, { start: 0x100000n, end: 0x7ffffffn, type: "ram" }] });
 * info.addBuffer({ buf: new Uint8Array(0x100), memsz: 0x100n, align: 16n, min: 0x3000n, max: 0xa0000n, end: 1 }); // 0x3000n
 * ```
 */
export class KexecInfo {
  /** Memory ranges (sorted). */
  readonly ranges: KexecMemoryRange[];
  /** Segments, kept sorted by `mem` by every `addBuffer`. */
  segments: KexecSegment[] = [];
  /** `ULONG_MAX` of the build. */
  readonly ulongMax: bigint;
  /** `mem_min`. */
  readonly memMin: bigint;
  /** `mem_max`. */
  readonly memMax: bigint;
  /** Era. */
  readonly era: KexecToolsEra;
  /** Page size. */
  readonly pageSize: bigint;
  /** Accumulated stderr text. */
  stderr = "";

  /** Create the info. */
  constructor(options: KexecInfoOptions) {
    this.ranges = options.ranges;
    this.ulongMax = (1n << BigInt(options.longBits ?? 64)) - 1n;
    this.memMin = options.memMin ?? 0n;
    this.memMax = options.memMax ?? this.ulongMax;
    this.era = options.era ?? "2.0.25";
    this.pageSize = options.pageSize ?? 4096n;
  }

  /** Wrap to `unsigned long`. */
  ulong(x: bigint): bigint {
    return x & this.ulongMax;
  }

  /** Print to the model's stderr. */
  print(text: string): void {
    this.stderr += text;
  }

  /** Die as kexec-tools does: print the message and throw. */
  die(message: string): never {
    this.stderr += message + "\n";
    throw new KexecToolsError(message, { stderr: this.stderr });
  }

  /** Round up to `align` (a power of two). */
  alignUp(x: bigint, align: bigint): bigint {
    return this.ulong((x + align - 1n) & ~(align - 1n));
  }

  /**
   * `valid_memory_range(s, e)` (e inclusive): inside [mem_min, mem_max] and inside one RAM range,
   * where a RAM range whose inclusive end equals the next RAM range's start is merged with that
   * one range (a literal copy of kexec-tools' adjacency test).
   */
  validMemoryRange(s: bigint, e: bigint): boolean {
    if (s > e || e > this.memMax || s < this.memMin) return false;
    const r = this.ranges;
    for (let i = 0; i < r.length; i++) {
      if (r[i].type !== "ram") continue;
      let mend = r[i].end;
      if (i < r.length - 1 && mend === r[i + 1].start && r[i + 1].type === "ram") {
        mend = r[i + 1].end;
      }
      if (r[i].start <= s && mend >= e) return true;
    }
    return false;
  }

  /** `sort_segments`: sort by `mem`, then fail on overlap (printing `Overlapping memory segments at %p`). */
  sortSegments(): boolean {
    this.segments.sort((a, b) => (a.mem < b.mem ? -1 : a.mem > b.mem ? 1 : 0));
    for (let i = 1; i < this.segments.length; i++) {
      const prevEnd = this.segments[i - 1].mem + this.segments[i - 1].memsz;
      if (prevEnd > this.segments[i].mem) {
        this.print(`Overlapping memory segments at ${hex(prevEnd)}\n`);
        return false;
      }
    }
    return true;
  }

  /**
   * `add_segment`: clamp bufsz to memsz, drop empty segments silently, page-round memsz, die on an
   * unaligned base or a range outside RAM. More than 16 segments only warns (the kernel refuses).
   */
  addSegment(
    seg: { buf: Uint8Array; bufsz?: bigint; mem: bigint; memsz: bigint; label?: string },
  ): void {
    let bufsz = seg.bufsz ?? BigInt(seg.buf.length);
    let memsz = seg.memsz;
    if (bufsz > memsz) bufsz = memsz;
    if (memsz === 0n) return;
    memsz = this.alignUp(memsz, this.pageSize);
    const base = seg.mem;
    if ((base & (this.pageSize - 1n)) !== 0n) {
      this.die(`Base address: ${hex(base)} is not page aligned`);
    }
    const last = this.ulong(base + memsz - 1n);
    if (!this.validMemoryRange(base, last)) {
      this.die(`Invalid memory segment ${hex(base)} - ${hex(last)}`);
    }
    this.segments.push({ buf: seg.buf, bufsz, mem: base, memsz, label: seg.label });
    if (this.segments.length > 16) {
      this.print("Warning: kernel segment limit reached. This will likely fail\n");
    }
  }

  /**
   * `locate_hole(size, align, min, max, end)`: `end > 0` lowest fit, `end < 0` highest fit.
   * Returns ULONG_MAX (after printing kexec-tools' message) when nothing fits.
   */
  locateHole(size: bigint, align: bigint, min: bigint, max: bigint, end: number): bigint {
    if (end === 0) this.die("Invalid hole end argument of 0 specified to locate_hole");
    const ULONG_MAX = this.ulongMax;
    let base = ULONG_MAX;
    if (align < this.pageSize) align = this.pageSize;
    // Free ranges: RAM minus the (sorted) segments.
    const free: { start: bigint; end: bigint }[] = [];
    const segs = this.segments;
    let j = 0;
    for (const r of this.ranges) {
      if (r.type !== "ram") continue;
      let ms = r.start;
      const me = r.end;
      while (j < segs.length && segs[j].mem <= me) {
        const ss = segs[j].mem;
        const se = ss + segs[j].memsz - 1n;
        // 1.101 kept exclusive ends: the gap before a segment ends at its start.
        if (ms < ss) free.push({ start: ms, end: this.era === "1.101" ? ss : ss - 1n });
        ms = se + 1n;
        j++;
      }
      if (ms < me) free.push({ start: ms, end: me });
    }
    for (const f of free) {
      let s = f.start;
      let e = f.end;
      if (s < this.memMin) s = this.memMin;
      if (s < min) s = min;
      s = (s + align - 1n) & ~(align - 1n); // unsigned long long arithmetic in C
      if (e > this.memMax) e = this.memMax;
      if (e > max) e = max;
      if (s >= e || s >= this.memMax || e <= this.memMin) continue;
      const have = e - s;
      const fits = this.era === "1.101" ? have >= size : (size === 0n || have >= size - 1n);
      if (!fits) continue;
      if (end > 0) {
        base = s;
        break;
      }
      base = this.era === "1.101"
        ? this.ulong(e - size) & ~(align - 1n)
        : this.ulong(e - size + 1n) & ~(align - 1n);
    }
    if (base === ULONG_MAX) {
      this.print(`Could not find a free area of memory of ${hex(size)} bytes...\n`);
      return ULONG_MAX;
    }
    if (this.ulong(base + size - 1n) > max) {
      this.print(`Could not find a free area of memory below: ${hex(max)}...\n`);
      return ULONG_MAX;
    }
    return base;
  }

  /**
   * `add_buffer(buf, bufsz, memsz, align, min, max, end)`: sort (die on overlap), page-round memsz,
   * `locate_hole`, `add_segment`; returns the base.
   */
  addBuffer(opts: {
    buf: Uint8Array;
    bufsz?: bigint;
    memsz: bigint;
    align: bigint;
    min: bigint;
    max: bigint;
    end: number;
    label?: string;
  }): bigint {
    if (!this.sortSegments()) this.die("sort_segments failed");
    const memsz = this.alignUp(opts.memsz, this.pageSize);
    const base = this.locateHole(memsz, opts.align, opts.min, opts.max, opts.end);
    if (base === this.ulongMax) this.die("locate_hole failed");
    this.addSegment({ buf: opts.buf, bufsz: opts.bufsz, mem: base, memsz, label: opts.label });
    return base;
  }
}
