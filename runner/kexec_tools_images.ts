/**
 * The kexec-tools loader model behind `kexec_load: { image: { format: bzImage | elf } }`: the
 * image is wrapped or taken as it is (kernel/image/scenario.ts `prepareKexecImage`), the step's
 * `command_line`, `initrd` and `loader:` options become kexec-tools options, the memory map is
 * the machine's e820 map (what /sys/firmware/memmap shows), a crash load is confined to the
 * running kernel's "Crash kernel" range, and the purgatory is assembled from its source by the
 * project's assembler (arch/x86/asm.ts). The result is the segment list and entry point that
 * `kexec -l` (or `kexec -p`) would pass to sys_kexec_load.
 *
 * Failures: a bad `loader:` option or image option is an input error at its YAML position
 * (exit 2). Where kexec-tools itself gives up, the step fails like a system call, so a scenario
 * can expect it with `expect_error:`:
 *
 * | kexec-tools failure                                                           | `expect_error`  |
 * | ----------------------------------------------------------------------------- | --------------- |
 * | no loader recognises the image (bad magic, bad header field, ...), the loader | `ENOEXEC`       |
 * | cannot take it (`Wrong file type`, truncated, a crash kernel not relocatable) |                 |
 * | placement dies (`locate_hole failed`, `Invalid memory segment`, overlaps...)  | `EADDRNOTAVAIL` |
 * | anything else: option combinations (`--args-none` on x86_64), command line   | `EINVAL`        |
 * | too long, no crashkernel= reservation for `crash: true`                       |                 |
 *
 * kexec-tools exits before the system call in all three cases; the names follow the kernel's
 * own kexec_file_load conventions (ENOEXEC: no loader for the image; EADDRNOTAVAIL: no hole).
 *
 * @module
 */

import { assemble } from "../arch/x86/asm.ts";
import { ImageFormatError, KexecOptionError, KexecToolsError } from "../kernel/image/errors.ts";
import { type KexecToolsOptions, loadWithKexecTools } from "../kernel/image/kexec_tools.ts";
import type { MemoryMapEntry } from "../kernel/image/kexec_tools_memory.ts";
import { buildPurgatory, type PurgatoryBlob } from "../kernel/image/purgatory.ts";
import {
  loaderOptionsFromScenario,
  prepareKexecImage,
  type ScenarioImage,
} from "../kernel/image/scenario.ts";
import type { KexecImagePlan, KexecImageRequest } from "./kernel_images.ts";
import { StepError } from "./steps.ts";

const purgatories = new Map<string, PurgatoryBlob>();

/**
 * Our purgatory assembled by arch/x86/asm.ts (cached per variant).
 *
 * @example
 * ```ts
 * import { assembledPurgatory } from "./kexec_tools_images.ts";
 * assembledPurgatory({ bits: 32 }).symbols.entry16 !== undefined; // true
 * ```
 */
export function assembledPurgatory(options: { bits: 32 | 64; clearCr4?: boolean }): PurgatoryBlob {
  const key = `${options.bits}${options.clearCr4 ? "-clear-cr4" : ""}`;
  let p = purgatories.get(key);
  if (!p) {
    p = buildPurgatory({
      bits: options.bits,
      clearCr4: options.clearCr4,
      assemble: (src, o) => assemble(src, { bits: o.bits, org: o.org }),
    });
    purgatories.set(key, p);
  }
  return p;
}

/** Image keys that shape a bzImage built from `asm:` (snake_case in YAML). */
const BZIMAGE_KEYS = [
  "protocol",
  "xloadflags",
  "relocatable",
  "kernel_alignment",
  "init_size",
  "setup_sects",
] as const;

function num(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  return typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : NaN;
}

/**
 * The errno a scenario expects for a kexec-tools failure (see the module documentation):
 * placement → EADDRNOTAVAIL, an image the chosen loader cannot take → ENOEXEC, else EINVAL.
 *
 * @example
 * ```ts
 * import { kexecToolsErrno } from "./kexec_tools_images.ts";
 * kexecToolsErrno("locate_hole failed"); // "EADDRNOTAVAIL"
 * ```
 */
export function kexecToolsErrno(message: string): "EADDRNOTAVAIL" | "ENOEXEC" | "EINVAL" {
  if (
    /locate_hole|Invalid memory segment|Overlapping memory|sort_segments|not page aligned|Could not (put|find)/
      .test(message)
  ) return "EADDRNOTAVAIL";
  if (/Wrong file type|truncated|not relocatable/.test(message)) return "ENOEXEC";
  return "EINVAL";
}

/**
 * Run the kexec-tools model for a `kexec_load` step's loader-format image.
 *
 * @example
 * ```ts ignore
 * import { kexecToolsPlan } from "./kexec_tools_images.ts";
 * const plan = kexecToolsPlan(request); // { segments, entry, flags }
 * ```
 */
