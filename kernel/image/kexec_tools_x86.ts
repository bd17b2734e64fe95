/**
 * kexec-tools' x86 loaders, modelled on kexec-tools 2.0.25 (`kexec-bzImage.c`,
 * `kexec-bzImage64.c`, `kexec-elf-x86.c`, `kexec-elf-x86_64.c`, `x86-linux-setup.c`) with the
 * 1.101-era (1.96) bzImage behaviour as a variant: the zero page, command line, initrd, purgatory
 * placement and registers.
 *
 * Host-specific inputs of the real tool are replaced by deterministic defaults, documented in
 * docs/images.md: no framebuffer (screen_info defaults 80×25 VGA), hardware_subarch 0, no EDD, no
 * EFI, acpi_rsdp_addr 0, and no RNG-seed setup_data segment unless asked for.
 *
 * @module
 */

import { type BzImage, effectiveCmdlineSize, effectiveInitrdAddrMax } from "./bzimage.ts";
import { type ElfImage, ET_DYN, PT_LOAD } from "./elf.ts";
import { KexecOptionError } from "./errors.ts";
import type { KexecInfo } from "./kexec_tools_memory.ts";
import type { PurgatoryBlob, PurgatorySymbol } from "./purgatory.ts";

/** Size of kexec-tools 2.0.25's `struct x86_linux_param_header` (the zero page it builds). */
export const PARAM_HEADER_SIZE = 0xeec;
/** kexec-tools' `COMMAND_LINE_SIZE` (2.0.25). */
export const COMMAND_LINE_SIZE = 2048;
/** Bytes reserved after the command line for purgatory (` kexec_jump_back_entry=...`). */
export const PURGATORY_CMDLINE_SIZE = 64;
/** `type_of_loader` value of kexec-tools (T = 0xD). */
export const LOADER_TYPE_KEXEC = 0xd0;
/** Lowest initrd address kexec-tools uses (16 MiB). */
export const INITRD_BASE = 0x1000000n;

/** Registers the loader chose for purgatory to load. */
export interface EntryRegisters {
  /** `entry32_regs` (32-bit kernel entry). */
  entry32?: {
    eax: bigint;
    ebx: bigint;
    ecx: bigint;
    edx: bigint;
    esi: bigint;
    edi: bigint;
    esp: bigint;
    ebp: bigint;
    eip: bigint;
  };
  /** `entry64_regs` (64-bit kernel entry); only the set registers are listed, the rest are 0. */
  entry64?: Partial<Record<"rax" | "rbx" | "rsi" | "rdi" | "rsp" | "rip", bigint>>;
  /** `entry16_regs` (real-mode entry). */
  entry16?: {
    ds: number;
    es: number;
    ss: number;
    fs: number;
    gs: number;
    cs: number;
    ip: number;
    esp: number;
  };
}

/** A placed purgatory whose variables can be patched. */
export class PlacedPurgatory {
  /** The blob. */
  readonly blob: PurgatoryBlob;
  /** The segment buffer (a copy of the blob's bytes). */
  readonly buf: Uint8Array;
  /** Load address. */
  readonly base: bigint;
  readonly #view: DataView;

