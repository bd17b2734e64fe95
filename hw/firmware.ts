/**
 * What a 2004 PC BIOS leaves behind when it jumps to the boot sector, written into guest memory
 * and programmed into the devices through their ports and MMIO registers (never their fields):
 *
 * - the BIOS ROM (`0xE0000`–`0xFFFFF`, mirrored at `0xFFFE0000`–`0xFFFFFFFF` where the CPU
 *   fetches its reset vector): a reset vector that jumps to a tiny POST stub, which loads
 *   `DS = ES = SS = 0`, `SP = 0x7C00`, `DX = 0x0080` (boot drive), enables interrupts and jumps to
 *   `0000:7C00`; and a dummy `IRET` handler at `F000:FF53` that every IVT vector points to;
 * - the BIOS data area: `0x40E` = EBDA segment (`0x9FC0`), `0x413` = base memory in KiB (639);
 * - a copy of the e820 table in the ROM area at {@linkcode E820_COPY_ADDR} (u32 signature
 *   {@linkcode E820_COPY_MAGIC} = ASCII "E820", u32 entry count, then packed 20-byte entries,
 *   at most {@linkcode E820_COPY_MAX}). Linux gets the table from the zero page that the boot
 *   loader fills; this copy is for bare-metal guests and the kernel model;
 * - the MP floating pointer structure at {@linkcode MP_FLOATING_ADDR} (the first KiB of the
 *   EBDA, also the last KiB of base memory: where both the MP spec and Linux look) and the MP configuration table (spec rev 1.4) right after it, or in the ROM at
 *   {@linkcode MP_CONFIG_ROM_ADDR} when it does not fit;
 * - post-BIOS device state: both 8259s initialized (vectors 0x08 and 0x70, edge, cascade on IR2),
 *   every IRQ masked except the cascade; PIT channel 0 in mode 3 with count 0 (18.2 Hz); IMCR in
 *   PIC mode; BSP local APIC software-enabled (SVR = 0x10F) with LINT0 = edge ExtINT
 *   and LINT1 = level NMI (virtual wire, MP spec App. A.3) except on IMCR boards, where LINT0/LINT1 stay
 *   masked (MP spec §5: in PIC-mode configurations the BIOS must leave LINTIN0/1 of every local
 *   APIC disabled, since the 8259 INTR and NMI also reach them); every IOAPIC redirection entry
 *   masked. APs stay in wait-for-SIPI.
 *
 * MP table layouts follow the Intel MultiProcessor Specification 1.4, chapter 4.
 *
 * @module
 */

import type { IoBus } from "./io_bus.ts";
import type { PhysicalMemory } from "./memory.ts";
import { E820_ENTRY_SIZE, encodeE820Table, type MemoryMap } from "./memory_map.ts";
import type { MmioBus } from "./mmio_bus.ts";

/** Start of the BIOS ROM area in the first MiB. */
export const BIOS_ROM_BASE = 0xe0000;
/** Size of the BIOS ROM (mirrored below 4 GiB). */
export const BIOS_ROM_SIZE = 0x20000;
/** Where the ROM is mirrored at the top of the 32-bit address space (reset vector fetch). */
export const BIOS_ROM_HIGH = 0xfffe0000;
/** Physical address of the POST stub (`F000:E05B`). */
export const BIOS_POST_ADDR = 0xfe05b;
/** Physical address of the dummy interrupt handler (`F000:FF53`, one `IRET`). */
export const BIOS_IRET_ADDR = 0xfff53;
/** Extended BIOS data area: the last KiB of base memory (639 KiB of base memory). */
export const EBDA_BASE = 0x9fc00;
/** Guest copy of the e820 table (in the BIOS ROM area, shadowed RAM). */
export const E820_COPY_ADDR = 0xe1000;
/** Signature of the e820 copy: the bytes "E820" read as a little-endian u32. */
export const E820_COPY_MAGIC = 0x30323845;
/** Maximum entries of the guest e820 copy (E820MAX of the 2004 kernels). */
export const E820_COPY_MAX = 32;
/** MP floating pointer structure: the start of the EBDA, i.e. the last KiB of base memory. */
export const MP_FLOATING_ADDR = 0x9fc00;
/** MP configuration table when it fits after the floating pointer. */
export const MP_CONFIG_ADDR = 0x9fc10;
/** MP configuration table when it does not fit in base memory. */
export const MP_CONFIG_ROM_ADDR = 0xf0000;
/** Boot sector load address. */
export const BOOTSECTOR_ADDR = 0x7c00;