export function kexecToolsPlan(request: KexecImageRequest): KexecImagePlan {
  const { image, ctx, path } = request;
  const imagePath = [...path, "image"];
  const raw = image as unknown as Record<string, unknown>;
  if (image.format === "dol") {
    ctx.fail(
      "kexec_load: DOL images are loaded by kexec-tools' ppc build, which has no kernel model " +
        "here yet: expected format bzImage or elf",
      [...imagePath, "format"],
    );
  }
  if (!request.assembled) {
    // A finished bzImage or ELF file: kexec-tools reads placement and entry from its headers.
    const why = {
      load: "kexec-tools places bzImage/ELF files itself, use loader options (mem_min, mem_max)",
      entry: "a bzImage/ELF file's header gives its entry point, the step's entry: overrides it",
    } as const;
    for (const k of ["load", "entry"] as const) {
      if (image[k] === undefined) continue;
      ctx.fail(
        `kexec_load: image.${k} applies to payload and bootsector images (and code from asm:): ` +
          why[k],
        [...imagePath, k],
      );
    }
  }
  for (const k of BZIMAGE_KEYS) {
    if (raw[k] === undefined) continue;
    if (image.format !== "bzImage" || !request.assembled) {
      ctx.fail(
        `kexec_load: image.${k} shapes a bzImage built from asm: (format bzImage with asm: or ` +
          `an assembly-source file:)`,
        [...imagePath, k],
      );
    }
    const v = k === "relocatable" ? raw[k] : num(raw[k]);
    if (
      k === "relocatable" ? typeof v !== "boolean" : !Number.isSafeInteger(v) || (v as number) < 0
    ) {
      ctx.fail(`kexec_load: bad image.${k}: ${String(raw[k])}`, [...imagePath, k]);
    }
  }
  const spec: ScenarioImage = {
    format: image.format,
    assembled: request.assembled,
    bits: image.bits,
    arch: image.arch,
    load: image.load,
    entry: image.entry,
    protocol: num(raw.protocol),
    xloadflags: num(raw.xloadflags),
    relocatable: raw.relocatable as boolean | undefined,
    kernelAlignment: num(raw.kernel_alignment),
    initSize: num(raw.init_size),
    setupSects: num(raw.setup_sects),
  };
  if (spec.bits === undefined && request.assembled) {
    // the mode kernel_steps.ts assembled the code in
    spec.bits = image.arch === "x86_64" || request.kernelArch === "x86_64" ? 64 : 32;
  }
  let bytes: Uint8Array;
  try {
    bytes = prepareKexecImage(spec, request.bytes);
  } catch (e) {
    if (e instanceof KexecOptionError || e instanceof RangeError || e instanceof SyntaxError) {
      ctx.fail(`kexec_load: cannot build the ${image.format} image: ${e.message}`, imagePath);
    }
    throw e;
  }
  let options: Partial<KexecToolsOptions>;
  try {
    options = loaderOptionsFromScenario(request.loader ?? {});
  } catch (e) {
    if (e instanceof KexecOptionError) {
      ctx.fail(`kexec_load: ${e.message}`, [...path, "loader", ...(e.path ?? [])]);
    }
    throw e;
  }
  const build = options.build ?? request.kernelArch;
  const memoryMap: MemoryMapEntry[] = request.machine.memoryMap.entries.map((e) => ({
    base: BigInt(e.base),
    size: BigInt(e.size),
    type: e.type,
  }));
  const region = request.kernel.kexec.state.crashRegion;
  const full: KexecToolsOptions = {
    ...options,
    build,
    memoryMap,
    commandLine: request.commandLine,
    initrd: request.initrd,
    procCmdline: options.procCmdline ?? request.procCmdline,
    crash: request.crash,
    crashRegion: region.end > region.start ? { start: region.start, end: region.end } : undefined,
    purgatory: options.purgatory ??
      assembledPurgatory({ bits: build === "x86_64" ? 64 : 32, clearCr4: options.clearCr4 }),
  };
  try {
    const r = loadWithKexecTools(bytes, full);
    return {
      segments: r.segments.map((s) => ({
        buf: s.buf,
        bufsz: s.bufsz,
        mem: s.mem,
        memsz: s.memsz,
        info: { label: s.label ?? "" },
      })),
      entry: r.entry,
      flags: BigInt(r.flags),
    };
  } catch (e) {
    if (e instanceof ImageFormatError) {
      throw new StepError(
        "ENOEXEC",
        `kexec-tools cannot load the ${image.format} image: ${e.message}`,
      );
    }
    if (e instanceof KexecToolsError) {
      throw new StepError(kexecToolsErrno(e.message), `kexec-tools: ${e.message}`);
    }
    if (e instanceof KexecOptionError) {
      throw new StepError("EINVAL", `kexec-tools: ${e.message}`);
    }
    throw e;
  }
}
