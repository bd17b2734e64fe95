/**
 * The x86 Linux boot protocol image (zImage / bzImage): setup header parser for protocols
 * 2.00–2.15 and a builder that wraps a payload (the protected-mode code) into a valid image of any
 * protocol version.
 *
 * Layout: the real-mode part is `(setup_sects || 4) + 1` sectors of 512 bytes (boot sector plus
 * setup code, with the setup header at 0x1F1); everything after it is the protected-mode part,
 * loaded at 0x100000 when `loadflags & LOADED_HIGH` (bzImage) or 0x10000 (zImage).
 *
 * @module
 */

import { ImageFormatError } from "./errors.ts";

/** `loadflags` bit 0: the protected-mode code is loaded at 0x100000. */
export const LOADED_HIGH = 0x01;
/** `loadflags` bit 7: `heap_end_ptr` is valid. */
export const CAN_USE_HEAP = 0x80;
/** `xloadflags` bit 0: a 64-bit entry point at load address + 0x200. */
export const XLF_KERNEL_64 = 0x01;
/** `xloadflags` bit 1: the kernel and boot_params may be above 4 GiB. */
export const XLF_CAN_BE_LOADED_ABOVE_4G = 0x02;
/** `xloadflags` bit 4: kexec may pass EFI data. */
export const XLF_EFI_KEXEC = 0x10;
/** "HdrS", little-endian. */
export const HDRS_MAGIC = 0x53726448;

/** The setup header fields; fields the image's protocol version does not have are `undefined`. */
export interface SetupHeader {
  /** Raw byte at 0x1F1 (0 means 4). */
  setupSects: number;
  /** Effective number of setup sectors (`setupSects || 4`). */
  setupSectors: number;
  /** 0x1F2. */
  rootFlags: number;
  /** 0x1F4: 4 bytes from 2.04, 2 bytes before. */
  syssize: number;
  /** 0x1FA. */
  vidMode: number;
  /** 0x1FC. */
  rootDev: number;
  /** 0x1FE, 0xAA55. */
  bootFlag: number;
  /** Protocol version (major << 8 | minor); 0 when there is no "HdrS" (pre-2.00 image). */
  version: number;
  /** File offset of the end of the header (`0x202 + byte[0x201]`); 0x202 without "HdrS". */
  headerEnd: number;
  /** 0x208. */
  realmodeSwtch?: number;
  /** 0x20C. */
  startSysSeg?: number;
  /** 0x20E. */
  kernelVersion?: number;
  /** 0x210. */
  typeOfLoader?: number;
  /** 0x211. */
  loadflags?: number;
  /** 0x212 (2.00–2.01). */
  setupMoveSize?: number;
  /** 0x214. */
  code32Start?: number;
  /** 0x218. */
  ramdiskImage?: number;
  /** 0x21C. */
  ramdiskSize?: number;
  /** 0x224 (2.01+). */
  heapEndPtr?: number;
  /** 0x228 (2.02+). */
  cmdLinePtr?: number;
  /** 0x22C (2.03+); {@linkcode effectiveInitrdAddrMax} gives 0x37FFFFFF before 2.03. */
  initrdAddrMax?: number;
  /** 0x230 (2.05+). */
  kernelAlignment?: number;
  /** 0x234 (2.05+). */
  relocatableKernel?: number;
  /** 0x235 (2.10+). */
  minAlignment?: number;
  /** 0x236 (2.12+). */
  xloadflags?: number;
  /** 0x238 (2.06+); {@linkcode effectiveCmdlineSize} gives 255 before 2.06. */
  cmdlineSize?: number;
  /** 0x23C (2.07+). */
  hardwareSubarch?: number;
  /** 0x240 (2.07+). */
  hardwareSubarchData?: bigint;
  /** 0x248 (2.08+). */
  payloadOffset?: number;
  /** 0x24C (2.08+). */
  payloadLength?: number;
  /** 0x250 (2.09+). */
  setupData?: bigint;
  /** 0x258 (2.10+). */
  prefAddress?: bigint;
  /** 0x260 (2.10+). */
  initSize?: number;
  /** 0x264 (2.11+). */
  handoverOffset?: number;
  /** 0x268 (2.15+). */
  kernelInfoOffset?: number;
}