function hexBytes(s: string): number[] {
  return s.split(" ").map((h) => parseInt(h, 16));
}

/** POST stub: `xor ax,ax; mov ds,ax; mov es,ax; mov ss,ax; mov sp,0x7c00; mov dx,0x80; sti; jmp 0:0x7c00` (nasm). */
const POST_STUB = hexBytes("31 c0 8e d8 8e c0 8e d0 bc 00 7c ba 80 00 fb ea 00 7c 00 00");
/** Reset vector at F000:FFF0: `jmp 0xf000:0xe05b` (nasm). */
const RESET_JUMP = hexBytes("ea 5b e0 00 f0");
const IRET = 0xcf;

/** An MP processor entry (type 0). */
export interface MpProcessor {
  /** Local APIC ID. */
  apicId: number;
  /** Local APIC version (bits 7:0 of the version register). */
  apicVersion: number;
  /** EN flag: usable by the OS. */
  enabled: boolean;
  /** BP flag: the bootstrap processor. */
  bsp: boolean;
  /** CPU signature (CPUID.1:EAX stepping/model/family). */
  signature: number;
  /** Feature flags (CPUID.1:EDX). */
  features: number;
}

/** Interrupt type of I/O and local interrupt entries. */
export type MpInterruptType = "INT" | "NMI" | "SMI" | "ExtINT";
const INT_TYPES: readonly MpInterruptType[] = ["INT", "NMI", "SMI", "ExtINT"];

/** Polarity / trigger of an interrupt entry (`conforms` = as the bus says: ISA is edge, high). */
export interface MpInterruptFlags {
  /** PO field. */
  polarity: "conforms" | "high" | "low";
  /** EL field. */
  trigger: "conforms" | "edge" | "level";
}

/** An I/O interrupt assignment entry (type 3). */
export interface MpIoInterrupt extends MpInterruptFlags {
  /** Interrupt type. */
  type: MpInterruptType;
  /** Source bus ID. */
  busId: number;
  /** Source bus IRQ. */
  busIrq: number;
  /** Destination IOAPIC ID. */
  ioApicId: number;
  /** Destination IOAPIC INTIN#. */
  pin: number;
}

/** A local interrupt assignment entry (type 4). */
export interface MpLocalInterrupt extends MpInterruptFlags {
  /** Interrupt type. */
  type: MpInterruptType;
  /** Source bus ID. */
  busId: number;
  /** Source bus IRQ. */
  busIrq: number;
  /** Destination local APIC ID (0xFF = all). */
  apicId: number;
  /** LINTIN# (0 or 1). */
  lint: number;
}

/** Everything the MP floating pointer and configuration table say. */
export interface MpConfig {
  /** IMCRP: the board has an IMCR and boots in PIC mode (feature byte 2 bit 7). */
  imcr: boolean;
  /** Local APIC address in the table header. */
  lapicAddress: number;
  /** OEM ID (8 characters, space padded). */
  oemId: string;
  /** Product ID (12 characters, space padded). */
  productId: string;
  /** Processor entries. */
  processors: MpProcessor[];
  /** Bus entries (type 1). */
  buses: { id: number; type: string }[];
  /** I/O APIC entries (type 2). */
  ioApics: { id: number; version: number; enabled: boolean; address: number }[];
  /** I/O interrupt entries. */
  ioInterrupts: MpIoInterrupt[];
  /** Local interrupt entries. */
  localInterrupts: MpLocalInterrupt[];
}

/**
 * A malformed MP structure found in guest memory.
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "./memory.ts";
 * import { MpTableError, parseMpConfig } from "./firmware.ts";
 * try {
 *   parseMpConfig(new PhysicalMemory({ addressSpace: 2 ** 32 }), 0x9fc10);
 * } catch (e) {
 *   e instanceof MpTableError; // true: no "PCMP" signature there
 * }
 * ```
 */
