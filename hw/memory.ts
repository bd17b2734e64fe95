/**
 * Sparse physical memory. Guest RAM is backed lazily in 1 MiB chunks allocated on first write;
 * reading memory that was never written returns zero without allocating, so a board with 1 TiB of
 * RAM costs nothing until the guest touches it. Bytes are stored in guest order; little-endian
 * accessors serve x86 and big-endian accessors serve PowerPC.
 *
 * Pages that hold decoded code can be marked with {@linkcode PhysicalMemory.markCode}; any write
 * to such a page (CPU store, bulk copy, kernel model, loader) calls the code-write listeners once
 * and clears the mark, so CPU decode caches stay exact under self-modifying code and relocation.
 *
 * Addresses are JavaScript numbers (exact up to 2^53), which covers every MAXPHYADDR we model.
 *
 * @module
 */

/** Size of a page in bytes. */
export const PAGE_SIZE = 4096;
/** log2 of the backing chunk size. */
export const CHUNK_SHIFT = 20;
/** Size of a backing chunk in bytes (1 MiB). */
export const CHUNK_SIZE = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SIZE - 1;
const PAGES_PER_CHUNK = CHUNK_SIZE / PAGE_SIZE;

const ZERO_CHUNK = new Uint8Array(CHUNK_SIZE);

/** Options for {@linkcode PhysicalMemory}. */
export interface PhysicalMemoryOptions {
  /** Size of the physical address space in bytes (e.g. `2 ** 36`); accesses at or above it throw `RangeError`. */
  addressSpace: number;
}

/**
 * Physical memory backing store.
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "./memory.ts";
 * const mem = new PhysicalMemory({ addressSpace: 2 ** 40 });
 * mem.write32(0x1_0000_0000_0, 0xdeadbeef);
 * mem.read32(0x1_0000_0000_0); // 0xdeadbeef
 * mem.read8(0xff_0000_0000); // 0, nothing allocated
 * ```
 */
export class PhysicalMemory {
  /** Size of the physical address space in bytes. */
  readonly addressSpace: number;
  // Chunk arrays indexed by chunk number (holey: only touched chunks exist).
  readonly #data: (Uint8Array | undefined)[] = [];
  readonly #view: (DataView | undefined)[] = [];
  readonly #code: (Uint8Array | undefined)[] = [];
  #allocated = 0;
  readonly #codeListeners: ((page: number) => void)[] = [];

  /** Create an empty (all-zero) physical memory. */
  constructor(options: PhysicalMemoryOptions) {
    this.addressSpace = options.addressSpace;
  }

  /** Bytes of host memory allocated for guest RAM so far. */
  get allocatedBytes(): number {
    return this.#allocated * CHUNK_SIZE;
  }

  /** Register a listener called with the page number (address / 4096) when a code page is written. */
  onCodeWrite(listener: (page: number) => void): void {
    this.#codeListeners.push(listener);
  }

  /** Mark the page containing `addr` as holding decoded code. */
  markCode(addr: number): void {
    const ci = Math.floor(addr / CHUNK_SIZE);
    let c = this.#code[ci];
    if (c === undefined) c = this.#code[ci] = new Uint8Array(PAGES_PER_CHUNK);
    c[(addr & CHUNK_MASK) >>> 12] = 1;
  }

  /** True when the page containing `addr` is marked as code. */
  isCode(addr: number): boolean {
    const c = this.#code[Math.floor(addr / CHUNK_SIZE)];
    return c !== undefined && c[(addr & CHUNK_MASK) >>> 12] === 1;
  }

