/**
 * The kexec-tools user-space loader model: `kexec -l [options] IMAGE` as kexec-tools 2.0.25 (or
 * the 1.101/1.96 era) would compute it, from an image, loader options and the machine's memory
 * map, to the segment list, entry point and flags handed to `kexec_load`, plus the `--debug`
 * text. The runner/kernel glue calls {@linkcode loadWithKexecTools}.
 *
 * @module
 */

import { parseBzImage, XLF_CAN_BE_LOADED_ABOVE_4G, XLF_KERNEL_64 } from "./bzimage.ts";
import { parseDol } from "./dol.ts";
import { EM_386, EM_486, EM_X86_64, parseElf } from "./elf.ts";
import { ImageFormatError, KexecOptionError, KexecToolsError } from "./errors.ts";
import {
  formatMemoryRanges,
  KexecInfo,
  type KexecSegment,
  type KexecToolsEra,
  type MemoryMapEntry,
  memoryRangesFromMap,
} from "./kexec_tools_memory.ts";
import {
  buildPurgatory,
  CHECKSUM_REGIONS,
  type PurgatoryBlob,
  purgatoryChecksum,
} from "./purgatory.ts";
import {
  type ElfArgStyle,
  type EntryRegisters,
  loadBzImage32,
  loadBzImage64,
  loadElfX86,
  type PlacedPurgatory,
  type X86LoaderContext,
  type X86LoadResult,
} from "./kexec_tools_x86.ts";

/** kexec-tools file types this model knows. */
export type KexecFileType = "bzImage" | "bzImage64" | "elf-x86" | "elf-x86_64";

/** Which kexec binary is modelled: the i386 build or the x86_64 build. */
export type KexecBuild = "i386" | "x86_64";

/** Loader options, named after kexec-tools' command-line options. */
export interface KexecToolsOptions {
  /** The machine's memory map (e820 style), what `/sys/firmware/memmap` would show. */
  memoryMap: readonly MemoryMapEntry[];
  /** Which build of kexec (default "x86_64"): probe order, `unsigned long` width, default purgatory, arch flag. */
  build?: KexecBuild;
  /** Modelled generation: "2.0.25" (default) or "1.101" (the 1.96-era bzImage loader and memory ranges). */
  era?: KexecToolsEra;
  /** `--type=NAME`: force a file type. */
  type?: KexecFileType;
  /** `--command-line=S` / `--append=S`. */
  commandLine?: string;
  /** `--reuse-cmdline`: take the running kernel's command line (`procCmdline`). */
  reuseCmdline?: boolean;
  /** Contents of `/proc/cmdline` for `--reuse-cmdline`. */
  procCmdline?: string;
  /** `--initrd=FILE` / `--ramdisk=FILE`: its contents. */
  initrd?: Uint8Array;
  /** `--real-mode`: enter the kernel through its 16-bit setup code. */
  realMode?: boolean;
  /** `--entry-32bit`: use the 32-bit entry of a bzImage64 (x86_64 build). */
  entry32bit?: boolean;
  /** `--args-elf` (default), `--args-linux`, `--args-none` for ELF kernels. */
  args?: ElfArgStyle;
  /** `--mem-min=`. */
  memMin?: bigint;
  /** `--mem-max=`. */
  memMax?: bigint;
  /** `-i` / `--no-checks`: purgatory skips the segment checksum. */
  noChecks?: boolean;
  /**
   * `-p`: crash (kdump) kernel load. Placement is confined to `crashRegion` (the "Crash kernel"
   * range of /proc/iomem, as kexec-tools narrows mem_min/mem_max) and the flags get
   * KEXEC_ON_CRASH. Partial model: the elfcorehdr and backup segments and the
   * `memmap=`/`elfcorehdr=` command-line additions of `load_crashdump_segments` are left out.
   */
  crash?: boolean;
  /** The reserved crash kernel range (inclusive end), needed by `crash`. */
  crashRegion?: { start: bigint; end: bigint };
  /** Purgatory blob; default our own purgatory for the build (32-bit for i386, 64-bit for x86_64). */
  purgatory?: PurgatoryBlob;
  /** Use the kexec-tools 1.95-era purgatory that clears CR4 (i386 build only). */
  clearCr4?: boolean;
  /** Add kexec-tools 2.0.25's RNG-seed setup_data segment (host random in the real tool): `true` for 32 zero bytes, or the bytes. Default off. */
  rngSeed?: boolean | Uint8Array;
}