export class MpTableError extends SyntaxError {
  /** Create the error. */
  constructor(message: string) {
    super(message);
    this.name = "MpTableError";
  }
}

function checksum(bytes: Uint8Array): number {
  let s = 0;
  for (const b of bytes) s = (s + b) & 0xff;
  return s;
}

function flagsWord(f: MpInterruptFlags): number {
  const po = f.polarity === "high" ? 1 : f.polarity === "low" ? 3 : 0;
  const el = f.trigger === "edge" ? 1 : f.trigger === "level" ? 3 : 0;
  return po | (el << 2);
}

function parseFlags(w: number): MpInterruptFlags {
  const po = w & 3, el = (w >> 2) & 3;
  return {
    polarity: po === 1 ? "high" : po === 3 ? "low" : "conforms",
    trigger: el === 1 ? "edge" : el === 3 ? "level" : "conforms",
  };
}

function ascii(s: string, len: number): number[] {
  const p = s.padEnd(len, " ").slice(0, len);
  return [...p].map((c) => c.charCodeAt(0) & 0x7f);
}

/**
 * Size in bytes of the configuration table for `cfg`: the 44-byte header, 20 bytes per processor
 * and 8 per other entry.
 *
 * @example
 * ```ts
 * import { mpConfigSize } from "./firmware.ts";
 * mpConfigSize({
 *   imcr: false, lapicAddress: 0xfee00000, oemId: "", productId: "", processors: [],
 *   buses: [{ id: 0, type: "ISA" }], ioApics: [], ioInterrupts: [], localInterrupts: [],
 * }); // 52
 * ```
 */
export function mpConfigSize(cfg: MpConfig): number {
  return 44 + 20 * cfg.processors.length +
    8 * (cfg.buses.length + cfg.ioApics.length + cfg.ioInterrupts.length +
        cfg.localInterrupts.length);
}

/**
 * Encode the 16-byte floating pointer and the configuration table (header plus entries in the
 * spec's order: processors, buses, I/O APICs, I/O interrupts, local interrupts), checksums set.
 *
 * @example
 * ```ts
 * import { encodeMpTables } from "./firmware.ts";
 * const { floating, config } = encodeMpTables({
 *   imcr: true, lapicAddress: 0xfee00000, oemId: "KEXECSCN", productId: "PC-IMCR",
 *   processors: [{ apicId: 0, apicVersion: 0x14, enabled: true, bsp: true, signature: 0xf27, features: 0 }],
 *   buses: [{ id: 0, type: "ISA" }], ioApics: [], ioInterrupts: [], localInterrupts: [],
 * }, { configAddr: 0x9fc10 });
 * floating[12]; // 0x80 (IMCRP)
 * config.length; // 72
 * ```
 */
