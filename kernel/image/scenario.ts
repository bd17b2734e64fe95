/**
 * Glue between the scenario language and the kexec-tools loader model: turn a `kexec_load`
 * step's image (a file's bytes or assembled code) into a kexec-loadable image, validate the
 * step's `loader:` options, and compare a segment list with `expect.segments`.
 *
 * @module
 */

import { buildBzImage } from "./bzimage.ts";
import { buildDol } from "./dol.ts";
import { buildElf, EM_386, EM_PPC, EM_X86_64 } from "./elf.ts";
import { KexecOptionError } from "./errors.ts";
import type { KexecFileType, KexecToolsOptions } from "./kexec_tools.ts";
import type { KexecSegment } from "./kexec_tools_memory.ts";
import { DEBIAN_2_0_25_X86_64_PURGATORY } from "./purgatory.ts";

/** An image as a scenario describes it (the runner's ImageSpec plus bzImage build options). */
export interface ScenarioImage {
  /** Format. */
  format: "bootsector" | "payload" | "bzImage" | "elf" | "dol";
  /** True when the bytes came from `asm:` (code to wrap), false for a `file:` (a finished image). */
  assembled: boolean;
  /** Assembler mode of `asm:` (decides ELF class / EM_ for wrapped payloads). */
  bits?: number;
  /** Architecture. */
  arch?: "i386" | "x86_64" | "ppc";
  /** Load address of wrapped code (default 0x100000). */
  load?: bigint;
  /** Entry point of wrapped code (default `load`). */
  entry?: bigint;
  /** bzImage built from `asm:`: boot protocol version (default 0x020F for 64-bit code, 0x0206 otherwise). */
  protocol?: number;
  /** bzImage built from `asm:`: xloadflags (default 3 for 64-bit code). */
  xloadflags?: number;
  /** bzImage built from `asm:`: relocatable_kernel (default 1). */
  relocatable?: boolean;
  /** bzImage built from `asm:`: kernel_alignment (default 0x200000). */
  kernelAlignment?: number;
  /** bzImage built from `asm:`: init_size (default the code size rounded up to 4 KiB). */
  initSize?: number;
  /** bzImage built from `asm:`: setup_sects (default 4). */
  setupSects?: number;
}

/**
 * Turn a scenario image into bytes kexec-tools can load. Files are used as they are. Assembled
 * code is wrapped: `bzImage` → a bzImage of the chosen protocol whose protected-mode part is the
 * code (for 64-bit code, assemble the 64-bit entry at offset 0x200); `elf` and `payload` → an
 * ELF executable with one PT_LOAD at `load` and e_entry `entry` (ELF64/EM_X86_64 for 64-bit
 * code, EM_PPC big-endian for ppc, else ELF32/EM_386); `dol` → a DOL with one text section at
 * `load` (default 0x80003100), for `loadDolWithKexecTools` (kexec_tools_dol.ts). A bootsector
 * cannot go through kexec-tools and raises {@linkcode KexecOptionError}.
 *
 * @example
 * ```ts
 * import { prepareKexecImage } from "./scenario.ts";
 * const elf = prepareKexecImage({ format: "payload", assembled: true, bits: 32, load: 0x200000n }, new Uint8Array([0xf4]));
 * elf[0]; // 0x7f
 * ```
 */
export function prepareKexecImage(spec: ScenarioImage, bytes: Uint8Array): Uint8Array {
  if (spec.format === "bootsector") {
    throw new KexecOptionError(
      "A bootsector cannot be loaded by kexec-tools: use format payload or elf (or power_on for a bootsector)",
    );
  }
  if (!spec.assembled) return bytes;
  if (spec.format === "dol") {
    const address = Number(spec.load ?? 0x80003100n);
    return buildDol({
      text: [{ address, data: bytes }],
      entry: Number(spec.entry ?? BigInt(address)),
    });
  }
  const is64 = spec.bits === 64 || spec.arch === "x86_64";
  if (spec.format === "bzImage") {
    return buildBzImage({
      version: spec.protocol ?? (is64 ? 0x020f : 0x0206),
      payload: bytes,
      xloadflags: spec.xloadflags ?? (is64 ? 3 : 0),
      relocatableKernel: spec.relocatable === false ? 0 : 1,
      kernelAlignment: spec.kernelAlignment ?? 0x200000,
      initSize: spec.initSize,
      setupSects: spec.setupSects,
    });
  }
  const load = spec.load ?? 0x100000n;
  const ppc = spec.arch === "ppc";
  return buildElf({
    elfClass: is64 ? 64 : 32,
    endian: ppc ? "big" : "little",
    machine: ppc ? EM_PPC : is64 ? EM_X86_64 : EM_386,
    entry: spec.entry ?? load,
    segments: [{ paddr: load, data: bytes }],
  });
}

const LOADER_KEYS: Record<string, string> = {
  build: "i386 | x86_64",
  era: '"2.0.25" | "1.101"',
  type: "bzImage | bzImage64 | elf-x86 | elf-x86_64",
  reuse_cmdline: "boolean",
  proc_cmdline: "string",
  real_mode: "boolean",
  entry_32bit: "boolean",
  args: "elf | linux | none",
  mem_min: "address",
  mem_max: "address",
  no_checks: "boolean",
  clear_cr4: "boolean",
  rng_seed: "boolean",
  purgatory: "own | debian-2.0.25",
};