/** A parsed boot-protocol image. */
export interface BzImage {
  /** The setup header. */
  header: SetupHeader;
  /** True for a bzImage (version >= 2.00 and LOADED_HIGH), false for a zImage. */
  loadedHigh: boolean;
  /** Size of the real-mode part in bytes: `(setupSectors + 1) * 512` (kexec-tools' `kern16_size`). */
  realModeSize: number;
  /** File offset of the protected-mode code (equal to `realModeSize`). */
  protectedModeOffset: number;
  /** Size of the protected-mode part in bytes. */
  protectedModeSize: number;
}

/** 0x37FFFFFF: the initrd limit of protocols before 2.03. */
export const DEFAULT_INITRD_ADDR_MAX = 0x37ffffff;

/**
 * `initrd_addr_max` as a loader uses it: the header value from 2.03, else 0x37FFFFFF.
 *
 * @example
 * ```ts
 * import { buildBzImage, effectiveInitrdAddrMax, parseBzImage } from "./bzimage.ts";
 * effectiveInitrdAddrMax(parseBzImage(buildBzImage({ version: 0x0202, payload: new Uint8Array(16) })).header); // 0x37ffffff
 * ```
 */
export function effectiveInitrdAddrMax(header: SetupHeader): number {
  return header.initrdAddrMax ?? DEFAULT_INITRD_ADDR_MAX;
}

/**
 * Maximum command-line length excluding the NUL: `cmdline_size` from 2.06, else 255.
 *
 * @example
 * ```ts
 * import { buildBzImage, effectiveCmdlineSize, parseBzImage } from "./bzimage.ts";
 * effectiveCmdlineSize(parseBzImage(buildBzImage({ version: 0x0206, payload: new Uint8Array(16), cmdlineSize: 2047 })).header); // 2047
 * ```
 */
export function effectiveCmdlineSize(header: SetupHeader): number {
  return header.cmdlineSize ?? 255;
}

/**
 * File offset where the setup header of protocol `version` ends (the jump at 0x200 targets it).
 *
 * @example
 * ```ts
 * import { headerEndForVersion } from "./bzimage.ts";
 * headerEndForVersion(0x0202); // 0x22c
 * ```
 */
export function headerEndForVersion(version: number): number {
  const minor = version & 0xff;
  if (version < 0x0200) return 0x202;
  if (minor === 0) return 0x224;
  if (minor === 1) return 0x226;
  if (minor === 2) return 0x22c;
  if (minor <= 4) return 0x230;
  if (minor === 5) return 0x238;
  if (minor === 6) return 0x23c;
  if (minor === 7) return 0x248;
  if (minor === 8) return 0x250;
  if (minor === 9) return 0x258;
  if (minor === 10) return 0x264;
  if (minor <= 14) return 0x268;
  return 0x26c;
}

const FORMAT = "bzImage";