export function encodeMpTables(
  cfg: MpConfig,
  options: { configAddr: number },
): { floating: Uint8Array; config: Uint8Array } {
  const floating = new Uint8Array(16);
  floating.set([0x5f, 0x4d, 0x50, 0x5f]); // "_MP_"
  new DataView(floating.buffer).setUint32(4, options.configAddr >>> 0, true);
  floating[8] = 1; // length in paragraphs
  floating[9] = 4; // spec rev 1.4
  floating[11] = 0; // feature byte 1: configuration table present
  floating[12] = cfg.imcr ? 0x80 : 0;
  floating[10] = (256 - checksum(floating)) & 0xff;

  const config = new Uint8Array(mpConfigSize(cfg));
  const dv = new DataView(config.buffer);
  config.set([0x50, 0x43, 0x4d, 0x50]); // "PCMP"
  dv.setUint16(4, config.length, true);
  config[6] = 4;
  config.set(ascii(cfg.oemId, 8), 8);
  config.set(ascii(cfg.productId, 12), 16);
  // 0x1C OEM table pointer, 0x20 OEM table size: none.
  const count = config.length > 44
    ? cfg.processors.length + cfg.buses.length + cfg.ioApics.length + cfg.ioInterrupts.length +
      cfg.localInterrupts.length
    : 0;
  dv.setUint16(0x22, count, true);
  dv.setUint32(0x24, cfg.lapicAddress >>> 0, true);
  // 0x28 extended table length, 0x2A extended checksum: no extended entries.
  let o = 44;
  for (const p of cfg.processors) {
    config[o] = 0;
    config[o + 1] = p.apicId;
    config[o + 2] = p.apicVersion;
    config[o + 3] = (p.enabled ? 1 : 0) | (p.bsp ? 2 : 0);
    dv.setUint32(o + 4, p.signature >>> 0, true);
    dv.setUint32(o + 8, p.features >>> 0, true);
    o += 20;
  }
  for (const b of cfg.buses) {
    config[o] = 1;
    config[o + 1] = b.id;
    config.set(ascii(b.type, 6), o + 2);
    o += 8;
  }
  for (const a of cfg.ioApics) {
    config[o] = 2;
    config[o + 1] = a.id;
    config[o + 2] = a.version;
    config[o + 3] = a.enabled ? 1 : 0;
    dv.setUint32(o + 4, a.address >>> 0, true);
    o += 8;
  }
  for (const e of cfg.ioInterrupts) {
    config[o] = 3;
    config[o + 1] = INT_TYPES.indexOf(e.type);
    dv.setUint16(o + 2, flagsWord(e), true);
    config[o + 4] = e.busId;
    config[o + 5] = e.busIrq;
    config[o + 6] = e.ioApicId;
    config[o + 7] = e.pin;
    o += 8;
  }
  for (const e of cfg.localInterrupts) {
    config[o] = 4;
    config[o + 1] = INT_TYPES.indexOf(e.type);
    dv.setUint16(o + 2, flagsWord(e), true);
    config[o + 4] = e.busId;
    config[o + 5] = e.busIrq;
    config[o + 6] = e.apicId;
    config[o + 7] = e.lint;
    o += 8;
  }
  config[7] = (256 - checksum(config)) & 0xff;
  return { floating, config };
}

/** Where the MP structures were found, and what they say. */
export interface MpTables extends MpConfig {
  /** Address of the floating pointer. */
  floatingAddr: number;
  /** Address of the configuration table (0 if the pointer says none). */
  configAddr: number;
}

/** An MP floating pointer structure (MP spec 1.4 §4.1) decoded from guest memory. */
export interface MpFloatingPointer {
  /** Address of the 16-byte structure. */
  addr: number;
  /** PHYSICAL ADDRESS POINTER: the configuration table, 0 when there is none. */
  configAddr: number;
  /** SPEC_REV: 1 for spec 1.1, 4 for spec 1.4 (the decoder does not judge it). */
  specRev: number;
  /** MP FEATURE INFORMATION BYTE 1: a default configuration number, 0 when a table is present. */
  defaultConfig: number;
  /** IMCRP: the board has an IMCR and boots in PIC mode (feature byte 2 bit 7). */
  imcr: boolean;
}

/** Why 16 bytes of guest memory are not a valid MP floating pointer. */
export interface MpFloatingPointerInvalid {
  /** Address that was decoded. */
  addr: number;
  /** What is wrong, in sentence case: `no "_MP_" signature`, `length 2 (expected 1 paragraph)`, `bad checksum`. */
  invalid: string;
}

/**
 * Decode the MP floating pointer structure at `addr`: the `"_MP_"` signature, a length of one
 * 16-byte paragraph and a zero byte sum make it valid; the pointer, spec revision and feature
 * bytes are returned as they are, so a scan can add its own checks (Linux also wants spec
 * revision 1 or 4). Reads the bytes through the memory accessors, as a kernel would.
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "./memory.ts";
 * import { decodeMpFloatingPointer, writeMpTables } from "./firmware.ts";
 * const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
 * decodeMpFloatingPointer(mem, 0x9fc00); // { addr: 0x9fc00, invalid: 'no "_MP_" signature' }
 * writeMpTables(mem, {
 *   imcr: true, lapicAddress: 0xfee00000, oemId: "OEM", productId: "BOARD", processors: [],
 *   buses: [{ id: 0, type: "ISA" }], ioApics: [], ioInterrupts: [], localInterrupts: [],
 * });
 * decodeMpFloatingPointer(mem, 0x9fc00);
 * // { addr: 0x9fc00, configAddr: 0x9fc10, specRev: 4, defaultConfig: 0, imcr: true }
 * ```
 */