  /** Wrap a placed purgatory. */
  constructor(blob: PurgatoryBlob, buf: Uint8Array, base: bigint) {
    this.blob = blob;
    this.buf = buf;
    this.base = base;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Entry address (`purgatory_start`). */
  get entry(): bigint {
    return this.base + BigInt(this.blob.entryOffset);
  }

  /** `elf_rel_get_addr`: absolute address of a symbol, or undefined for an opaque blob. */
  addr(symbol: PurgatorySymbol): bigint | undefined {
    const o = this.blob.symbols[symbol];
    return o === undefined ? undefined : this.base + BigInt(o);
  }

  /** `elf_rel_set_symbol` for a u32 (ignored by an opaque blob). */
  set32(symbol: PurgatorySymbol, index: number, value: bigint | number): void {
    const o = this.blob.symbols[symbol];
    if (o !== undefined) {
      this.#view.setUint32(o + 4 * index, Number(BigInt(value) & 0xffffffffn), true);
    }
  }

  /** `elf_rel_set_symbol` for a u64 (ignored by an opaque blob). */
  set64(symbol: PurgatorySymbol, index: number, value: bigint): void {
    const o = this.blob.symbols[symbol];
    if (o !== undefined) this.#view.setBigUint64(o + 8 * index, BigInt.asUintN(64, value), true);
  }

  /** Store a u16 (ignored by an opaque blob). */
  set16(symbol: PurgatorySymbol, byteOffset: number, value: number): void {
    const o = this.blob.symbols[symbol];
    if (o !== undefined) this.#view.setUint16(o + byteOffset, value & 0xffff, true);
  }
}

/** Host-dependent inputs and switches shared by the x86 loaders. */
export interface X86LoaderContext {
  /** Placement state. */
  info: KexecInfo;
  /** The purgatory blob to place (kexec-tools embeds one per build). */
  purgatory: PurgatoryBlob;
  /** Command line (without the NUL); undefined = none given. */
  commandLine?: string;
  /** Initrd contents. */
  initrd?: Uint8Array;
  /** Add the RNG-seed setup_data segment that kexec-tools 2.0.25 adds when getrandom() works (contents: these 32 bytes, default zeros). */
  rngSeed?: Uint8Array;
  /** `-p`: a crash (kdump) load; placement is already confined to the "Crash kernel" range. */
  crash?: boolean;
  /** Messages kexec-tools prints with --debug (dbgprintf). */
  debug: (line: string) => void;
  /** Messages printed to stdout. */
  stdout: (line: string) => void;
}

/** What an x86 loader produced besides the segments. */
export interface X86LoadResult {
  /** Kexec entry (purgatory_start, or e_entry with --args-none). */
  entry: bigint;
  /** Placed purgatory, if any. */
  purgatory?: PlacedPurgatory;
  /** Registers given to purgatory. */
  registers: EntryRegisters;
  /** Address of the zero page / faked param header / boot notes, if any. */
  parameters?: bigint;
  /** Address of the kernel (bzImage) protected-mode code. */
  kernel?: bigint;
  /** Initrd address. */
  initrd?: bigint;
}

const hex = (n: bigint | number) => `0x${n.toString(16)}`;

function placePurgatory(
  ctx: X86LoaderContext,
  opts: { min: bigint; max: bigint; end: number },
): PlacedPurgatory {
  const blob = ctx.purgatory;
  // elf_rel_load clips max to the purgatory ELF's elf_max_addr.
  const elfMax = blob.bits === 32 ? 0xffffffffn : (1n << 64n) - 1n;
  const max = opts.max > elfMax ? elfMax : opts.max;
  const buf = blob.bytes.slice();
  const base = ctx.info.addBuffer({
    buf,
    bufsz: BigInt(buf.length),
    memsz: blob.memsz,
    align: blob.align,
    min: opts.min,
    max,
    end: opts.end,
    label: "purgatory",
  });
  return new PlacedPurgatory(blob, buf, base);
}

/** Command line bytes with the NUL, and its length as kexec-tools counts it. */
function commandLineBytes(cmdline: string | undefined, emptyLength: 0 | 1): Uint8Array {
  if (cmdline === undefined) return new Uint8Array(emptyLength);
  const b = new TextEncoder().encode(cmdline);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** The zero page (boot_params) being filled, at `view` offset 0 of its segment buffer. */
class ZeroPage {
  readonly v: DataView;
  readonly buf: Uint8Array;
  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get version(): number {
    return this.v.getUint16(0x206, true);
  }
  u8(o: number, x: number) {
    this.v.setUint8(o, x & 0xff);
  }
  u16(o: number, x: number) {
    this.v.setUint16(o, x & 0xffff, true);
  }
  u32(o: number, x: bigint | number) {
    this.v.setUint32(o, Number(BigInt(x) & 0xffffffffn), true);
  }
  u64(o: number, x: bigint) {
    this.v.setBigUint64(o, BigInt.asUintN(64, x), true);
  }
}

/**
 * `setup_linux_bootloader_parameters_high`: loader type, initrd placement, ramdisk fields,
 * cl_magic/cl_offset, cmd_line_ptr and the command line copy.
 */
function setupBootloaderParameters(
  ctx: X86LoaderContext,
  zp: ZeroPage,
  opts: {
    base: bigint;
    cmdlineOffset: number;
    cmdline: Uint8Array;
    initrdHigh: boolean;
    era: string;
  },
): bigint | undefined {
  zp.u8(0x210, opts.era === "1.101" ? 0xff : LOADER_TYPE_KEXEC);
  zp.u8(0x211, 0);
  let initrdAddrMax: bigint;
  if (opts.initrdHigh) initrdAddrMax = ctx.info.ulongMax;
  else if (zp.version >= 0x0203) {
    initrdAddrMax = BigInt(zp.v.getUint32(0x22c, true));
    ctx.debug(`initrd_addr_max is ${hex(initrdAddrMax)}`);
  } else initrdAddrMax = 0x37ffffffn;
  let initrdBase = 0n;
  let initrdSize = 0n;
  if (ctx.initrd) {
    initrdSize = BigInt(ctx.initrd.length);
    initrdBase = ctx.info.addBuffer({
      buf: ctx.initrd,
      memsz: initrdSize,
      align: 4096n,
      min: INITRD_BASE,
      max: initrdAddrMax,
      end: -1,
      label: "initrd",
    });
    ctx.debug(`Loaded initrd at ${hex(initrdBase)} size ${hex(initrdSize)}`);
  }
  zp.u32(0x218, initrdBase);
  zp.u32(0x21c, initrdSize);
  if (zp.version >= 0x020c && (initrdBase >> 32n) !== 0n) zp.u32(0xc0, initrdBase >> 32n);
  if (zp.version >= 0x020c && (initrdSize >> 32n) !== 0n) zp.u32(0xc4, initrdSize >> 32n);
  zp.u16(0x20, 0xa33f);
  zp.u16(0x22, opts.cmdlineOffset);
  if (zp.version >= 0x0202) {
    const ptr = opts.base + BigInt(opts.cmdlineOffset);
    zp.u32(0x228, ptr);
    if (zp.version >= 0x020c && (ptr >> 32n) !== 0n) zp.u32(0xc8, ptr >> 32n);
  }
  let len = opts.cmdline.length;
  if (len > COMMAND_LINE_SIZE) len = COMMAND_LINE_SIZE;
  zp.buf.set(opts.cmdline.subarray(0, len), opts.cmdlineOffset);
  // cmdline_ptr[cmdline_len - 1] = '\0' (with len 0 this is the byte before the command line).
  zp.buf[opts.cmdlineOffset + len - 1] = 0;
  return ctx.initrd ? initrdBase : undefined;
}

const E820_TYPE: Record<string, number> = {
  ram: 1,
  reserved: 2,
  acpi: 3,
  nvs: 4,
  pmem: 7,
  pram: 12,
};

/**
 * `setup_linux_system_parameters`: screen_info defaults, memory sizes, root device, e820 table
 * from the memory ranges, and the optional RNG-seed setup_data.
 */
function setupSystemParameters(ctx: X86LoaderContext, zp: ZeroPage, era: string): void {
  zp.u32(0x23c, 0); // hardware_subarch of the running kernel: PC
  // screen_info: kexec-tools' defaults (no /dev/fb0 to read in the model).
  zp.u8(0x00, 0);
  zp.u8(0x01, 0);
  zp.u16(0x04, 0);
  zp.u8(0x06, 0);
  zp.u8(0x07, 80);
  zp.u16(0x0a, 0);
  zp.u8(0x0e, 25);
  zp.u8(0x0f, 1);
  zp.u16(0x10, 16);
  zp.u16(0x02, 0); // ext_mem_k
  zp.u32(0x1e0, 0); // alt_mem_k
  zp.u8(0x1e8, 0);
  zp.buf.fill(0, 0x40, 0x40 + 0x14); // apm_bios_info
  zp.buf.fill(0, 0x80, 0xa0); // drive_info
  zp.u16(0xa0, 0); // sys_desc_table.length
  zp.u16(0x1f2, 0xffff); // mount_root_rdonly
  zp.u16(0x1fc, 0x0300); // root_dev /dev/hda
  zp.u8(0x1ff, 0); // aux_device_info
  const ranges = ctx.info.ranges;
  const max = era === "1.101" ? 32 : 128;
  if (ranges.length > max) {
    throw new KexecOptionError(
      `More than ${max} memory ranges (E820_EXT setup_data) are not modelled: ${ranges.length}`,
    );
  }
  zp.u8(0x1e8, ranges.length);
  ranges.forEach((r, i) => {
    const o = 0x2d0 + 20 * i;
    const end = era === "1.101" ? r.end - 1n : r.end;
    zp.u64(o, r.start);
    zp.u64(o + 8, end - r.start + 1n);
    zp.u32(o + 16, E820_TYPE[r.type] ?? 2);
    if (r.type !== "ram") return;
    // 1.101 had `unsigned long long mem_k = (end >> 10) - 0x100000` with its exclusive range
    // end (a bug: below 1 GiB it wraps in 64 bits, so ext_mem_k = 0xFC00 and alt_mem_k =
    // 0xFFFFFFFF after the clamps); 2.0.25 subtracts 1 MiB in KiB from the inclusive end.
    const memEnd = era === "1.101" ? r.end : end;
    if (r.start <= 0x100000n && memEnd > 0x100000n) {
      const memK = era === "1.101"
        ? BigInt.asUintN(64, (memEnd >> 10n) - 0x100000n)
        : (end >> 10n) - (0x100000n >> 10n);
      zp.u16(0x02, Number(memK > 0xfc00n ? 0xfc00n : memK));
      zp.u32(0x1e0, memK > 0xffffffffn ? 0xffffffffn : memK);
    }
  });
  if (era !== "1.101") {
    ctx.debug("E820 memmap:");
    for (let i = 0; i < ranges.length; i++) {
      const o = 0x2d0 + 20 * i;
      const start = zp.v.getBigUint64(o, true);
      const end = start + zp.v.getBigUint64(o + 8, true) - 1n;
      ctx.debug(
        `${start.toString(16).padStart(16, "0")}-${end.toString(16).padStart(16, "0")} (${
          zp.v.getUint32(o + 16, true)
        })`,
      );
    }
    ctx.debug("/sys/firmware/edd does not exist."); // the model has no EDD
  }
  if (ctx.rngSeed && era !== "1.101") {
    const node = new Uint8Array(0x30);
    const nv = new DataView(node.buffer);
    nv.setBigUint64(0, zp.v.getBigUint64(0x250, true), true);
    nv.setUint32(8, 9, true); // SETUP_RNG_SEED
    nv.setUint32(12, 32, true);
    node.set(ctx.rngSeed.subarray(0, 32), 16);
    const addr = ctx.info.addBuffer({
      buf: node,
      memsz: 0x30n,
      align: ctx.info.pageSize,
      min: 0x100000n,
      max: ctx.info.ulongMax,
      end: 1,
      label: "setup_data (RNG seed)",
    });
    zp.u64(0x250, addr);
  }
}

/** Options of {@linkcode loadBzImage32}. */
export interface BzImageLoadOptions {
  /** `--real-mode`. */
  realMode?: boolean;
  /** kexec-tools generation ("2.0.25" default, or "1.101" for the 1.96-era loader). */
  era?: string;
}

/**
 * The i386 bzImage loader (`do_bzImage_load`), also used by the x86_64 build for images the
 * bzImage64 probe rejects and for `--entry-32bit` / `--real-mode`.
 *
 * @example
 * ```ts
 * // See loadWithKexecTools in kexec_tools.ts for the public entry point.
 * ```
 */
export function loadBzImage32(
  ctx: X86LoaderContext,
  image: { bytes: Uint8Array; parsed: BzImage },
  options: BzImageLoadOptions = {},
): X86LoadResult {
  const { info } = ctx;
  const k = image.bytes;
  const h = image.parsed.header;
  const era = options.era ?? "2.0.25";
  const kern16 = image.parsed.realModeSize;
  if (k.length < kern16) info.die("BzImage truncated?");
  const cmdline = commandLineBytes(ctx.commandLine, 1);
  const cmdlineLen = cmdline.length;
  if (h.version >= 0x0206) {
    if (cmdlineLen > effectiveCmdlineSize(h)) {
      info.die(`Kernel command line too long for kernel!`);
    }
  } else if (cmdlineLen > 255) {
    info.print("WARNING: This kernel may only support 255 byte command lines\n");
  }
  let relocatable = 0;
  if (h.version >= 0x0205) {
    relocatable = h.relocatableKernel ?? 0;
    ctx.debug("bzImage is relocatable");
  }
  const realMode = options.realMode ?? false;
  if (ctx.crash && realMode) info.die("Kdump is not supported with --real-mode");
  if (ctx.crash && !relocatable) {
    info.die("BzImage is not relocatable. Can't be used as capture kernel.");
  }
  if (era === "1.101") return loadBzImage101(ctx, image, cmdline);

  const purg = placePurgatory(ctx, {
    min: 0x3000n,
    max: !realMode && relocatable ? 0x7fffffffn : 0xa0000n,
    end: -1,
  });
  ctx.debug(`Loaded purgatory at addr ${hex(purg.base)}`);
  let kern16Needed: number;
  let heap = 0;
  if (realMode) {
    kern16Needed = h.version >= 0x0201 && h.heapEndPtr !== undefined ? h.heapEndPtr : kern16 + 8192;
    if (kern16Needed < kern16) kern16Needed = kern16;
    if (kern16Needed > 0xfffc) info.die("Real mode data too large for real mode kernel");
    heap = (0xfffc - kern16Needed) & ~0x1ff;
    kern16Needed += heap;
  } else {
    kern16Needed = Math.max(kern16, 4096);
  }
  const setupSize = kern16Needed + cmdlineLen + PURGATORY_CMDLINE_SIZE;
  const real = new Uint8Array(setupSize);
  if (!realMode) {
    let n = k[0x201] + 0x202 - 0x1f1;
    if (n > 0x7f) n = 0x7f;
    real.set(k.subarray(0x1f1, 0x1f1 + n), 0x1f1);
  } else {
    real.set(k.subarray(0, kern16), 0);
  }
  // crash (and preserve-context) loads put the zero page top-down anywhere (in the crash range)
  const setupBase = info.addBuffer({
    buf: real,
    memsz: BigInt(setupSize),
    align: 16n,
    min: 0x3000n,
    max: ctx.crash ? info.ulongMax : 0xa0000n,
    end: ctx.crash ? -1 : 1,
    label: "setup (zero page + command line)",
  });
  ctx.debug(`Loaded real-mode code and command line at ${hex(setupBase)}`);
  if (purg.base < setupBase) info.die("Could not put setup code above the kernel parameters");
  const size = BigInt(k.length - kern16);
  const kbuf = k.subarray(kern16);
  let kernelAddr: bigint;
  if (h.version >= 0x0205 && relocatable) {
    let max = 0x37ffffffn;
    const iam = BigInt(effectiveInitrdAddrMax(h));
    if (max > iam) max = iam;
    kernelAddr = info.addBuffer({
      buf: kbuf,
      memsz: size,
      align: BigInt(h.kernelAlignment ?? 0),
      min: 0x100000n,
      max,
      end: 1,
      label: "kernel",
    });
  } else {
    kernelAddr = 0x100000n;
    info.addSegment({ buf: kbuf, mem: kernelAddr, memsz: size, label: "kernel" });
  }
  ctx.debug(`Loaded 32bit kernel at ${hex(kernelAddr)}`);
  const zp = new ZeroPage(real);
  const initrd = setupBootloaderParameters(ctx, zp, {
    base: setupBase,
    cmdlineOffset: kern16Needed,
    cmdline,
    initrdHigh: false,
    era,
  });
  const registers: EntryRegisters = {};
  if (realMode) {
    zp.u8(0x211, zp.v.getUint8(0x211) | 0x80);
    zp.u16(0x224, zp.v.getUint16(0x224, true) + heap - 0x200);
    zp.u32(0x214, kernelAddr);
  }
  const stackEnd = purg.addr("stack_end") ?? 0n;
  const r32 = {
    eax: 0n,
    ebx: 0n,
    ecx: 0n,
    edx: 0n,
    esi: setupBase,
    edi: 0n,
    esp: stackEnd,
    ebp: 0n,
    eip: kernelAddr,
  };
  if (realMode) {
    const seg = Number(setupBase >> 4n);
    const r16 = {
      ds: seg,
      es: seg,
      ss: Number(((stackEnd - 0x10000n) >> 4n) & 0xffffn),
      fs: seg,
      gs: seg,
      cs: seg + 0x20,
      ip: 0,
      esp: 0xfffc,
    };
    registers.entry16 = r16;
    const e16 = purg.addr("entry16");
    if (e16 !== undefined) r32.eip = e16;
    writeEntry16(purg, r16);
    ctx.stdout("Starting the kernel in real mode");
  }
  registers.entry32 = r32;
  writeEntry32(purg, r32);
  if (purg.blob.bits === 64) {
    // The x86_64 purgatory's entry64_regs.rip defaults to its entry32 routine.
    const e32 = purg.addr("entry32");
    if (e32 !== undefined) purg.set64("entry64_regs", 16, e32);
  }
  purg.set64("cmdline_end", 0, setupBase + BigInt(kern16Needed + cmdlineLen - 1));
  if (!realMode) setupSystemParameters(ctx, zp, era);
  return {
    entry: purg.entry,
    purgatory: purg,
    registers,
    parameters: setupBase,
    kernel: kernelAddr,
    initrd,
  };
}

/** The 1.101-era (kexec-tools 1.96) bzImage loader: everything top-down below 640K, kernel at 1 MiB. */
function loadBzImage101(
  ctx: X86LoaderContext,
  image: { bytes: Uint8Array; parsed: BzImage },
  cmdline: Uint8Array,
): X86LoadResult {
  const { info } = ctx;
  const k = image.bytes;
  const kern16 = image.parsed.realModeSize;
  const purg = placePurgatory(ctx, { min: 0x3000n, max: 0xa0000n, end: -1 });
  const setupSize = kern16 + cmdline.length;
  const real = new Uint8Array(setupSize);
  real.set(k.subarray(0, kern16), 0);
  const setupBase = info.addBuffer({
    buf: real,
    memsz: BigInt(setupSize),
    align: 16n,
    min: 0x3000n,
    max: 0xa0000n,
    end: -1,
    label: "setup (real-mode code + command line)",
  });
  const kernelAddr = 0x100000n;
  info.addSegment({
    buf: k.subarray(kern16),
    mem: kernelAddr,
    memsz: BigInt(k.length - kern16),
    label: "kernel",
  });
  const zp = new ZeroPage(real);
  const initrd = setupBootloaderParameters(ctx, zp, {
    base: setupBase,
    cmdlineOffset: kern16,
    cmdline,
    initrdHigh: false,
    era: "1.101",
  });
  const r32 = {
    eax: 0n,
    ebx: 0n,
    ecx: 0n,
    edx: 0n,
    esi: setupBase,
    edi: 0n,
    esp: purg.addr("stack_end") ?? 0n,
    ebp: 0n,
    eip: kernelAddr,
  };
  writeEntry32(purg, r32);
  setupSystemParameters(ctx, zp, "1.101");
  return {
    entry: purg.entry,
    purgatory: purg,
    registers: { entry32: r32 },
    parameters: setupBase,
    kernel: kernelAddr,
    initrd,
  };
}

function writeEntry32(purg: PlacedPurgatory, r: NonNullable<EntryRegisters["entry32"]>): void {
  const order = [r.eax, r.ebx, r.ecx, r.edx, r.esi, r.edi, r.esp, r.ebp, r.eip];
  order.forEach((x, i) => purg.set32("entry32_regs", i, x));
}

function writeEntry16(purg: PlacedPurgatory, r: NonNullable<EntryRegisters["entry16"]>): void {
  [r.ds, r.es, r.ss, r.fs, r.gs, r.cs, r.ip].forEach((x, i) =>
    purg.set16("entry16_regs", 2 * i, x)
  );
  purg.set32("entry16_regs", 3.5, r.esp); // byte offset 14
}

const R64 = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp"] as const;

function writeEntry64(purg: PlacedPurgatory, r: NonNullable<EntryRegisters["entry64"]>): void {
  R64.forEach((name, i) => purg.set64("entry64_regs", i, r[name as keyof typeof r] ?? 0n));
  purg.set64("entry64_regs", 16, r.rip ?? 0n);
}

/**
 * The x86_64 bzImage64 loader (`do_bzImage64_load`): purgatory, zero page and kernel top-down,
 * kernel memsz = init_size, 64-bit entry at load address + 0x200, initrd top-down with no limit.
 *
 * @example
 * ```ts
 * // See loadWithKexecTools in kexec_tools.ts for the public entry point.
 * ```
 */
export function loadBzImage64(
  ctx: X86LoaderContext,
  image: { bytes: Uint8Array; parsed: BzImage },
): X86LoadResult {
  const { info } = ctx;
  const k = image.bytes;
  const h = image.parsed.header;
  const kern16 = image.parsed.realModeSize;
  if (k.length < kern16) info.die("BzImage truncated?");
  const cmdline = commandLineBytes(ctx.commandLine, 1);
  if (cmdline.length > effectiveCmdlineSize(h)) {
    info.die("Kernel command line too long for kernel!");
  }
  const purg = placePurgatory(ctx, { min: 0x3000n, max: info.ulongMax, end: -1 });
  ctx.debug(`Loaded purgatory at addr ${hex(purg.base)}`);
  const kern16Needed = Math.max(kern16, 4096);
  const setupSize = kern16Needed + cmdline.length + PURGATORY_CMDLINE_SIZE;
  const real = new Uint8Array(setupSize);
  let n = k[0x201] + 0x202 - 0x1f1;
  if (n > 0x7f) n = 0x7f;
  real.set(k.subarray(0x1f1, 0x1f1 + n), 0x1f1);
  const setupBase = info.addBuffer({
    buf: real,
    memsz: BigInt(setupSize),
    align: 16n,
    min: 0x3000n,
    max: info.ulongMax,
    end: -1,
    label: "setup (zero page + command line)",
  });
  ctx.debug(`Loaded real_mode_data and command line at ${hex(setupBase)}`);
  const initSize = BigInt(h.initSize ?? 0);
  ctx.debug(`kernel init_size ${hex(initSize)}`);
  const addr = info.addBuffer({
    buf: k.subarray(kern16),
    bufsz: BigInt(k.length - kern16),
    memsz: info.alignUp(initSize, 4096n),
    align: BigInt(h.kernelAlignment ?? 0),
    min: 0x100000n,
    max: info.ulongMax,
    end: -1,
    label: "kernel",
  });
  ctx.debug(`Loaded 64bit kernel at ${hex(addr)}`);
  const zp = new ZeroPage(real);
  const initrd = setupBootloaderParameters(ctx, zp, {
    base: setupBase,
    cmdlineOffset: kern16Needed,
    cmdline,
    initrdHigh: true,
    era: "2.0.25",
  });
  const r64 = { rbx: 0n, rsi: setupBase, rip: addr + 0x200n, rsp: purg.addr("stack_end") ?? 0n };
  writeEntry64(purg, r64);
  purg.set64("cmdline_end", 0, setupBase + BigInt(kern16Needed + cmdline.length - 1));
  setupSystemParameters(ctx, zp, "2.0.25");
  return {
    entry: purg.entry,
    purgatory: purg,
    registers: { entry64: r64 },
    parameters: setupBase,
    kernel: addr,
    initrd,
  };
}

/** ELF argument style: `--args-elf` (default), `--args-linux`, `--args-none`. */
export type ElfArgStyle = "elf" | "linux" | "none";

/** Options of {@linkcode loadElfX86}. */
export interface ElfLoadOptions {
  /** Argument style. */
  args?: ElfArgStyle;
  /** Build the loader runs in ("i386" or "x86_64"): decides where --args-none is allowed. */
  build: "i386" | "x86_64";
  /** Version string in the ELF boot notes; default "2.0.25". */
  version?: string;
}

/**
 * `elf_exec_load`: the PT_LOAD segments by p_paddr (ET_DYN relocated into a hole).
 */
function loadElfSegments(info: KexecInfo, elf: ElfImage, bytes: Uint8Array): bigint {
  let base = 0n;
  const maxAddr = elf.elfClass === 32 ? 0xffffffffn : (1n << 64n) - 1n;
  if (elf.type === ET_DYN) {
    let first = info.ulongMax;
    let last = 0n;
    let align = 0n;
    for (const p of elf.programHeaders) {
      if (p.type !== PT_LOAD || p.memsz === 0n) continue;
      if (p.paddr < first) first = p.paddr;
      if (p.paddr + p.memsz > last) last = p.paddr + p.memsz;
      if (p.align > align) align = p.align;
    }
    if (last > first && !info.validMemoryRange(first, last - 1n)) {
      const hole = info.locateHole(last - first + 1n, align, 0n, maxAddr, 1);
      if (hole === info.ulongMax) info.die("ELF: locate_hole failed");
      base = hole - first;
    }
  }
  for (const p of elf.programHeaders) {
    if (p.type !== PT_LOAD) continue;
    const off = Number(p.offset);
    const size = p.filesz > p.memsz ? p.memsz : p.filesz;
    info.addSegment({
      buf: bytes.subarray(off, off + Number(size)),
      bufsz: size,
      mem: p.paddr + base,
      memsz: p.memsz,
      label: `PT_LOAD ${p.index}`,
    });
  }
  return base;
}

/**
 * The ELF boot-notes blob (`elf_boot_notes`): 0x40-byte header with bootloader name "kexec",
 * version and command line notes, IP checksum; little-endian for x86, big-endian for ppc.
 *
 * @example
 * ```ts
 * import { elfBootNotes } from "./kexec_tools_x86.ts";
 * const notes = elfBootNotes({ commandLine: new TextEncoder().encode("quiet\0"), version: "2.0.25", endian: "little" });
 * notes.length; // 0x48
 * ```
 */
export function elfBootNotes(
  opts: { commandLine: Uint8Array; version: string; endian: "little" | "big"; buggyDol?: boolean },
): Uint8Array {
  const ver = new TextEncoder().encode(opts.version + "\0");
  const verPad = (ver.length + 3) & ~3;
  const headerSize = 0x34 + verPad + 12 - 8; // hdr 12 + name note 12+8 + version note 12+verPad + cmd note 12
  const cmdPad = (opts.commandLine.length + 3) & ~3;
  const out = new Uint8Array(headerSize + cmdPad);
  const v = new DataView(out.buffer);
  const le = opts.endian === "little";
  v.setUint32(0, 0x0e1fb007, le);
  v.setUint32(4, headerSize + cmdPad, le);
  v.setUint16(10, 3, le);
  let o = 12;
  v.setUint32(o + 4, 6, le);
  v.setUint32(o + 8, 2, le);
  out.set(new TextEncoder().encode("kexec"), o + 12);
  o += 12 + 8;
  v.setUint32(o + 4, ver.length, le);
  v.setUint32(o + 8, 3, le);
  out.set(ver, o + 12);
  o += 12 + verPad;
  v.setUint32(o + 4, opts.commandLine.length, le);
  v.setUint32(o + 8, 4, le);
  out.set(opts.commandLine, o + 12);
  if (opts.buggyDol) {
    // kexec-tools' DOL loader sets b_size, n_descsz and the checksum before copying the template.
    v.setUint32(4, headerSize, le);
    v.setUint32(o + 4, 0, le);
    return out;
  }
  const sum = ipChecksum(out);
  out[8] = ~sum & 0xff;
  out[9] = (~sum >> 8) & 0xff;
  return out;
}

/** `compute_ip_checksum`'s running sum (even bytes low, odd bytes high, end-around carry). */
function ipChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i++) {
    sum += (i & 1) ? b[i] << 8 : b[i];
    if (sum > 0xffff) sum = (sum + (sum >>> 16)) & 0xffff;
  }
  return sum;
}

