/**
 * The conformance cases run against Debian's kexec-tools 2.0.25 by
 * tools/gen_kexec_tools_vectors.ts (results in kexec_tools_2.0.25.json) and against the model by
 * kexec_tools_conformance_test.ts.
 *
 * @module
 */

import { buildBzImage, type BuildBzImageOptions } from "../bzimage.ts";
import { buildElf, EM_386, EM_X86_64 } from "../elf.ts";
import type { MemoryMapEntry } from "../kexec_tools_memory.ts";

/** One case. */
export interface VectorCase {
  /** Unique name. */
  name: string;
  /** Fake /sys/firmware/memmap. */
  memoryMap: MemoryMapEntry[];
  /** Image recipe (bytes are deterministic functions of the offset). */
  image:
    | { kind: "bzImage"; options: Omit<BuildBzImageOptions, "payload">; payloadSize: number }
    | {
      kind: "elf";
      elfClass: 32 | 64;
      entry: number;
      segments: { paddr: number; filesz: number; memsz: number }[];
    };
  /** kexec arguments besides -l --debug, --initrd and the image. */
  args: string[];
  /** Initrd size, if any. */
  initrdSize?: number;
  /** Fake /proc/cmdline. */
  procCmdline?: string;
}

const EMP: MemoryMapEntry[] = [
  { base: 0n, size: 0x9fc00n, type: "ram" },
  { base: 0x9fc00n, size: 0x400n, type: "reserved" },
  { base: 0xf0000n, size: 0x10000n, type: "reserved" },
  { base: 0x100000n, size: 0xbff00000n, type: "ram" },
  { base: 0xfec00000n, size: 0x1000n, type: "reserved" },
  { base: 0x100000000n, size: 0x540000000n, type: "ram" },
];
const SMALL: MemoryMapEntry[] = [
  { base: 0n, size: 0x9fc00n, type: "ram" },
  { base: 0x9fc00n, size: 0x400n, type: "reserved" },
  { base: 0xe8000n, size: 0x18000n, type: "reserved" },
  { base: 0x100000n, size: 0x7f00000n, type: "ram" },
];
const HOLEY: MemoryMapEntry[] = [
  { base: 0n, size: 0x9f000n, type: "ram" },
  { base: 0x9f000n, size: 0x1000n, type: "reserved" },
  { base: 0x100000n, size: 0xf00000n, type: "ram" },
  { base: 0x1000000n, size: 0x100000n, type: "reserved" },
  { base: 0x1100000n, size: 0x1ef00000n, type: "ram" },
  { base: 0x20000000n, size: 0x10000n, type: "acpi" },
  { base: 0x20010000n, size: 0x10000n, type: "nvs" },
  { base: 0x20020000n, size: 0x1ffe0000n, type: "ram" },
];

const bz = (options: Omit<BuildBzImageOptions, "payload">, payloadSize: number) => ({
  kind: "bzImage" as const,
  options,
  payloadSize,
});

