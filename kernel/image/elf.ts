/**
 * ELF32/ELF64 executables (either byte order): a parser with kexec-tools' checks (e_ident,
 * e_ehsize, e_phentsize, versions, program headers and their file ranges inside the file,
 * p_paddr + p_memsz not wrapping, section header table inside the file, ET_EXEC/ET_DYN/ET_CORE,
 * no PT_INTERP) plus optional stricter checks (machine, PT_LOAD overlap, filesz <= memsz), and a
 * builder.
 *
 * @module
 */

import { ImageFormatError } from "./errors.ts";

/** e_machine values this project knows. */
export const EM_386 = 3;
/** e_machine EM_486 (accepted by kexec-tools' elf-x86). */
export const EM_486 = 6;
/** e_machine EM_PPC. */
export const EM_PPC = 20;
/** e_machine EM_PPC64. */
export const EM_PPC64 = 21;
/** e_machine EM_X86_64. */
export const EM_X86_64 = 62;
/** e_type ET_REL. */
export const ET_REL = 1;
/** e_type ET_EXEC. */
export const ET_EXEC = 2;
/** e_type ET_DYN. */
export const ET_DYN = 3;
/** e_type ET_CORE. */
export const ET_CORE = 4;
/** p_type PT_LOAD. */
export const PT_LOAD = 1;
/** p_type PT_INTERP. */
export const PT_INTERP = 3;
/** p_type PT_NOTE. */
export const PT_NOTE = 4;

/** One program header; every numeric field is a bigint so ELF64 values are exact. */
export interface ProgramHeader {
  /** Index in the program header table. */
  index: number;
  /** p_type. */
  type: number;
  /** p_flags. */
  flags: number;
  /** p_offset. */
  offset: bigint;
  /** p_vaddr. */
  vaddr: bigint;
  /** p_paddr. */
  paddr: bigint;
  /** p_filesz. */
  filesz: bigint;
  /** p_memsz. */
  memsz: bigint;
  /** p_align. */
  align: bigint;
}

/** A parsed ELF file. */
export interface ElfImage {
  /** 32 or 64. */
  elfClass: 32 | 64;
  /** Byte order. */
  endian: "little" | "big";
  /** e_type. */
  type: number;
  /** e_machine. */
  machine: number;
  /** e_entry. */
  entry: bigint;
  /** e_phoff. */
  phoff: bigint;
  /** e_shoff. */
  shoff: bigint;
  /** e_flags. */
  flags: number;
  /** Program headers in table order. */
  programHeaders: ProgramHeader[];
  /** e_shnum. */
  sectionCount: number;
}

/** Options of {@linkcode parseElf}. */
export interface ParseElfOptions {
  /** Accepted e_machine values; default EM_386, EM_486, EM_X86_64, EM_PPC, EM_PPC64. */
  machines?: readonly number[];
  /** Also reject overlapping PT_LOAD ranges (by p_paddr) and p_filesz > p_memsz; default false (kexec-tools accepts both at parse time). */
  strict?: boolean;
}

const FORMAT = "ELF";
const hex = (n: number | bigint) => `0x${n.toString(16)}`;

function fail(message: string, offset: number | bigint): never {
  throw new ImageFormatError(message, { offset: Number(offset), format: FORMAT });
}

/**
 * Parse and validate an ELF executable. Throws {@linkcode ImageFormatError} naming the byte offset.
 *
 * @example
 * ```ts
 * import { buildElf, EM_386, parseElf } from "./elf.ts";
 * const elf = parseElf(buildElf({ elfClass: 32, machine: EM_386, entry: 0x100000n, segments: [{ paddr: 0x100000n, data: new Uint8Array(16) }] }));
 * elf.programHeaders[0].paddr; // 0x100000n
 * ```
 */
