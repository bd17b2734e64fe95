/**
 * The physical address bus: what a CPU (or a DMA-like kernel-model access) reaches at a physical
 * address. Memory-backed ranges (RAM, ROM, reserved, ACPI) go to {@linkcode PhysicalMemory};
 * MMIO regions go to their device (which learns the initiating CPU, since every local APIC sits at
 * the same address); anything else is unclaimed: reads return all ones, writes are dropped, and
 * both are recorded in the trace.
 *
 * Lookups are page granular: {@linkcode MmioBus.classify} tells a CPU whether a page is memory,
 * MMIO or unclaimed, so its TLB can cache the answer and take the fast path for RAM.
 *
 * @module
 */

import { formatHex } from "./fields.ts";
import type { PhysicalMemory } from "./memory.ts";
import type { Trace } from "./trace.ts";

/** Access size in bytes. */
export type MmioSize = 1 | 2 | 4 | 8;

/** A memory-mapped device region. `offset` is relative to the region base. */
export interface MmioDevice {
  /** Name shown in traces, e.g. `ioapic`. */
  readonly name: string;
  /** Read `size` bytes at `offset`; `cpu` is the initiating CPU index, or -1. */
  mmioRead(offset: number, size: MmioSize, cpu: number): number | bigint;
  /** Write `size` bytes at `offset`. */
  mmioWrite(offset: number, size: MmioSize, value: number | bigint, cpu: number): void;
}

/** What a physical page is. */
export const enum PageKind {
  /** Backed by {@linkcode PhysicalMemory}. */
  Memory = 0,
  /** Owned by an MMIO device. */
  Mmio = 1,
  /** Nothing answers: reads all ones, writes dropped. */
  Unclaimed = 2,
}

interface Region {
  base: number;
  end: number; // exclusive
  device?: MmioDevice;
}

/**
 * Physical address dispatch over memory ranges and MMIO regions.
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "./memory.ts";
 * import { MmioBus } from "./mmio_bus.ts";
 * const memory = new PhysicalMemory({ addressSpace: 2 ** 32 });
 * const bus = new MmioBus({ memory });
 * bus.addMemory(0, 0xa0000);
 * bus.write(0x1000, 4, 7, 0);
 * bus.read(0x1000, 4, 0); // 7
 * bus.read(0xb0000, 4, 0); // 0xffffffff (unclaimed)
 * ```
 */
export class MmioBus {
  /** The memory behind memory-backed ranges. */
  readonly memory: PhysicalMemory;
  readonly #trace: Trace | undefined;
  #memoryRanges: Region[] = [];
  #mmio: Region[] = [];

  /** Create a bus over `memory`. */
  constructor(options: { memory: PhysicalMemory; trace?: Trace }) {
    this.memory = options.memory;
    this.#trace = options.trace;
  }

  /** Declare `[base, base+size)` as memory-backed (RAM, ROM, reserved, ACPI...). */
  addMemory(base: number, size: number): void {
    this.#memoryRanges.push({ base, end: base + size });
    this.#memoryRanges.sort((a, b) => a.base - b.base);
  }

  /** Map an MMIO device at `[base, base+size)`; throws `RangeError` on overlap with another device. */
  map(base: number, size: number, device: MmioDevice): void {
    for (const r of this.#mmio) {
      if (base < r.end && r.base < base + size) {
        throw new RangeError(
          `MMIO region ${formatHex(base, 32)}+${formatHex(size)} for ${device.name} overlaps ${
            r.device!.name
          } at ${formatHex(r.base, 32)}`,
        );
      }
    }
    this.#mmio.push({ base, end: base + size, device });
    this.#mmio.sort((a, b) => a.base - b.base);
  }

  /** Remove the MMIO mapping of `device` (e.g. a local APIC globally disabled); no-op if absent. */
  unmap(device: MmioDevice): void {
    this.#mmio = this.#mmio.filter((r) => r.device !== device);
  }