function fail(message: string, offset: number): never {
  throw new ImageFormatError(message, { offset, format: FORMAT });
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

/**
 * Parse and validate a zImage/bzImage. Throws {@linkcode ImageFormatError} with the byte offset for
 * a file shorter than the boot sector, a bad boot flag, a version that is not 2.xx, a header that
 * ends beyond the setup code, or setup sectors beyond the end of the file.
 *
 * @example
 * ```ts
 * import { buildBzImage, parseBzImage } from "./bzimage.ts";
 * const img = parseBzImage(buildBzImage({ version: 0x020f, payload: new Uint8Array(4096) }));
 * img.header.version; // 0x020f
 * img.protectedModeSize; // 4096
 * ```
 */
export function parseBzImage(bytes: Uint8Array): BzImage {
  if (bytes.length < 0x200) {
    fail(`Image truncated: ${bytes.length} bytes, the boot sector alone is 512`, bytes.length);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u8 = (o: number) => v.getUint8(o);
  const u16 = (o: number) => v.getUint16(o, true);
  const u32 = (o: number) => v.getUint32(o, true);
  const u64 = (o: number) => v.getBigUint64(o, true);
  const bootFlag = u16(0x1fe);
  if (bootFlag !== 0xaa55) fail(`Bad boot flag: expected 0xaa55, found ${hex(bootFlag)}`, 0x1fe);
  const setupSects = u8(0x1f1);
  const setupSectors = setupSects === 0 ? 4 : setupSects;
  const realModeSize = (setupSectors + 1) * 512;
  const hasHdrS = bytes.length >= 0x208 && u32(0x202) === HDRS_MAGIC;
  const version = hasHdrS ? u16(0x206) : 0;
  if (hasHdrS && (version >> 8) !== 2) {
    fail(`Unsupported boot protocol version: ${hex(version)}`, 0x206);
  }
  const headerEnd = hasHdrS ? 0x202 + u8(0x201) : 0x202;
  if (hasHdrS && headerEnd < 0x224) {
    fail(`Setup header too short: ends at ${hex(headerEnd)}, protocol 2.00 needs 0x224`, 0x201);
  }
  if (headerEnd > realModeSize) {
    fail(`Setup header ends at ${hex(headerEnd)}, beyond the ${setupSectors} setup sectors`, 0x201);
  }
  if (bytes.length < realModeSize) {
    fail(
      `Setup code extends beyond the end of the image: ${setupSectors} sectors need ${
        hex(realModeSize)
      } bytes, the image has ${hex(bytes.length)}`,
      0x1f1,
    );
  }
  const header: SetupHeader = {
    setupSects,
    setupSectors,
    rootFlags: u16(0x1f2),
    syssize: version >= 0x0204 ? u32(0x1f4) : u16(0x1f4),
    vidMode: u16(0x1fa),
    rootDev: u16(0x1fc),
    bootFlag,
    version,
    headerEnd,
  };
  if (hasHdrS) {
    header.realmodeSwtch = u32(0x208);
    header.startSysSeg = u16(0x20c);
    header.kernelVersion = u16(0x20e);
    header.typeOfLoader = u8(0x210);
    header.loadflags = u8(0x211);
    if (version <= 0x0201) header.setupMoveSize = u16(0x212);
    header.code32Start = u32(0x214);
    header.ramdiskImage = u32(0x218);
    header.ramdiskSize = u32(0x21c);
    // Fields past headerEnd are not part of the header even when the version claims them.
    const has = (end: number) => headerEnd >= end;
    if (version >= 0x0201 && has(0x226)) header.heapEndPtr = u16(0x224);
    if (version >= 0x0202 && has(0x22c)) header.cmdLinePtr = u32(0x228);
    if (version >= 0x0203 && has(0x230)) header.initrdAddrMax = u32(0x22c);
    if (version >= 0x0205 && has(0x235)) {
      header.kernelAlignment = u32(0x230);
      header.relocatableKernel = u8(0x234);
    }
    if (version >= 0x020a && has(0x236)) header.minAlignment = u8(0x235);
    if (version >= 0x020c && has(0x238)) header.xloadflags = u16(0x236);
    if (version >= 0x0206 && has(0x23c)) header.cmdlineSize = u32(0x238);
    if (version >= 0x0207 && has(0x248)) {
      header.hardwareSubarch = u32(0x23c);
      header.hardwareSubarchData = u64(0x240);
    }
    if (version >= 0x0208 && has(0x250)) {
      header.payloadOffset = u32(0x248);
      header.payloadLength = u32(0x24c);
    }
    if (version >= 0x0209 && has(0x258)) header.setupData = u64(0x250);
    if (version >= 0x020a && has(0x264)) {
      header.prefAddress = u64(0x258);
      header.initSize = u32(0x260);
    }
    if (version >= 0x020b && has(0x268)) header.handoverOffset = u32(0x264);
    if (version >= 0x020f && has(0x26c)) header.kernelInfoOffset = u32(0x268);
    if (
      header.kernelAlignment !== undefined && header.relocatableKernel &&
      (header.kernelAlignment & (header.kernelAlignment - 1)) !== 0
    ) {
      fail(`Kernel alignment is not a power of two: ${hex(header.kernelAlignment)}`, 0x230);
    }
  }
  const protectedModeSize = bytes.length - realModeSize;
  return {
    header,
    loadedHigh: hasHdrS && ((header.loadflags ?? 0) & LOADED_HIGH) !== 0,
    realModeSize,
    protectedModeOffset: realModeSize,
    protectedModeSize,
  };
}

/** Options of {@linkcode buildBzImage}; every header field has a realistic default. */
export interface BuildBzImageOptions {
  /** Protocol version, 0x0200..0x020F. */
  version: number;
  /** The protected-mode part (for a 64-bit entry, put the 64-bit code at offset 0x200). */
  payload: Uint8Array;
  /** Byte at 0x1F1 (0 means 4); default 4, or more when `setupCode` needs it. */
  setupSects?: number;
  /** Real-mode setup code placed right after the header (the jump at 0x200 targets it). */
  setupCode?: Uint8Array;
  /** Boot-sector code at offset 0 (at most 0x1F1 bytes). */
  bootSector?: Uint8Array;
  /** Default LOADED_HIGH (a bzImage); 0 gives a zImage. */
  loadflags?: number;
  /** Default 0x100000. */
  code32Start?: number;
  /** Default 0x37FFFFFF before 2.12, 0x7FFFFFFF after. */
  initrdAddrMax?: number;
  /** Default 0x1000000 (16 MiB) for relocatable images, 0x200000 otherwise. */
  kernelAlignment?: number;
  /** Default 1 from 2.05. */
  relocatableKernel?: number;
  /** Default 21 (log2 2 MiB) from 2.10. */
  minAlignment?: number;
  /** Default 0 (XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G = 3 for a 64-bit kernel). */
  xloadflags?: number;
  /** Default 2047 (2.06+). */
  cmdlineSize?: number;
  /** Default 0x1000000 (2.10+). */
  prefAddress?: bigint;
  /** Default the payload size rounded up to 4 KiB (2.10+). */
  initSize?: number;
  /** Default 0x1E00: heap end (2.01+). */
  heapEndPtr?: number;
  /** Default 0x0301. */
  rootDev?: number;
  /** Default 0xFFFF (vga=normal). */
  vidMode?: number;
  /** Default 0. */
  handoverOffset?: number;
  /** Default 0 (2.15+). */
  kernelInfoOffset?: number;
  /** Default 0. */
  hardwareSubarch?: number;
  /** A kernel version string stored in the setup code; `kernel_version` points at it. */
  kernelVersionString?: string;
}

/**
 * Build a zImage/bzImage of any protocol version around `payload`. Version-gated fields are only
 * written when the version has them.
 *
 * @example
 * ```ts
 * import { buildBzImage, parseBzImage } from "./bzimage.ts";
 * const bytes = buildBzImage({ version: 0x020c, payload: new Uint8Array(8192), xloadflags: 3 });
 * parseBzImage(bytes).header.xloadflags; // 3
 * ```
 */
export function buildBzImage(options: BuildBzImageOptions): Uint8Array {
  const version = options.version;
  if (version < 0x0200 || version > 0x02ff) {
    throw new RangeError(`Boot protocol version out of range: ${hex(version)}`);
  }
  const headerEnd = headerEndForVersion(version);
  const setupCode = options.setupCode ?? new Uint8Array([0xf4, 0xeb, 0xfd]); // hlt; jmp $-1
  const versionString = options.kernelVersionString
    ? new TextEncoder().encode(options.kernelVersionString + "\0")
    : new Uint8Array();
  const needed = headerEnd + setupCode.length + versionString.length;
  const minSects = Math.ceil(needed / 512) - 1;
  let setupSects = options.setupSects ?? Math.max(4, minSects);
  const effective = setupSects === 0 ? 4 : setupSects;
  if (effective < minSects) {
    throw new RangeError(`Setup code needs ${minSects} sectors, setupSects is ${setupSects}`);
  }
  if (setupSects > 0xff) throw new RangeError(`Too many setup sectors: ${setupSects}`);
  const realModeSize = (effective + 1) * 512;
  const out = new Uint8Array(realModeSize + options.payload.length);
  const v = new DataView(out.buffer);
  if (options.bootSector) {
    if (options.bootSector.length > 0x1f1) throw new RangeError("Boot sector code too long");
    out.set(options.bootSector, 0);
  }
  out.set(setupCode, headerEnd);
  let versionOffset = 0;
  if (versionString.length) {
    versionOffset = headerEnd + setupCode.length;
    out.set(versionString, versionOffset);
  }
  out.set(options.payload, realModeSize);
  setupSects = setupSects & 0xff;
  v.setUint8(0x1f1, setupSects);
  const syssize = Math.ceil(options.payload.length / 16);
  if (version >= 0x0204) v.setUint32(0x1f4, syssize, true);
  else v.setUint16(0x1f4, Math.min(syssize, 0xffff), true);
  v.setUint16(0x1fa, options.vidMode ?? 0xffff, true);
  v.setUint16(0x1fc, options.rootDev ?? 0x0301, true);
  v.setUint16(0x1fe, 0xaa55, true);
  v.setUint8(0x200, 0xeb);
  v.setUint8(0x201, headerEnd - 0x202);
  v.setUint32(0x202, HDRS_MAGIC, true);
  v.setUint16(0x206, version, true);
  v.setUint16(0x20c, 0x1000, true);
  if (versionOffset) v.setUint16(0x20e, versionOffset - 0x200, true);
  v.setUint8(0x211, options.loadflags ?? LOADED_HIGH);
  if (version <= 0x0201) v.setUint16(0x212, 0x8000, true);
  v.setUint32(0x214, options.code32Start ?? 0x100000, true);
  if (version >= 0x0201) v.setUint16(0x224, options.heapEndPtr ?? 0x1e00, true);
  if (version >= 0x0203) {
    v.setUint32(
      0x22c,
      options.initrdAddrMax ?? (version >= 0x020c ? 0x7fffffff : 0x37ffffff),
      true,
    );
  }
  const relocatable = options.relocatableKernel ?? 1;
  if (version >= 0x0205) {
    v.setUint32(0x230, options.kernelAlignment ?? (relocatable ? 0x1000000 : 0x200000), true);
    v.setUint8(0x234, relocatable);
  }
  if (version >= 0x020a) v.setUint8(0x235, options.minAlignment ?? 21);
  if (version >= 0x020c) v.setUint16(0x236, options.xloadflags ?? 0, true);
  if (version >= 0x0206) v.setUint32(0x238, options.cmdlineSize ?? 2047, true);
  if (version >= 0x0207) v.setUint32(0x23c, options.hardwareSubarch ?? 0, true);
  if (version >= 0x020a) {
    v.setBigUint64(0x258, options.prefAddress ?? 0x1000000n, true);
    const initSize = options.initSize ?? Math.ceil(options.payload.length / 4096) * 4096;
    v.setUint32(0x260, initSize, true);
  }
  if (version >= 0x020b) v.setUint32(0x264, options.handoverOffset ?? 0, true);
  if (version >= 0x020f) v.setUint32(0x268, options.kernelInfoOffset ?? 0, true);
  return out;
}