/** The result of a modelled `kexec -l`. */
export interface KexecToolsResult {
  /** Segments sorted by `mem`, as passed to `kexec_load`. */
  segments: KexecSegment[];
  /** Entry point passed to `kexec_load`. */
  entry: bigint;
  /** Flags (arch << 16 | ON_CRASH). */
  flags: number;
  /** The file type that loaded the image. */
  fileType: KexecFileType;
  /** `kexec -l --debug` output (stderr) the model produces: memory ranges, loader messages, the segment list. Host pointers are printed as the segment's index-based fake address. */
  debugText: string;
  /** Lines the real tool prints on stdout. */
  stdout: string;
  /** Registers the loader gave purgatory. */
  registers: EntryRegisters;
  /** Purgatory load address, if any. */
  purgatory?: bigint;
  /** Zero page / param header / boot-notes address. */
  parameters?: bigint;
  /** Kernel load address (bzImage). */
  kernel?: bigint;
  /** Initrd address. */
  initrd?: bigint;
}

const hex = (n: bigint | number) => `0x${n.toString(16)}`;

/** Probe order of each build (the subset of kexec-tools' file types that is modelled). */
const PROBE_ORDER: Record<KexecBuild, KexecFileType[]> = {
  x86_64: ["elf-x86_64", "elf-x86", "bzImage64", "bzImage"],
  i386: ["elf-x86", "bzImage"],
};

function probe(type: KexecFileType, bytes: Uint8Array): boolean {
  try {
    switch (type) {
      case "bzImage":
      case "bzImage64": {
        if (bytes.length < 1024) return false;
        const b = parseBzImage(bytes);
        if (b.header.version < 0x0200 || !b.loadedHigh) return false;
        if (type === "bzImage") return true;
        const need = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
        return b.header.version >= 0x020c && ((b.header.xloadflags ?? 0) & need) === need;
      }
      case "elf-x86":
        return [EM_386, EM_486].includes(parseElf(bytes).machine);
      case "elf-x86_64":
        return parseElf(bytes).machine === EM_X86_64;
    }
  } catch (e) {
    if (e instanceof ImageFormatError) return false;
    throw e;
  }
}

/**
 * Explain why an image is not loadable: the parser's {@linkcode ImageFormatError} for the format
 * the image looks like (ELF magic → ELF, "HdrS"/0xAA55 → bzImage, a well-formed DOL → DOL), so a
 * corrupt image reports the byte offset of the problem; anything else is of no known type.
 */
function diagnose(bytes: Uint8Array): never {
  if (
    bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c &&
    bytes[3] === 0x46
  ) {
    const elf = parseElf(bytes);
    throw new ImageFormatError(`ELF machine ${elf.machine} is not loadable by this kexec build`, {
      offset: 0x12,
      format: "ELF",
    });
  }
  if (bytes.length >= 0x200 && (bytes[0x1fe] === 0x55 || bytes[0x202] === 0x48)) {
    const b = parseBzImage(bytes);
    if (bytes.length < 1024) {
      throw new ImageFormatError(
        `Image too short for kexec-tools' bzImage probe: ${bytes.length} bytes`,
        {
          offset: bytes.length,
          format: "bzImage",
        },
      );
    }
    throw new ImageFormatError(
      b.header.version < 0x0200
        ? "Not a bzImage: no boot protocol header (HdrS), a pre-2.00 zImage"
        : "Not a bzImage: loadflags LOADED_HIGH clear (a zImage)",
      { offset: b.header.version < 0x0200 ? 0x202 : 0x211, format: "bzImage" },
    );
  }
  if (bytes.length >= 0x100 && isDol(bytes)) {
    throw new ImageFormatError("DOL images are loaded by the ppc build, not by x86 kexec", {
      format: "DOL",
    });
  }
  // Garbage is not diagnosed as a broken DOL: DOL has no magic, so only a consistent header counts.
  throw new ImageFormatError(
    `Cannot determine the file type: no loader (ELF, bzImage, DOL) recognises these ${bytes.length} bytes`,
    { format: "unknown" },
  );
}