export function decodeMpFloatingPointer(
  memory: PhysicalMemory,
  addr: number,
): MpFloatingPointer | MpFloatingPointerInvalid {
  if (memory.read32(addr) !== 0x5f504d5f) return { addr, invalid: 'no "_MP_" signature' };
  const fp = memory.readBytes(addr, 16);
  if (fp[8] !== 1) return { addr, invalid: `length ${fp[8]} (expected 1 paragraph)` };
  if (checksum(fp) !== 0) return { addr, invalid: "bad checksum" };
  return {
    addr,
    configAddr: (fp[4] | (fp[5] << 8) | (fp[6] << 16) | (fp[7] << 24)) >>> 0,
    specRev: fp[9],
    defaultConfig: fp[11],
    imcr: (fp[12] & 0x80) !== 0,
  };
}

/**
 * The MP tables a valid floating pointer leads to: its IMCR flag plus the configuration table at
 * its pointer, or no entries (and the architectural local APIC address) when the pointer is 0.
 * Throws {@linkcode MpTableError} for a configuration table with a bad signature or checksum.
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "./memory.ts";
 * import { readMpTables } from "./firmware.ts";
 * const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
 * readMpTables(mem, { addr: 0xf0000, configAddr: 0, specRev: 4, defaultConfig: 0, imcr: true })
 *   .processors; // []
 * ```
 */
export function readMpTables(memory: PhysicalMemory, pointer: MpFloatingPointer): MpTables {
  const base: MpTables = {
    floatingAddr: pointer.addr,
    configAddr: pointer.configAddr,
    imcr: pointer.imcr,
    lapicAddress: 0xfee00000,
    oemId: "",
    productId: "",
    processors: [],
    buses: [],
    ioApics: [],
    ioInterrupts: [],
    localInterrupts: [],
  };
  if (pointer.configAddr === 0) return base;
  return { ...base, ...parseMpConfig(memory, pointer.configAddr) };
}

/**
 * Search guest memory for the MP floating pointer as the MP spec and Linux together look for it
 * (`0`-`0x3FF`, 639 KiB, `0xF0000`-`0xFFFFF`, the first KiB of the EBDA, then the last KiB of base
 * memory as the BDA gives it; 16-byte boundaries; the first candidate that
 * {@linkcode decodeMpFloatingPointer} finds valid counts) and decode the configuration table.
 * Returns `undefined` when there is no floating pointer; throws {@linkcode MpTableError} for a
 * configuration table with a bad signature or checksum.
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "./memory.ts";
 * import { findMpTables } from "./firmware.ts";
 * findMpTables(new PhysicalMemory({ addressSpace: 2 ** 32 })); // undefined
 * ```
 */
export function findMpTables(memory: PhysicalMemory): MpTables | undefined {
  const ebda = memory.read16(0x40e) << 4;
  const baseKiB = memory.read16(0x413) || 640;
  // Linux order (0-1K, 639K, the F segment, the EBDA) plus the spec's "last KiB of base memory".
  const areas: [number, number][] = [[0, 0x400], [639 * 1024, 0x400], [0xf0000, 0x10000]];
  if (ebda !== 0) areas.push([ebda, 0x400]);
  areas.push([baseKiB * 1024 - 0x400, 0x400]);
  for (const [start, len] of areas) {
    for (let a = start & ~15; a < start + len; a += 16) {
      const fp = decodeMpFloatingPointer(memory, a);
      if ("invalid" in fp) continue;
      return readMpTables(memory, fp);
    }
  }
  return undefined;
}

function text(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes).replace(/[ \0]+$/, "");
}