/**
 * The ELF loaders on x86 (`elf_x86_load` for ELF32 EM_386/EM_486, `elf_x86_64_load` for
 * EM_X86_64): PT_LOADs by p_paddr, then purgatory (lowest) and the argument segment per style.
 *
 * @example
 * ```ts
 * // See loadWithKexecTools in kexec_tools.ts for the public entry point.
 * ```
 */
export function loadElfX86(
  ctx: X86LoaderContext,
  image: { bytes: Uint8Array; parsed: ElfImage },
  options: ElfLoadOptions,
): X86LoadResult {
  const { info } = ctx;
  const elf = image.parsed;
  const is64 = elf.machine === 62;
  const style = options.args ?? "elf";
  // x86_64: command_line_len = 0 without a command line; i386: "" with length 1.
  const cmdline = commandLineBytes(ctx.commandLine, is64 ? 0 : 1);
  if (style === "elf" && ctx.initrd) {
    throw new KexecOptionError("Ramdisks not supported with generic elf arguments");
  }
  const base = loadElfSegments(info, elf, image.bytes);
  const entry = elf.entry + base;
  const maxAddr = elf.elfClass === 32 ? 0xffffffffn : info.ulongMax;
  if (style === "none") {
    const ok = is64 ? options.build === "x86_64" : options.build === "i386";
    if (!ok) info.die(`--args-none only works on arch ${is64 ? "x86_64" : "i386"}`);
    return { entry, registers: {} };
  }
  const purg = placePurgatory(ctx, { min: 0n, max: info.ulongMax, end: 1 });
  const registers: EntryRegisters = {};
  let parameters: bigint;
  let initrd: bigint | undefined;
  const stackEnd = purg.addr("stack_end") ?? 0n;
  if (style === "elf") {
    const notes = elfBootNotes({
      commandLine: cmdline,
      version: options.version ?? "2.0.25",
      endian: "little",
    });
    parameters = info.addBuffer({
      buf: notes,
      memsz: BigInt(notes.length),
      align: 4n,
      min: 0n,
      max: maxAddr,
      end: 1,
      label: "ELF boot notes",
    });
    if (is64) {
      const r = { rdi: parameters, rip: entry, rsp: stackEnd };
      writeEntry64(purg, r);
      registers.entry64 = r;
    } else {
      purg.set32("stack_arg32_1", 0, parameters);
      purg.set32("stack_arg32_2", 0, 0n);
      const r = {
        eax: 0n,
        ebx: 0n,
        ecx: 0n,
        edx: 0n,
        esi: 0n,
        edi: 0n,
        esp: purg.addr("stack_arg32_2") ?? 0n,
        ebp: 0n,
        eip: entry,
      };
      writeEntry32(purg, r);
      registers.entry32 = r;
    }
  } else {
    const hdrSize = PARAM_HEADER_SIZE + COMMAND_LINE_SIZE;
    const hdr = new Uint8Array(hdrSize);
    parameters = info.addBuffer({
      buf: hdr,
      memsz: is64 ? BigInt(hdrSize) : 16n * 1024n,
      align: 16n,
      min: 0n,
      max: maxAddr,
      end: 1,
      label: "faked param header",
    });
    const zp = new ZeroPage(hdr);
    // init_linux_parameters
    zp.u32(0x202, 0x53726448);
    zp.u16(0x206, 0x0206);
    zp.u32(0x22c, 0x37ffffff);
    zp.u32(0x238, COMMAND_LINE_SIZE);
    initrd = setupBootloaderParameters(ctx, zp, {
      base: parameters,
      cmdlineOffset: PARAM_HEADER_SIZE,
      cmdline,
      initrdHigh: false,
      era: "2.0.25",
    });
    setupSystemParameters(ctx, zp, "2.0.25");
    if (is64) {
      const r = { rbx: 0n, rsi: parameters, rip: entry, rsp: stackEnd };
      writeEntry64(purg, r);
      registers.entry64 = r;
    } else {
      const r = {
        eax: 0n,
        ebx: 0n,
        ecx: 0n,
        edx: 0n,
        esi: parameters,
        edi: 0n,
        esp: stackEnd,
        ebp: 0n,
        eip: entry,
      };
      writeEntry32(purg, r);
      registers.entry32 = r;
    }
  }
  if (!is64 && purg.blob.bits === 64) {
    const e32 = purg.addr("entry32");
    if (e32 !== undefined) purg.set64("entry64_regs", 16, e32);
  }
  return { entry: purg.entry, purgatory: purg, registers, parameters, initrd };
}