/** Whether `bytes` parse as a DOL executable (DOL has no magic number to probe). */
function isDol(bytes: Uint8Array): boolean {
  try {
    parseDol(bytes);
    return true;
  } catch (e) {
    if (e instanceof ImageFormatError) return false;
    throw e;
  }
}

/** `KEXEC_ON_CRASH`, the flag of a `-p` load. */
export const KEXEC_ON_CRASH = 1;

/** The arch field kexec-tools puts in the flags: x86_64 build 0x3E0000, i386 build 0. */
export function archFlags(build: KexecBuild): number {
  return build === "x86_64" ? 62 << 16 : 0;
}

/**
 * Format a segment list as kexec-tools' `print_segments` does. `buf` is a host pointer in the
 * real tool; the model prints a fake one (0x1000000 × (index + 1)).
 *
 * @example
 * ```ts
 * import { formatSegments } from "./kexec_tools.ts";
 * formatSegments([{ buf: new Uint8Array(16), bufsz: 16n, mem: 0x100000n, memsz: 0x1000n }]).split("\n")[0]; // "nr_segments = 1"
 * ```
 */
export function formatSegments(segments: readonly KexecSegment[]): string {
  let s = `nr_segments = ${segments.length}\n`;
  segments.forEach((g, i) => {
    s += `segment[${i}].buf   = ${hex((i + 1) * 0x1000000)}\n`;
    s += `segment[${i}].bufsz = ${hex(g.bufsz)}\n`;
    s += `segment[${i}].mem   = ${hex(g.mem)}\n`;
    s += `segment[${i}].memsz = ${hex(g.memsz)}\n`;
  });
  return s;
}

/**
 * Model `kexec -l [options] IMAGE` (kexec-tools 2.0.25 `my_load`): read the memory ranges, probe
 * the file type in the build's order, run the loader, check every segment against RAM, sort and
 * reject overlaps, fill purgatory's checksum table, and return the segment list that would be
 * passed to `kexec_load`.
 *
 * Throws {@linkcode ImageFormatError} (with the byte offset) when no loader accepts the image,
 * {@linkcode KexecToolsError} where kexec-tools dies (`locate_hole failed`, `Invalid memory
 * segment`, `Overlapping memory segments`, ...), {@linkcode KexecOptionError} for options
 * kexec-tools rejects.
 *
 * @example
 * ```ts
 * import { buildBzImage } from "./bzimage.ts";
 * import { loadWithKexecTools } from "./kexec_tools.ts";
 * const image = buildBzImage({ version: 0x0202, payload: new Uint8Array(0x5000) });
 * const r = loadWithKexecTools(image, {
 *   memoryMap: [{ base: 0n, size: 0x9fc00n, type: "ram" }, { base: 0x100000n, size: 0x7f00000n, type: "ram" }],
 *   commandLine: "console=ttyS0",
 * });
 * r.segments.map((s) => s.mem); // [0x3000n, <purgatory below 640K>, 0x100000n]
 * ```
 */