export function parseElf(bytes: Uint8Array, options: ParseElfOptions = {}): ElfImage {
  const len = BigInt(bytes.length);
  if (bytes.length < 16) fail(`File too short for e_ident: ${bytes.length} bytes`, bytes.length);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    fail("Bad ELF magic: expected 7f 45 4c 46", 0);
  }
  const cls = bytes[4];
  if (cls !== 1 && cls !== 2) fail(`Bad ELF class: ${cls}`, 4);
  const data = bytes[5];
  if (data !== 1 && data !== 2) fail(`Bad ELF data encoding: ${data}`, 5);
  if (bytes[6] !== 1) fail(`Bad ELF ident version: ${bytes[6]}`, 6);
  const is64 = cls === 2;
  const le = data === 1;
  const ehsize = is64 ? 64 : 52;
  if (bytes.length < ehsize) {
    fail(`File too short for the ELF header: ${bytes.length} bytes`, bytes.length);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => v.getUint16(o, le);
  const u32 = (o: number) => v.getUint32(o, le);
  const word = (o: number) => is64 ? v.getBigUint64(o, le) : BigInt(v.getUint32(o, le));
  const type = u16(0x10);
  const machine = u16(0x12);
  if (u32(0x14) !== 1) fail(`Bad e_version: ${u32(0x14)}`, 0x14);
  const entry = word(0x18);
  const phoff = word(is64 ? 0x20 : 0x1c);
  const shoff = word(is64 ? 0x28 : 0x20);
  const flags = u32(is64 ? 0x30 : 0x24);
  const eh = is64 ? 0x34 : 0x28;
  if (u16(eh) !== ehsize) fail(`Bad e_ehsize: ${u16(eh)}, expected ${ehsize}`, eh);
  const phentsize = u16(eh + 2);
  const phnum = u16(eh + 4);
  const shentsize = u16(eh + 6);
  const shnum = u16(eh + 8);
  const phsize = is64 ? 56 : 32;
  const shsize = is64 ? 64 : 40;
  if (phnum > 0 && phentsize !== phsize) {
    fail(`Bad e_phentsize: ${phentsize}, expected ${phsize}`, eh + 2);
  }
  if (shnum > 0 && shentsize !== shsize) {
    fail(`Bad e_shentsize: ${shentsize}, expected ${shsize}`, eh + 6);
  }
  const machines = options.machines ?? [EM_386, EM_486, EM_X86_64, EM_PPC, EM_PPC64];
  if (!machines.includes(machine)) fail(`Unsupported e_machine: ${machine}`, 0x12);
  if (type !== ET_EXEC && type !== ET_DYN && type !== ET_CORE) {
    fail(`Not an executable: e_type ${type}`, 0x10);
  }
  const programHeaders: ProgramHeader[] = [];
  if (phoff === 0n || phnum === 0) fail("No ELF program header", is64 ? 0x20 : 0x1c);
  if (phoff + BigInt(phnum * phsize) > len) {
    fail(
      `Program header table outside the file: ${hex(phoff)} + ${phnum} * ${phsize} > ${hex(len)}`,
      is64 ? 0x20 : 0x1c,
    );
  }
  const addrMask = is64 ? (1n << 64n) - 1n : 0xffffffffn;
  for (let i = 0; i < phnum; i++) {
    const o = Number(phoff) + i * phsize;
    const ph: ProgramHeader = is64
      ? {
        index: i,
        type: u32(o),
        flags: u32(o + 4),
        offset: word(o + 8),
        vaddr: word(o + 0x10),
        paddr: word(o + 0x18),
        filesz: word(o + 0x20),
        memsz: word(o + 0x28),
        align: word(o + 0x30),
      }
      : {
        index: i,
        type: u32(o),
        offset: word(o + 4),
        vaddr: word(o + 8),
        paddr: word(o + 0xc),
        filesz: word(o + 0x10),
        memsz: word(o + 0x14),
        flags: u32(o + 0x18),
        align: word(o + 0x1c),
      };
    if (ph.offset + ph.filesz > len) {
      fail(
        `Program header ${i} data outside the file: offset ${hex(ph.offset)} + filesz ${
          hex(ph.filesz)
        } > ${hex(len)}`,
        o + (is64 ? 8 : 4),
      );
    }
    if (ph.paddr !== addrMask && ph.paddr + ph.memsz > addrMask) {
      fail(
        `Program header ${i} wraps around: paddr ${hex(ph.paddr)} + memsz ${hex(ph.memsz)}`,
        o + (is64 ? 0x18 : 0xc),
      );
    }
    if (ph.type === PT_INTERP) fail("Requires an ELF interpreter", o);
    if (options.strict && ph.type === PT_LOAD && ph.filesz > ph.memsz) {
      fail(
        `Program header ${i} has p_filesz ${hex(ph.filesz)} > p_memsz ${hex(ph.memsz)}`,
        o + (is64 ? 0x20 : 0x10),
      );
    }
    programHeaders.push(ph);
  }
  if (shnum > 0 && shoff + BigInt(shnum * shsize) > len) {
    fail(
      `Section header table outside the file: ${hex(shoff)} + ${shnum} * ${shsize} > ${hex(len)}`,
      is64 ? 0x28 : 0x20,
    );
  }
  if (options.strict) {
    const loads = programHeaders.filter((p) => p.type === PT_LOAD && p.memsz > 0n)
      .sort((a, b) => (a.paddr < b.paddr ? -1 : a.paddr > b.paddr ? 1 : 0));
    for (let i = 1; i < loads.length; i++) {
      const prev = loads[i - 1];
      if (prev.paddr + prev.memsz > loads[i].paddr) {
        fail(
          `PT_LOAD ${loads[i].index} at ${hex(loads[i].paddr)} overlaps PT_LOAD ${prev.index} (${
            hex(prev.paddr)
          }-${hex(prev.paddr + prev.memsz)})`,
          Number(phoff) + loads[i].index * phsize,
        );
      }
    }
  }
  return {
    elfClass: is64 ? 64 : 32,
    endian: le ? "little" : "big",
    type,
    machine,
    entry,
    phoff,
    shoff,
    flags,
    programHeaders,
    sectionCount: shnum,
  };
}