/**
 * Decode a configuration table at `addr`; see {@linkcode findMpTables}.
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "./memory.ts";
 * import { encodeMpTables, parseMpConfig } from "./firmware.ts";
 * const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
 * const { config } = encodeMpTables({
 *   imcr: false, lapicAddress: 0xfee00000, oemId: "OEM", productId: "BOARD", processors: [],
 *   buses: [{ id: 0, type: "ISA" }], ioApics: [], ioInterrupts: [], localInterrupts: [],
 * }, { configAddr: 0x9fc10 });
 * mem.writeBytes(0x9fc10, config);
 * parseMpConfig(mem, 0x9fc10).buses; // [{ id: 0, type: "ISA" }]
 * ```
 */
export function parseMpConfig(memory: PhysicalMemory, addr: number): Omit<MpConfig, "imcr"> {
  if (memory.read32(addr) !== 0x504d4350) {
    throw new MpTableError(`MP configuration table at 0x${addr.toString(16)}: bad signature`);
  }
  const length = memory.read16(addr + 4);
  const t = memory.readBytes(addr, length);
  if (length < 44 || checksum(t) !== 0) {
    throw new MpTableError(`MP configuration table at 0x${addr.toString(16)}: bad checksum`);
  }
  const dv = new DataView(t.buffer);
  const out: Omit<MpConfig, "imcr"> = {
    lapicAddress: dv.getUint32(0x24, true),
    oemId: text(t.subarray(8, 16)),
    productId: text(t.subarray(16, 28)),
    processors: [],
    buses: [],
    ioApics: [],
    ioInterrupts: [],
    localInterrupts: [],
  };
  const count = dv.getUint16(0x22, true);
  let o = 44;
  for (let i = 0; i < count && o < length; i++) {
    const type = t[o];
    if (type === 0) {
      out.processors.push({
        apicId: t[o + 1],
        apicVersion: t[o + 2],
        enabled: (t[o + 3] & 1) !== 0,
        bsp: (t[o + 3] & 2) !== 0,
        signature: dv.getUint32(o + 4, true),
        features: dv.getUint32(o + 8, true),
      });
      o += 20;
      continue;
    }
    if (type === 1) out.buses.push({ id: t[o + 1], type: text(t.subarray(o + 2, o + 8)) });
    else if (type === 2) {
      out.ioApics.push({
        id: t[o + 1],
        version: t[o + 2],
        enabled: (t[o + 3] & 1) !== 0,
        address: dv.getUint32(o + 4, true),
      });
    } else if (type === 3 || type === 4) {
      const common = {
        type: INT_TYPES[t[o + 1]] ?? "INT",
        ...parseFlags(dv.getUint16(o + 2, true)),
        busId: t[o + 4],
        busIrq: t[o + 5],
      };
      if (type === 3) out.ioInterrupts.push({ ...common, ioApicId: t[o + 6], pin: t[o + 7] });
      else out.localInterrupts.push({ ...common, apicId: t[o + 6], lint: t[o + 7] });
    } else {
      throw new MpTableError(
        `MP configuration table at 0x${addr.toString(16)}: unknown entry type ${type} at +${o}`,
      );
    }
    o += 8;
  }
  return out;
}

/**
 * Write the BIOS ROM (reset vector, POST stub, dummy IRET handler) at {@linkcode BIOS_ROM_BASE}
 * and its mirror below 4 GiB, the interrupt vector table (every vector to `F000:FF53`) and the
 * BIOS data area. The mirror is written only when `highMirror` is true (the board maps it).
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "./memory.ts";
 * import { writeBiosRom } from "./firmware.ts";
 * const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
 * writeBiosRom(mem, { highMirror: true });
 * mem.read8(0xfffffff0); // 0xea (jmp far)
 * ```
 */