export function loadWithKexecTools(
  image: Uint8Array,
  options: KexecToolsOptions,
): KexecToolsResult {
  const build = options.build ?? "x86_64";
  const era = options.era ?? "2.0.25";
  let memMin = options.memMin;
  let memMax = options.memMax;
  if (options.crash) {
    const cr = options.crashRegion;
    if (!cr || cr.end <= cr.start) {
      throw new KexecToolsError(
        "Memory for crashkernel is not reserved: pass crashkernel=X@Y to the running kernel",
        { stderr: "" },
      );
    }
    if (era !== "2.0.25") {
      throw new KexecOptionError(
        "Crash kernel loads (-p) are modelled for kexec-tools 2.0.25 only",
      );
    }
    memMin = memMin === undefined || memMin < cr.start ? cr.start : memMin;
    memMax = memMax === undefined || memMax > cr.end ? cr.end : memMax;
  }
  if (options.clearCr4 && build !== "i386") {
    throw new KexecOptionError("The clear_cr4 purgatory exists only for the i386 build");
  }
  const ranges = memoryRangesFromMap(options.memoryMap, { era });
  const info = new KexecInfo({
    ranges,
    longBits: build === "x86_64" ? 64 : 32,
    memMin,
    memMax,
    era,
  });
  let stdout = "";
  const ctx: X86LoaderContext = {
    info,
    purgatory: options.purgatory ??
      buildPurgatory({ bits: build === "x86_64" ? 64 : 32, clearCr4: options.clearCr4 }),
    commandLine: commandLineOf(options),
    initrd: options.initrd,
    rngSeed: options.rngSeed === true
      ? new Uint8Array(32)
      : options.rngSeed instanceof Uint8Array
      ? options.rngSeed
      : undefined,
    crash: options.crash,
    debug: (line) => info.print(line + "\n"),
    stdout: (line) => (stdout += line + "\n"),
  };
  info.print(formatMemoryRanges(ranges));

  let fileType: KexecFileType | undefined;
  const order = PROBE_ORDER[build];
  if (options.type) {
    if (!order.includes(options.type)) {
      throw new KexecOptionError(`Unsupported file type for the ${build} build: ${options.type}`);
    }
    if (!probe(options.type, image)) {
      const other = order.find((t) => probe(t, image));
      if (other) info.die(`Wrong file type ${options.type}, file matches type ${other}`);
      diagnose(image);
    }
    fileType = options.type;
  } else {
    fileType = order.find((t) => probe(t, image));
    if (!fileType) diagnose(image);
  }
  let res: X86LoadResult;
  if (fileType === "bzImage" || fileType === "bzImage64") {
    const parsed = parseBzImage(image);
    if (fileType === "bzImage64" && !options.realMode && !options.entry32bit) {
      res = loadBzImage64(ctx, { bytes: image, parsed });
    } else {
      if (options.entry32bit && fileType === "bzImage") {
        throw new KexecOptionError("--entry-32bit applies to bzImage64 images");
      }
      res = loadBzImage32(ctx, { bytes: image, parsed }, { realMode: options.realMode, era });
    }
  } else {
    const parsed = parseElf(image);
    res = loadElfX86(ctx, { bytes: image, parsed }, { args: options.args, build, version: era });
  }

  for (const s of info.segments) {
    const last = info.ulong(s.mem + s.memsz - 1n);
    if (!info.validMemoryRange(s.mem, last)) {
      info.die(`Invalid memory segment ${hex(s.mem)} - ${hex(s.mem + s.memsz)}`);
    }
  }
  if (!info.sortSegments()) info.die("sort_segments failed");
  if (res.purgatory) updatePurgatory(res.purgatory, info.segments, options.noChecks ?? false);
  const flags = archFlags(build) | (options.crash ? KEXEC_ON_CRASH : 0);
  info.print(`kexec_load: entry = ${hex(res.entry)} flags = ${hex(flags)}\n`);
  info.print(formatSegments(info.segments));
  return {
    segments: info.segments,
    entry: res.entry,
    flags,
    fileType,
    debugText: info.stderr,
    stdout,
    registers: res.registers,
    purgatory: res.purgatory?.base,
    parameters: res.parameters,
    kernel: res.kernel,
    initrd: res.initrd,
  };
}