/** A segment of {@linkcode buildElf}. */
export interface ElfSegmentSpec {
  /** Physical load address. */
  paddr: bigint;
  /** Virtual address; default `paddr`. */
  vaddr?: bigint;
  /** File contents (p_filesz = its length). */
  data: Uint8Array;
  /** p_memsz; default the data length. */
  memsz?: bigint;
  /** p_type; default PT_LOAD. */
  type?: number;
  /** p_flags; default 7 (RWX). */
  flags?: number;
  /** p_align; default 0x1000. */
  align?: bigint;
}

/** Options of {@linkcode buildElf}. */
export interface BuildElfOptions {
  /** 32 or 64. */
  elfClass: 32 | 64;
  /** Default little. */
  endian?: "little" | "big";
  /** e_machine. */
  machine: number;
  /** e_type; default ET_EXEC. */
  type?: number;
  /** e_entry. */
  entry: bigint;
  /** Program headers with their data, in table order. */
  segments: ElfSegmentSpec[];
}

/**
 * Build an ELF executable: the header, the program header table, then each segment's data at a
 * 16-byte aligned file offset. No section headers.
 *
 * @example
 * ```ts
 * import { buildElf, EM_X86_64 } from "./elf.ts";
 * const bytes = buildElf({ elfClass: 64, machine: EM_X86_64, entry: 0x200000n, segments: [{ paddr: 0x200000n, data: new Uint8Array([0xf4]) }] });
 * bytes[4]; // 2 (ELFCLASS64)
 * ```
 */
export function buildElf(options: BuildElfOptions): Uint8Array {
  const is64 = options.elfClass === 64;
  const le = (options.endian ?? "little") === "little";
  const ehsize = is64 ? 64 : 52;
  const phsize = is64 ? 56 : 32;
  const n = options.segments.length;
  let off = ehsize + n * phsize;
  const offsets: number[] = [];
  for (const s of options.segments) {
    off = (off + 15) & ~15;
    offsets.push(off);
    off += s.data.length;
  }
  const out = new Uint8Array(off);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1], 0);
  const w16 = (o: number, x: number) => v.setUint16(o, x, le);
  const w32 = (o: number, x: number) => v.setUint32(o, x, le);
  const word = (o: number, x: bigint) =>
    is64 ? v.setBigUint64(o, x, le) : v.setUint32(o, Number(x), le);
  w16(0x10, options.type ?? ET_EXEC);
  w16(0x12, options.machine);
  w32(0x14, 1);
  word(0x18, options.entry);
  word(is64 ? 0x20 : 0x1c, BigInt(ehsize));
  const eh = is64 ? 0x34 : 0x28;
  w16(eh, ehsize);
  w16(eh + 2, phsize);
  w16(eh + 4, n);
  w16(eh + 6, is64 ? 64 : 40);
  options.segments.forEach((s, i) => {
    const o = ehsize + i * phsize;
    const fields = {
      type: s.type ?? PT_LOAD,
      flags: s.flags ?? 7,
      offset: BigInt(offsets[i]),
      vaddr: s.vaddr ?? s.paddr,
      paddr: s.paddr,
      filesz: BigInt(s.data.length),
      memsz: s.memsz ?? BigInt(s.data.length),
      align: s.align ?? 0x1000n,
    };
    w32(o, fields.type);
    if (is64) {
      w32(o + 4, fields.flags);
      word(o + 8, fields.offset);
      word(o + 0x10, fields.vaddr);
      word(o + 0x18, fields.paddr);
      word(o + 0x20, fields.filesz);
      word(o + 0x28, fields.memsz);
      word(o + 0x30, fields.align);
    } else {
      word(o + 4, fields.offset);
      word(o + 8, fields.vaddr);
      word(o + 0xc, fields.paddr);
      word(o + 0x10, fields.filesz);
      word(o + 0x14, fields.memsz);
      w32(o + 0x18, fields.flags);
      word(o + 0x1c, fields.align);
    }
    out.set(s.data, offsets[i]);
  });
  return out;
}