export function writeBiosRom(memory: PhysicalMemory, options: { highMirror: boolean }): void {
  const rom = new Uint8Array(BIOS_ROM_SIZE);
  rom.set(POST_STUB, BIOS_POST_ADDR - BIOS_ROM_BASE);
  rom[BIOS_IRET_ADDR - BIOS_ROM_BASE] = IRET;
  rom.set(RESET_JUMP, 0xffff0 - BIOS_ROM_BASE);
  rom.set(ascii("06/23/04", 8), 0xffff5 - BIOS_ROM_BASE); // BIOS date string
  rom[0xffffe - BIOS_ROM_BASE] = 0xfc; // model byte: AT
  memory.writeBytes(BIOS_ROM_BASE, rom);
  if (options.highMirror) memory.writeBytes(BIOS_ROM_HIGH, rom);
  const ivt = new Uint8Array(0x400);
  const dv = new DataView(ivt.buffer);
  for (let v = 0; v < 256; v++) {
    dv.setUint16(v * 4, BIOS_IRET_ADDR & 0xffff, true);
    dv.setUint16(v * 4 + 2, 0xf000, true);
  }
  memory.writeBytes(0, ivt);
  memory.write16(0x40e, EBDA_BASE >> 4);
  memory.write16(0x413, EBDA_BASE >> 10);
}

/**
 * Write the guest copy of the e820 table at {@linkcode E820_COPY_ADDR}. Throws `RangeError`
 * when the map has more than {@linkcode E820_COPY_MAX} entries.
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "./memory.ts";
 * import { MemoryMap } from "./memory_map.ts";
 * import { E820_COPY_ADDR, writeE820Copy } from "./firmware.ts";
 * const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
 * writeE820Copy(mem, new MemoryMap([{ base: 0, size: 0x9f800, type: "ram" }]));
 * mem.read32(E820_COPY_ADDR + 4); // 1
 * ```
 */
export function writeE820Copy(memory: PhysicalMemory, map: MemoryMap): void {
  if (map.entries.length > E820_COPY_MAX) {
    throw new RangeError(
      `Too many e820 entries for the BIOS copy: ${map.entries.length} (at most ${E820_COPY_MAX})`,
    );
  }
  memory.write32(E820_COPY_ADDR, E820_COPY_MAGIC);
  memory.write32(E820_COPY_ADDR + 4, map.entries.length);
  memory.writeBytes(E820_COPY_ADDR + 8, encodeE820Table(map.entries));
}

/**
 * Read the guest copy of the e820 table back (as the kernel model does): the packed entries, or
 * `undefined` when the signature is absent.
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "./memory.ts";
 * import { readE820Copy } from "./firmware.ts";
 * readE820Copy(new PhysicalMemory({ addressSpace: 2 ** 32 })); // undefined
 * ```
 */
export function readE820Copy(memory: PhysicalMemory): Uint8Array | undefined {
  if (memory.read32(E820_COPY_ADDR) !== E820_COPY_MAGIC) return undefined;
  const n = Math.min(memory.read32(E820_COPY_ADDR + 4), E820_COPY_MAX);
  return memory.readBytes(E820_COPY_ADDR + 8, n * E820_ENTRY_SIZE);
}

/**
 * Write the MP floating pointer at {@linkcode MP_FLOATING_ADDR} and the configuration table
 * after it (or at {@linkcode MP_CONFIG_ROM_ADDR} when it is larger than the rest of base
 * memory). Returns the configuration table address.
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "./memory.ts";
 * import { findMpTables, writeMpTables } from "./firmware.ts";
 * const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
 * writeMpTables(mem, {
 *   imcr: true, lapicAddress: 0xfee00000, oemId: "OEM", productId: "BOARD", processors: [],
 *   buses: [{ id: 0, type: "ISA" }], ioApics: [], ioInterrupts: [], localInterrupts: [],
 * }); // 0x9fc10
 * findMpTables(mem)?.imcr; // true
 * ```
 */
export function writeMpTables(memory: PhysicalMemory, cfg: MpConfig): number {
  const size = mpConfigSize(cfg);
  const configAddr = MP_CONFIG_ADDR + size <= 0xa0000 ? MP_CONFIG_ADDR : MP_CONFIG_ROM_ADDR;
  const { floating, config } = encodeMpTables(cfg, { configAddr });
  memory.writeBytes(MP_FLOATING_ADDR, floating);
  memory.writeBytes(configAddr, config);
  return configAddr;
}