  #find(list: Region[], addr: number): Region | undefined {
    let lo = 0, hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = list[mid];
      if (addr < r.base) hi = mid - 1;
      else if (addr >= r.end) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** Classify the page containing `addr`. MMIO wins over memory where both are declared. */
  classify(addr: number): PageKind {
    if (this.#mmio.length > 0 && this.#find(this.#mmio, addr) !== undefined) return PageKind.Mmio;
    if (this.#find(this.#memoryRanges, addr) !== undefined) return PageKind.Memory;
    return PageKind.Unclaimed;
  }

  /** Read `size` bytes little-endian (x86); 8-byte reads return a bigint. */
  read(addr: number, size: MmioSize, cpu: number): number | bigint {
    const m = this.#mmio.length > 0 ? this.#find(this.#mmio, addr) : undefined;
    if (m !== undefined) return m.device!.mmioRead(addr - m.base, size, cpu);
    if (this.#find(this.#memoryRanges, addr) !== undefined) {
      switch (size) {
        case 1:
          return this.memory.read8(addr);
        case 2:
          return this.memory.read16(addr);
        case 4:
          return this.memory.read32(addr);
        default:
          return this.memory.read64(addr);
      }
    }
    this.#trace?.emit(
      "unclaimed",
      `read ${formatHex(addr, 32)} (size ${size}): no device, all ones`,
      cpu,
    );
    return size === 8 ? 0xffffffffffffffffn : size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
  }

  /** Write `size` bytes little-endian (x86). */
  write(addr: number, size: MmioSize, value: number | bigint, cpu: number): void {
    const m = this.#mmio.length > 0 ? this.#find(this.#mmio, addr) : undefined;
    if (m !== undefined) return m.device!.mmioWrite(addr - m.base, size, value, cpu);
    if (this.#find(this.#memoryRanges, addr) !== undefined) {
      switch (size) {
        case 1:
          return this.memory.write8(addr, Number(value));
        case 2:
          return this.memory.write16(addr, Number(value));
        case 4:
          return this.memory.write32(addr, Number(value));
        default:
          return this.memory.write64(addr, value);
      }
    }
    this.#trace?.emit(
      "unclaimed",
      `write ${formatHex(addr, 32)} <- ${formatHex(BigInt(value), size * 8)}: no device, dropped`,
      cpu,
    );
  }

  /** Read big-endian (PowerPC). */
  readBE(addr: number, size: 1 | 2 | 4, cpu: number): number {
    const m = this.#mmio.length > 0 ? this.#find(this.#mmio, addr) : undefined;
    if (m !== undefined) return Number(m.device!.mmioRead(addr - m.base, size, cpu));
    if (this.#find(this.#memoryRanges, addr) !== undefined) {
      return size === 1
        ? this.memory.read8(addr)
        : size === 2
        ? this.memory.read16be(addr)
        : this.memory.read32be(addr);
    }
    this.#trace?.emit(
      "unclaimed",
      `read ${formatHex(addr, 32)} (size ${size}): no device, all ones`,
      cpu,
    );
    return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
  }

  /** Write big-endian (PowerPC). */
  writeBE(addr: number, size: 1 | 2 | 4, value: number, cpu: number): void {
    const m = this.#mmio.length > 0 ? this.#find(this.#mmio, addr) : undefined;
    if (m !== undefined) return m.device!.mmioWrite(addr - m.base, size, value, cpu);
    if (this.#find(this.#memoryRanges, addr) !== undefined) {
      if (size === 1) this.memory.write8(addr, value);
      else if (size === 2) this.memory.write16be(addr, value);
      else this.memory.write32be(addr, value);
      return;
    }
    this.#trace?.emit(
      "unclaimed",
      `write ${formatHex(addr, 32)} <- ${formatHex(value >>> 0, size * 8)}: no device, dropped`,
      cpu,
    );
  }
}