  #checkRange(addr: number, len: number): void {
    if (!(addr >= 0 && addr + len <= this.addressSpace && Number.isInteger(addr))) {
      throw new RangeError(
        `Physical address out of range: 0x${addr.toString(16)}+${len} (address space 0x${
          this.addressSpace.toString(16)
        })`,
      );
    }
  }

  /**
   * The backing chunk for `addr`: for reads of untouched memory a shared all-zero chunk (do not
   * write it); with `forWrite` the chunk is allocated. Callers index it with `addr & (CHUNK_SIZE-1)`.
   * For writes, the caller must also call {@linkcode PhysicalMemory.noteWrite}.
   */
  chunk(addr: number, forWrite: boolean): Uint8Array {
    const ci = Math.floor(addr / CHUNK_SIZE);
    const d = this.#data[ci];
    if (d !== undefined) return d;
    if (!forWrite) return ZERO_CHUNK;
    this.#checkRange(ci * CHUNK_SIZE, 1);
    return this.#alloc(ci);
  }

  /** True when the chunk containing `addr` has host memory behind it. */
  isAllocated(addr: number): boolean {
    return this.#data[Math.floor(addr / CHUNK_SIZE)] !== undefined;
  }

  #alloc(ci: number): Uint8Array {
    const d = new Uint8Array(CHUNK_SIZE);
    this.#data[ci] = d;
    this.#view[ci] = new DataView(d.buffer);
    this.#allocated++;
    return d;
  }

  #dataView(addr: number, forWrite: boolean): DataView | undefined {
    const ci = Math.floor(addr / CHUNK_SIZE);
    const v = this.#view[ci];
    if (v !== undefined || !forWrite) return v;
    this.#checkRange(addr, 1);
    this.#alloc(ci);
    return this.#view[ci];
  }

  /** Tell the code tracker that `[addr, addr+len)` was written (done by every write method here). */
  noteWrite(addr: number, len: number): void {
    if (this.#codeListeners.length === 0) return;
    let page = Math.floor(addr / PAGE_SIZE);
    const last = Math.floor((addr + len - 1) / PAGE_SIZE);
    for (; page <= last; page++) {
      const ci = Math.floor(page / PAGES_PER_CHUNK);
      const c = this.#code[ci];
      if (c === undefined) {
        page = (ci + 1) * PAGES_PER_CHUNK - 1; // skip the rest of this chunk
        continue;
      }
      const pi = page % PAGES_PER_CHUNK;
      if (c[pi]) {
        c[pi] = 0;
        for (const l of this.#codeListeners) l(page);
      }
    }
  }

  // ---- byte access ----

  /** Read one byte. */
  read8(addr: number): number {
    const d = this.#data[Math.floor(addr / CHUNK_SIZE)];
    if (d === undefined) {
      this.#checkRange(addr, 1);
      return 0;
    }
    return d[addr & CHUNK_MASK];
  }

  /** Write one byte. */
  write8(addr: number, value: number): void {
    const ci = Math.floor(addr / CHUNK_SIZE);
    let d = this.#data[ci];
    if (d === undefined) {
      this.#checkRange(addr, 1);
      d = this.#alloc(ci);
    }
    d[addr & CHUNK_MASK] = value;
    if (this.#code[ci] !== undefined) this.noteWrite(addr, 1);
  }

  #crosses(addr: number, len: number): boolean {
    return (addr & CHUNK_MASK) + len > CHUNK_SIZE;
  }

  /** Read a little-endian 16-bit value. */
  read16(addr: number): number {
    if (this.#crosses(addr, 2)) return this.read8(addr) | (this.read8(addr + 1) << 8);
    const v = this.#dataView(addr, false);
    if (v === undefined) return this.#checkRange(addr, 2), 0;
    return v.getUint16(addr & CHUNK_MASK, true);
  }

  /** Read a little-endian 32-bit value (unsigned). */
  read32(addr: number): number {
    if (this.#crosses(addr, 4)) return (this.read16(addr) | (this.read16(addr + 2) << 16)) >>> 0;
    const v = this.#dataView(addr, false);
    if (v === undefined) return this.#checkRange(addr, 4), 0;
    return v.getUint32(addr & CHUNK_MASK, true);
  }

  /** Read a little-endian 64-bit value. */
  read64(addr: number): bigint {
    return BigInt(this.read32(addr)) | (BigInt(this.read32(addr + 4)) << 32n);
  }

  /** Write a little-endian 16-bit value. */
  write16(addr: number, value: number): void {
    if (this.#crosses(addr, 2)) {
      this.write8(addr, value & 0xff);
      this.write8(addr + 1, (value >>> 8) & 0xff);
      return;
    }
    this.#dataView(addr, true)!.setUint16(addr & CHUNK_MASK, value & 0xffff, true);
    this.noteWrite(addr, 2);
  }

  /** Write a little-endian 32-bit value. */
  write32(addr: number, value: number): void {
    if (this.#crosses(addr, 4)) {
      this.write16(addr, value & 0xffff);
      this.write16(addr + 2, (value >>> 16) & 0xffff);
      return;
    }
    this.#dataView(addr, true)!.setUint32(addr & CHUNK_MASK, value >>> 0, true);
    this.noteWrite(addr, 4);
  }

  /** Write a little-endian 64-bit value. */
  write64(addr: number, value: bigint | number): void {
    const v = BigInt.asUintN(64, BigInt(value));
    this.write32(addr, Number(v & 0xffffffffn));
    this.write32(addr + 4, Number(v >> 32n));
  }

  /** Read a big-endian 16-bit value. */
  read16be(addr: number): number {
    return (this.read8(addr) << 8) | this.read8(addr + 1);
  }

  /** Read a big-endian 32-bit value (unsigned). */
  read32be(addr: number): number {
    if (this.#crosses(addr, 4)) {
      return ((this.read16be(addr) << 16) | this.read16be(addr + 2)) >>> 0;
    }
    const v = this.#dataView(addr, false);
    if (v === undefined) return this.#checkRange(addr, 4), 0;
    return v.getUint32(addr & CHUNK_MASK, false);
  }

  /** Read a big-endian 64-bit value. */
  read64be(addr: number): bigint {
    return (BigInt(this.read32be(addr)) << 32n) | BigInt(this.read32be(addr + 4));
  }

  /** Write a big-endian 16-bit value. */
  write16be(addr: number, value: number): void {
    this.write8(addr, (value >>> 8) & 0xff);
    this.write8(addr + 1, value & 0xff);
  }

  /** Write a big-endian 32-bit value. */
  write32be(addr: number, value: number): void {
    if (this.#crosses(addr, 4)) {
      this.write16be(addr, (value >>> 16) & 0xffff);
      this.write16be(addr + 2, value & 0xffff);
      return;
    }
    this.#dataView(addr, true)!.setUint32(addr & CHUNK_MASK, value >>> 0, false);
    this.noteWrite(addr, 4);
  }

  /** Write a big-endian 64-bit value. */
  write64be(addr: number, value: bigint | number): void {
    const v = BigInt.asUintN(64, BigInt(value));
    this.write32be(addr, Number(v >> 32n));
    this.write32be(addr + 4, Number(v & 0xffffffffn));
  }

  // ---- bulk access ----

  /** Copy `len` bytes out of guest memory. */
  readBytes(addr: number, len: number): Uint8Array {
    this.#checkRange(addr, len);
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const off = a & CHUNK_MASK;
      const n = Math.min(len - done, CHUNK_SIZE - off);
      const d = this.#data[Math.floor(a / CHUNK_SIZE)];
      if (d !== undefined) out.set(d.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  /** Copy `bytes` into guest memory at `addr`. */
  writeBytes(addr: number, bytes: Uint8Array): void {
    this.#checkRange(addr, bytes.length);
    let done = 0;
    while (done < bytes.length) {
      const a = addr + done;
      const off = a & CHUNK_MASK;
      const n = Math.min(bytes.length - done, CHUNK_SIZE - off);
      this.chunk(a, true).set(bytes.subarray(done, done + n), off);
      done += n;
    }
    this.noteWrite(addr, bytes.length);
  }

  /** Fill `len` bytes at `addr` with `byte`. Filling untouched memory with zero allocates nothing. */
  fill(addr: number, len: number, byte = 0): void {
    if (len <= 0) return;
    this.#checkRange(addr, len);
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const off = a & CHUNK_MASK;
      const n = Math.min(len - done, CHUNK_SIZE - off);
      const ci = Math.floor(a / CHUNK_SIZE);
      const d = this.#data[ci];
      if (d !== undefined) d.fill(byte, off, off + n);
      else if (byte !== 0) this.#alloc(ci).fill(byte, off, off + n);
      done += n;
    }
    this.noteWrite(addr, len);
  }

  /**
   * Copy `len` bytes from `src` to `dst` with memmove semantics (overlap is safe). Copying
   * untouched (zero) memory over untouched memory allocates nothing.
   */
  copy(dst: number, src: number, len: number): void {
    if (len <= 0 || dst === src) return;
    this.#checkRange(dst, len);
    this.#checkRange(src, len);
    const overlapsForward = dst > src && dst < src + len;
    // Work in pieces that stay inside one source chunk and one destination chunk.
    const piece = (offset: number, n: number) => {
      const s = src + offset, d = dst + offset;
      const sd = this.#data[Math.floor(s / CHUNK_SIZE)];
      const dci = Math.floor(d / CHUNK_SIZE);
      if (sd === undefined) {
        const dd = this.#data[dci];
        if (dd !== undefined) dd.fill(0, d & CHUNK_MASK, (d & CHUNK_MASK) + n);
        return;
      }
      const dd = this.#data[dci] ?? this.#alloc(dci);
      const so = s & CHUNK_MASK;
      if (sd === dd) dd.copyWithin(d & CHUNK_MASK, so, so + n);
      else dd.set(sd.subarray(so, so + n), d & CHUNK_MASK);
    };
    const pieces: [number, number][] = [];
    let off = 0;
    while (off < len) {
      const n = Math.min(
        len - off,
        CHUNK_SIZE - ((src + off) & CHUNK_MASK),
        CHUNK_SIZE - ((dst + off) & CHUNK_MASK),
      );
      pieces.push([off, n]);
      off += n;
    }
    if (overlapsForward) { for (let i = pieces.length - 1; i >= 0; i--) piece(...pieces[i]); }
    else for (const p of pieces) piece(...p);
    this.noteWrite(dst, len);
  }

  /** True when every byte in `[addr, addr+len)` is zero. */
  isZero(addr: number, len: number): boolean {
    this.#checkRange(addr, len);
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const off = a & CHUNK_MASK;
      const n = Math.min(len - done, CHUNK_SIZE - off);
      const d = this.#data[Math.floor(a / CHUNK_SIZE)];
      if (d !== undefined) {
        for (let i = off; i < off + n; i++) if (d[i] !== 0) return false;
      }
      done += n;
    }
    return true;
  }
}