/** Which devices the POST programs. */
export interface PostDevices {
  /** The I/O port bus (8259, PIT, IMCR). */
  io: IoBus;
  /** The physical bus (local APIC, IOAPIC MMIO). */
  bus: MmioBus;
  /** The board has an IMCR. */
  imcr: boolean;
  /** Base of the BSP's local APIC, when it has one. */
  lapicBase?: number;
  /** The IOAPIC, when present. */
  ioapic?: { base: number; id: number; pins: number };
  /** Trace hook: called before the POST writes (e.g. to tag trace events). */
  note?: (what: string) => void;
}

/**
 * Program the devices as a BIOS leaves them, through ports and MMIO (see the module doc).
 *
 * @example
 * ```ts
 * import { IoBus } from "./io_bus.ts";
 * import { PhysicalMemory } from "./memory.ts";
 * import { MmioBus } from "./mmio_bus.ts";
 * import { programPostDevices } from "./firmware.ts";
 * const io = new IoBus();
 * const bus = new MmioBus({ memory: new PhysicalMemory({ addressSpace: 2 ** 32 }) });
 * programPostDevices({ io, bus, imcr: false }); // no devices attached: unclaimed writes
 * ```
 */
export function programPostDevices(d: PostDevices): void {
  const { io, bus } = d;
  d.note?.("POST: 8259 pair ICW1-4 (vectors 0x08/0x70), masks 0xfb/0xff");
  io.write(0x20, 1, 0x11);
  io.write(0x21, 1, 0x08);
  io.write(0x21, 1, 0x04);
  io.write(0x21, 1, 0x01);
  io.write(0xa0, 1, 0x11);
  io.write(0xa1, 1, 0x70);
  io.write(0xa1, 1, 0x02);
  io.write(0xa1, 1, 0x01);
  io.write(0x21, 1, 0xfb);
  io.write(0xa1, 1, 0xff);
  d.note?.("POST: PIT channel 0 mode 3, count 0");
  io.write(0x43, 1, 0x36);
  io.write(0x40, 1, 0x00);
  io.write(0x40, 1, 0x00);
  if (d.imcr) {
    d.note?.("POST: IMCR PIC mode");
    io.write(0x22, 1, 0x70);
    io.write(0x23, 1, 0x00);
  }
  if (d.lapicBase !== undefined && d.imcr) {
    // MP spec §5: PIC-mode boards wire INTR/NMI to LINTIN0/1 of every local APIC as well as to
    // the IMCR mux, and "the BIOS ... must leave the LINTIN0 [and LINTIN1] of all local APICs
    // disabled"; the OS programs them when it switches the IMCR to APIC mode.
    d.note?.("POST: BSP local APIC SVR=0x10f, LINT0/LINT1 left masked (PIC mode)");
    bus.write(d.lapicBase + 0xf0, 4, 0x10f, 0);
  } else if (d.lapicBase !== undefined) {
    d.note?.("POST: BSP local APIC SVR=0x10f, LINT0 edge ExtINT, LINT1 level NMI");
    bus.write(d.lapicBase + 0xf0, 4, 0x10f, 0);
    // MP spec App. A.3: "LINT0 ... edge-triggered ExtINT ... and LINT1 for level-triggered NMI"
    // (the SDM asks software for edge on LINT1; NMI is taken on the edge either way).
    bus.write(d.lapicBase + 0x350, 4, 0x700, 0);
    bus.write(d.lapicBase + 0x360, 4, 0x8400, 0);
  }
  if (d.ioapic !== undefined) {
    const { base, id, pins } = d.ioapic;
    d.note?.(`POST: IOAPIC id ${id}, ${pins} entries masked`);
    bus.write(base, 4, 0x00, 0);
    bus.write(base + 0x10, 4, (id & 0xf) << 24, 0);
    for (let pin = 0; pin < pins; pin++) {
      bus.write(base, 4, 0x10 + 2 * pin, 0);
      bus.write(base + 0x10, 4, 0x00010000, 0);
      bus.write(base, 4, 0x11 + 2 * pin, 0);
      bus.write(base + 0x10, 4, 0, 0);
    }
  }
}