/** All cases. */
export const CASES: VectorCase[] = [
  {
    name: "bzImage64-2.15-initrd-append",
    memoryMap: EMP,
    image: bz(
      { version: 0x020f, xloadflags: 3, initSize: 0x1000000, kernelAlignment: 0x200000 },
      0x10000,
    ),
    args: ["--append=console=ttyS0 root=/dev/vda"],
    initrdSize: 10240,
  },
  {
    name: "bzImage64-2.12-no-cmdline",
    memoryMap: SMALL,
    image: bz(
      { version: 0x020c, xloadflags: 3, initSize: 0x300000, kernelAlignment: 0x1000000 },
      0x12345,
    ),
    args: [],
  },
  {
    name: "bzImage64-2.12-entry-32bit",
    memoryMap: SMALL,
    image: bz(
      { version: 0x020c, xloadflags: 3, initSize: 0x300000, kernelAlignment: 0x200000 },
      0x8000,
    ),
    args: ["--entry-32bit", "--command-line=quiet"],
    initrdSize: 0x5001,
  },
  {
    name: "bzImage-2.02-initrd-append",
    memoryMap: EMP,
    image: bz({ version: 0x0202 }, 0x5000),
    args: ["--append=console=ttyS0 root=/dev/vda"],
    initrdSize: 10240,
  },
  {
    name: "bzImage-2.00-command-line",
    memoryMap: SMALL,
    image: bz({ version: 0x0200 }, 0x3000),
    args: ["--command-line=root=/dev/hda1 ro"],
  },
  {
    name: "bzImage-2.03-initrd-addr-max",
    memoryMap: SMALL,
    image: bz({ version: 0x0203, initrdAddrMax: 0x3ffffff }, 0x4000),
    args: ["--append=x"],
    initrdSize: 0x20000,
  },
  {
    name: "bzImage-2.05-relocatable",
    memoryMap: HOLEY,
    image: bz({ version: 0x0205, kernelAlignment: 0x400000, relocatableKernel: 1 }, 0x9000),
    args: ["--append=console=ttyS0"],
    initrdSize: 0x1800,
  },
  {
    name: "bzImage-2.06-setup-sects-0",
    memoryMap: HOLEY,
    image: bz({ version: 0x0206, setupSects: 0, relocatableKernel: 0 }, 0x2000),
    args: [],
  },
  {
    name: "bzImage-2.07-setup-sects-16",
    memoryMap: SMALL,
    image: bz({ version: 0x0207, setupSects: 16, relocatableKernel: 0 }, 0x2000),
    args: ["--append=a b c"],
  },
  {
    name: "bzImage-2.10-real-mode",
    memoryMap: SMALL,
    image: bz({ version: 0x020a, relocatableKernel: 1, heapEndPtr: 0x9000 }, 0x6000),
    args: ["--real-mode", "--append=console=tty0"],
  },
  {
    name: "bzImage-2.06-cmdline-too-long",
    memoryMap: SMALL,
    image: bz({ version: 0x0206, cmdlineSize: 8 }, 0x2000),
    args: ["--append=123456789"],
  },
  {
    name: "bzImage-2.06-reuse-cmdline",
    memoryMap: SMALL,
    image: bz({ version: 0x0206, relocatableKernel: 0 }, 0x2000),
    args: ["--reuse-cmdline", "--append=extra=1"],
    procCmdline: "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet",
  },
  {
    name: "elf32-args-linux-initrd",
    memoryMap: EMP,
    image: {
      kind: "elf",
      elfClass: 32,
      entry: 0x100000,
      segments: [{ paddr: 0x100000, filesz: 0x3000, memsz: 0x3000 }, {
        paddr: 0x200000,
        filesz: 0x1800,
        memsz: 0x5000,
      }],
    },
    args: ["--args-linux", "--append=console=ttyS0"],
    initrdSize: 10240,
  },
  {
    name: "elf32-args-elf",
    memoryMap: SMALL,
    image: {
      kind: "elf",
      elfClass: 32,
      entry: 0x100010,
      segments: [{ paddr: 0x100000, filesz: 0x800, memsz: 0x2000 }],
    },
    args: ["--append=console=ttyS0 hello"],
  },
  {
    name: "elf32-args-elf-no-cmdline",
    memoryMap: SMALL,
    image: {
      kind: "elf",
      elfClass: 32,
      entry: 0x100000,
      segments: [{ paddr: 0x100000, filesz: 0x100, memsz: 0x100 }],
    },
    args: [],
  },
  {
    name: "elf64-args-linux",
    memoryMap: EMP,
    image: {
      kind: "elf",
      elfClass: 64,
      entry: 0x1000000,
      segments: [{ paddr: 0x1000000, filesz: 0x4000, memsz: 0x6000 }],
    },
    args: ["--args-linux", "--append=root=/dev/vda"],
    initrdSize: 0x3000,
  },
  {
    name: "elf64-args-linux-no-cmdline",
    memoryMap: SMALL,
    image: {
      kind: "elf",
      elfClass: 64,
      entry: 0x200000,
      segments: [{ paddr: 0x200000, filesz: 0x1000, memsz: 0x1000 }],
    },
    args: ["--args-linux"],
  },
  {
    name: "elf64-args-elf",
    memoryMap: SMALL,
    image: {
      kind: "elf",
      elfClass: 64,
      entry: 0x200000,
      segments: [{ paddr: 0x200000, filesz: 0x1000, memsz: 0x1000 }],
    },
    args: ["--append=hello"],
  },
  {
    name: "elf64-args-none",
    memoryMap: SMALL,
    image: {
      kind: "elf",
      elfClass: 64,
      entry: 0x300000,
      segments: [{ paddr: 0x200000, filesz: 0x1000, memsz: 0x1000 }, {
        paddr: 0x300000,
        filesz: 0x10,
        memsz: 0x3000,
      }],
    },
    args: ["--args-none"],
  },
  {
    name: "elf32-args-none-on-x86_64",
    memoryMap: SMALL,
    image: {
      kind: "elf",
      elfClass: 32,
      entry: 0x100000,
      segments: [{ paddr: 0x100000, filesz: 0x100, memsz: 0x100 }],
    },
    args: ["--args-none"],
  },
  {
    name: "elf32-unaligned-paddr",
    memoryMap: SMALL,
    image: {
      kind: "elf",
      elfClass: 32,
      entry: 0x100800,
      segments: [{ paddr: 0x100800, filesz: 0x100, memsz: 0x100 }],
    },
    args: [],
  },
  {
    name: "elf32-overlapping-loads",
    memoryMap: SMALL,
    image: {
      kind: "elf",
      elfClass: 32,
      entry: 0x100000,
      segments: [{ paddr: 0x100000, filesz: 0x4000, memsz: 0x4000 }, {
        paddr: 0x103000,
        filesz: 0x100,
        memsz: 0x2000,
      }],
    },
    args: [],
  },
  {
    name: "elf32-outside-ram",
    memoryMap: SMALL,
    image: {
      kind: "elf",
      elfClass: 32,
      entry: 0x9000000,
      segments: [{ paddr: 0x9000000, filesz: 0x100, memsz: 0x100 }],
    },
    args: [],
  },
  {
    name: "bzImage64-mem-max",
    memoryMap: EMP,
    image: bz(
      { version: 0x020f, xloadflags: 3, initSize: 0x800000, kernelAlignment: 0x200000 },
      0x4000,
    ),
    args: ["--mem-max=0x7fffffff", "--append=x"],
    initrdSize: 0x1000,
  },
];

/** Build the image of a case with the project's builders. */
export function caseImage(c: VectorCase): Uint8Array {
  const i = c.image;
  if (i.kind === "bzImage") {
    return buildBzImage({
      ...i.options,
      payload: new Uint8Array(i.payloadSize).map((_, k) => k & 0xff),
    });
  }
  return buildElf({
    elfClass: i.elfClass,
    machine: i.elfClass === 64 ? EM_X86_64 : EM_386,
    entry: BigInt(i.entry),
    segments: i.segments.map((s) => ({
      paddr: BigInt(s.paddr),
      data: new Uint8Array(s.filesz).map((_, k) => (k * 7) & 0xff),
      memsz: BigInt(s.memsz),
    })),
  });
}

/** The initrd of a case (deterministic bytes). */
export function caseInitrd(c: VectorCase): Uint8Array | undefined {
  return c.initrdSize === undefined
    ? undefined
    : new Uint8Array(c.initrdSize).map((_, k) => (k * 13) & 0xff);
}
