/**
 * The Linux kernel model: the old kernel's bring-up, `sys_kexec_load`, `sys_reboot(KEXEC)` and
 * the crash path, for the versions and patch switches of `versions.ts`. The architecture hooks
 * (`machine_kexec` and friends) come from `arch/x86/mod.ts` ({@linkcode createX86KexecArch} there).
 *
 * The class is exported as {@linkcode LinuxKernelModel}: the name `KernelModel` belongs to the
 * runner's interface for pluggable kernel models (`registerKernelModel` in the main module).
 *
 * @example
 * ```ts
 * import { LinuxKernelModel } from "./mod.ts";
 * import { buildMachine } from "../hw/mod.ts";
 * import { createX86KexecArch, x86CpuFactory } from "../arch/x86/mod.ts";
 *
 * const machine = buildMachine({ board: "pc-ioapic" }, { cpu: x86CpuFactory("pentium4-xeon") });
 * const kernel = new LinuxKernelModel(machine, {
 *   version: "2.6.13",
 *   arch: createX86KexecArch(machine, { arch: "i386" }),
 * });
 * kernel.boot();
 * kernel.kexecLoad({ entry: 0x100000, segments: [] }).errno; // 0
 * ```
 *
 * @module
 */

export { KernelModel as LinuxKernelModel, KernelStateError } from "./model.ts";
export type { KernelModelOptions } from "./model.ts";
export { KERNEL_VERSIONS, KernelConfig, PATCHES, VersionError, VERSIONS } from "./versions.ts";
export type {
  KernelVersion,
  PatchInfo,
  PatchName,
  PatchSwitches,
  VersionBehaviour,
} from "./versions.ts";
export {
  Kexec,
  KEXEC_ARCH_386,
  KEXEC_ARCH_DEFAULT,
  KEXEC_ARCH_PPC,
  KEXEC_ARCH_X86_64,
  KEXEC_ON_CRASH,
} from "./kexec.ts";
export type { KexecLoadArgs, KexecState, SyscallResult, UserSegment } from "./kexec.ts";
export { LINUX_REBOOT_CMD, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2 } from "./reboot.ts";
export type { RebootArgs } from "./reboot.ts";
export type { CrashVia, PanicArgs, PanicResult } from "./crash.ts";
export { ERRNO, errnoName, isErrno, KernelError } from "./errno.ts";
export type { Errno } from "./errno.ts";
export {
  IND_DESTINATION,
  IND_DONE,
  IND_INDIRECTION,
  IND_SOURCE,
  KEXEC_TYPE_CRASH,
  KEXEC_TYPE_DEFAULT,
  Kimage,
} from "./kimage.ts";
export type * from "./arch.ts";
export type { KexecSegment as KimageSegment, Slot } from "./kimage.ts";
export { PageAllocator } from "./page_alloc.ts";
export type { Gfp, PageAllocatorOptions, ZoneSpec } from "./page_alloc.ts";
// The hardware types the kernel model reaches the machine through (the classes are in
// `hw/mod.ts`).
export type * from "../hw/fields.ts";
export type * from "../hw/memory.ts";
export type * from "../hw/io_bus.ts";
export type * from "../hw/mmio_bus.ts";
export type * from "../hw/trace.ts";
export type * from "../hw/memory_map.ts";