/** `--reuse-cmdline` + `--append` as kexec-tools combines them. */
function commandLineOf(options: KexecToolsOptions): string | undefined {
  let cmdline: string | undefined;
  if (options.reuseCmdline) {
    const proc = (options.procCmdline ?? "").split(/[\r\n]/)[0];
    const kept = proc.split(" ").filter((w) =>
      w && !w.startsWith("BOOT_IMAGE=") &&
      !(options.crash && w.startsWith("crashkernel="))
    );
    cmdline = kept.join(" ");
  }
  if (options.commandLine !== undefined) {
    cmdline = cmdline ? `${cmdline} ${options.commandLine}` : options.commandLine;
  }
  return cmdline;
}

/** `update_purgatory`: checksum regions of every segment but purgatory's own, and the value. */
function updatePurgatory(
  purg: PlacedPurgatory,
  segments: readonly KexecSegment[],
  noChecks: boolean,
): void {
  if (noChecks) {
    purg.set32("skip_checks", 0, 1);
    return;
  }
  const regions = segments.filter((s) => s.mem !== purg.base);
  if (regions.length > CHECKSUM_REGIONS) {
    throw new KexecToolsError(
      `Too many segments for purgatory's checksum table: ${regions.length}`,
    );
  }
  const data: { bytes: Uint8Array; size: number }[] = [];
  regions.forEach((s, i) => {
    purg.set64("checksum_regions", 2 * i, s.mem);
    purg.set64("checksum_regions", 2 * i + 1, s.memsz);
    data.push({ bytes: s.buf.subarray(0, Number(s.bufsz)), size: Number(s.memsz) });
  });
  purg.set32("checksum_count", 0, regions.length);
  purg.set32("checksum_value", 0, purgatoryChecksum(data));
}

/**
 * Parse kexec-tools command-line options (the modelled subset) into {@linkcode KexecToolsOptions}
 * fields: `--command-line=`/`--append=` (last wins), `--reuse-cmdline`, `--real-mode`,
 * `--entry-32bit`, `--args-elf`/`--args-linux`/`--args-none`, `--mem-min=`, `--mem-max=`,
 * `-i`/`--no-checks`, `-t`/`--type=`. `--initrd`/`--ramdisk` name files, so they are not parsed
 * here (pass the bytes as `initrd`).
 *
 * @example
 * ```ts
 * import { parseKexecToolsArgs } from "./kexec_tools.ts";
 * parseKexecToolsArgs(["--append=quiet", "--args-linux"]); // { commandLine: "quiet", args: "linux" }
 * ```
 */
export function parseKexecToolsArgs(args: readonly string[]): Partial<KexecToolsOptions> {
  const o: Partial<KexecToolsOptions> = {};
  for (const a of args) {
    const eq = a.indexOf("=");
    const name = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? undefined : a.slice(eq + 1);
    const need = () => {
      if (value === undefined) throw new KexecOptionError(`Option needs a value: ${name}`);
      return value;
    };
    const num = () => {
      const v = need();
      if (!/^(0x[0-9a-f]+|\d+)$/i.test(v)) {
        throw new KexecOptionError(`Bad number for ${name}: ${v}`);
      }
      return BigInt(v);
    };
    switch (name) {
      case "--command-line":
      case "--append":
        o.commandLine = need();
        break;
      case "--reuse-cmdline":
        o.reuseCmdline = true;
        break;
      case "--real-mode":
        o.realMode = true;
        break;
      case "--entry-32bit":
        o.entry32bit = true;
        break;
      case "--args-elf":
        o.args = "elf";
        break;
      case "--args-linux":
        o.args = "linux";
        break;
      case "--args-none":
        o.args = "none";
        break;
      case "--mem-min":
        o.memMin = num();
        break;
      case "--mem-max":
        o.memMax = num();
        break;
      case "-i":
      case "--no-checks":
        o.noChecks = true;
        break;
      case "-t":
      case "--type": {
        const t = need();
        if (!["bzImage", "bzImage64", "elf-x86", "elf-x86_64"].includes(t)) {
          throw new KexecOptionError(`Unsupported file type: ${t}`);
        }
        o.type = t as KexecFileType;
        break;
      }
      default:
        throw new KexecOptionError(`Unknown or unmodelled kexec option: ${a}`);
    }
  }
  return o;
}
