/**
 * Images that go through the kexec-tools loader model (`bzImage`, `elf`, `dol`): the one place
 * where a `kexec_load` step's image becomes a segment list and an entry point the way
 * `kexec -l` would build them (kernel/image/: probing, `locate_hole` placement, zero page,
 * command line, initrd, purgatory).
 *
 * OWNERSHIP: {@linkcode segmentsForImage} belongs to the image-format integration (the images
 * helper fills it in); runner/kernel_steps.ts calls it for every image format it does not load
 * itself (`payload` and `bootsector` are raw code and are handled there). Keep the request and
 * plan shapes stable: the kernel adapter depends on them.
 *
 * @module
 */

import type { Snapshot } from "../hw/fields.ts";
import type { Machine } from "../hw/machine.ts";
import type { KernelModel as LinuxKernel } from "../kernel/model.ts";
import { kexecToolsPlan } from "./kexec_tools_images.ts";
import type { ImageSpec } from "./schema.ts";
import type { StepContext } from "./steps.ts";
import type { ValuePath } from "./yaml.ts";

/** What the kernel adapter knows when a `kexec_load` step names a loader-format image. */
export interface KexecImageRequest {
  /** The step's `image:` as validated. */
  readonly image: ImageSpec;
  /** The image's bytes: the `file:` as it is, or `asm:` assembled (org = load, default 0x100000). */
  readonly bytes: Uint8Array;
  /** True when `bytes` came from `asm:` (raw code to wrap), false for a finished `file:`. */
  readonly assembled: boolean;
  /** The step's `initrd:` bytes, if any. */
  readonly initrd?: Uint8Array;
  /** The step's `command_line:`, if any. */
  readonly commandLine?: string;
  /** The step's `loader:` options (snake_case kexec-tools options), if any. */
  readonly loader?: Readonly<Record<string, unknown>>;
  /** `crash: true` (a `kexec -p` load). */
  readonly crash: boolean;
  /** The running (old) kernel's architecture: picks the kexec-tools build. */
  readonly kernelArch: "i386" | "x86_64";
  /** The running kernel: `iomem` (/proc/iomem), `kexec.state.crashRegion`, `config`. */
  readonly kernel: LinuxKernel;
  /** The machine (its `memoryMap` is what /sys/firmware/memmap shows). */
  readonly machine: Machine;
  /** The old kernel's command line (/proc/cmdline, for `reuse_cmdline`). */
  readonly procCmdline: string;
  /** Path of the step's arguments, for error positions (`[...path, "image"]`, `[...path, "loader", key]`). */
  readonly path: ValuePath;
  /** The step context (`ctx.fail(message, path)` for input errors at a YAML position). */
  readonly ctx: StepContext;
}

/** One segment as the loader passes it to sys_kexec_load. */
export interface KexecImageSegment {
  /** The user buffer. */
  readonly buf: Uint8Array;
  /** Bytes passed (default `buf.length`). */
  readonly bufsz?: bigint;
  /** Physical destination. */
  readonly mem: bigint;
  /** Destination size. */
  readonly memsz: bigint;
  /** Facts for `expect.segments` (e.g. `{ label: "purgatory" }`). */
  readonly info?: Snapshot;
}

/** What the loader would pass to sys_kexec_load. */
export interface KexecImagePlan {
  /** Segments in the order passed. */
  readonly segments: readonly KexecImageSegment[];
  /** Entry point (usually purgatory). */
  readonly entry: bigint;
  /** Flags the loader sets (arch field and KEXEC_ON_CRASH), if any. */
  readonly flags?: bigint;
}

/**
 * Turn a loader-format image (`bzImage`, `elf`, `dol`) into the segments and entry point that
 * `kexec -l` would pass to sys_kexec_load.
 *
 * The kexec-tools model does the work (runner/kexec_tools_images.ts `kexecToolsPlan`:
 * `prepareKexecImage`, `loaderOptionsFromScenario`, `loadWithKexecTools` of kernel/image/, with
 * the purgatory assembled by arch/x86/asm.ts). Segment `info` carries the loader's `label`.
 *
 * @example
 * ```ts ignore
 * import { segmentsForImage } from "./kernel_images.ts";
 * const plan = await segmentsForImage(request);
 * plan.entry; // purgatory's entry
 * ```
 */
export function segmentsForImage(
  request: KexecImageRequest,
): KexecImagePlan | Promise<KexecImagePlan> {
  return kexecToolsPlan(request);
}