/**
 * Validate a `kexec_load` step's `loader:` mapping (snake_case kexec-tools options) and convert it
 * to {@linkcode KexecToolsOptions} fields. Errors are {@linkcode KexecOptionError} whose `path` is
 * the offending key, so the runner can point at the YAML line.
 *
 * @example
 * ```ts
 * import { loaderOptionsFromScenario } from "./scenario.ts";
 * loaderOptionsFromScenario({ build: "i386", args: "linux", mem_max: 0x7fffffffn });
 * // { build: "i386", args: "linux", memMax: 0x7fffffffn }
 * ```
 */
export function loaderOptionsFromScenario(
  record: Readonly<Record<string, unknown>>,
): Partial<KexecToolsOptions> {
  const o: Partial<KexecToolsOptions> = {};
  const bad = (key: string, value: unknown): never => {
    throw new KexecOptionError(
      `Bad loader option ${key}: expected ${LOADER_KEYS[key] ?? "a known option"}, got ${
        typeof value === "bigint" ? `0x${value.toString(16)}` : JSON.stringify(value)
      }`,
      { path: [key] },
    );
  };
  const bool = (k: string, v: unknown) => (typeof v === "boolean" ? v : bad(k, v));
  const oneOf = <T extends string>(k: string, v: unknown, allowed: readonly T[]): T =>
    allowed.includes(v as T) ? v as T : bad(k, v);
  const addr = (k: string, v: unknown) =>
    typeof v === "bigint" && v >= 0n
      ? v
      : typeof v === "number" && Number.isSafeInteger(v) && v >= 0
      ? BigInt(v)
      : bad(k, v);
  for (const [k, v] of Object.entries(record)) {
    switch (k) {
      case "build":
        o.build = oneOf(k, v, ["i386", "x86_64"] as const);
        break;
      case "era":
        o.era = oneOf(k, v, ["2.0.25", "1.101"] as const);
        break;
      case "type":
        o.type = oneOf(
          k,
          v,
          ["bzImage", "bzImage64", "elf-x86", "elf-x86_64"] as const,
        ) as KexecFileType;
        break;
      case "reuse_cmdline":
        o.reuseCmdline = bool(k, v);
        break;
      case "proc_cmdline":
        o.procCmdline = typeof v === "string" ? v : bad(k, v);
        break;
      case "real_mode":
        o.realMode = bool(k, v);
        break;
      case "entry_32bit":
        o.entry32bit = bool(k, v);
        break;
      case "args":
        o.args = oneOf(k, v, ["elf", "linux", "none"] as const);
        break;
      case "mem_min":
        o.memMin = addr(k, v);
        break;
      case "mem_max":
        o.memMax = addr(k, v);
        break;
      case "no_checks":
        o.noChecks = bool(k, v);
        break;
      case "clear_cr4":
        o.clearCr4 = bool(k, v);
        break;
      case "rng_seed":
        o.rngSeed = bool(k, v);
        break;
      case "purgatory":
        if (oneOf(k, v, ["own", "debian-2.0.25"] as const) === "debian-2.0.25") {
          o.purgatory = DEBIAN_2_0_25_X86_64_PURGATORY;
        }
        break;
      default:
        bad(k, v);
    }
  }
  return o;
}

/** One entry of `expect.segments`: fields left out are not checked. */
export interface SegmentExpectation {
  /** Destination. */
  mem?: bigint;
  /** Page-rounded size. */
  memsz?: bigint;
  /** Bytes passed. */
  bufsz?: bigint;
  /** What the loader put there (purgatory, setup, kernel, initrd, ...): substring match. */
  label?: string;
}

/**
 * Compare a segment list with `expect.segments` (same length, entry by entry in `mem` order).
 * Returns human-readable mismatches; empty when everything matches.
 *
 * @example
 * ```ts
 * import { segmentMismatches } from "./scenario.ts";
 * segmentMismatches([{ buf: new Uint8Array(1), bufsz: 1n, mem: 0x3000n, memsz: 0x1000n }], [{ mem: 0x4000n }]);
 * // ["segment[0].mem: expected 0x4000, got 0x3000"]
 * ```
 */
export function segmentMismatches(
  actual: readonly KexecSegment[],
  expected: readonly SegmentExpectation[],
): string[] {
  const out: string[] = [];
  const hex = (n: bigint) => `0x${n.toString(16)}`;
  if (actual.length !== expected.length) {
    out.push(`nr_segments: expected ${expected.length}, got ${actual.length}`);
  }
  expected.forEach((e, i) => {
    const a = actual[i];
    if (!a) return;
    for (const k of ["mem", "memsz", "bufsz"] as const) {
      if (e[k] !== undefined && e[k] !== a[k]) {
        out.push(`segment[${i}].${k}: expected ${hex(e[k]!)}, got ${hex(a[k])}`);
      }
    }
    if (e.label !== undefined && !(a.label ?? "").includes(e.label)) {
      out.push(
        `segment[${i}].label: expected ${JSON.stringify(e.label)}, got ${
          JSON.stringify(a.label ?? "")
        }`,
      );
    }
  });
  return out;
}
