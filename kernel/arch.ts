/**
 * Interfaces between the generic kernel model (`kernel/`) and the architecture hooks (`arch/`),
 * the same split Linux has between `kernel/kexec.c` and `arch/<arch>/kernel/machine_kexec.c`.
 * `kernel/` declares them; `arch/x86/kexec_32.ts` and `arch/x86/kexec_64.ts` implement them.
 *
 * @module
 */

import type { PhysicalMemory } from "../hw/memory.ts";
import type { IoBus } from "../hw/io_bus.ts";
import type { MmioBus } from "../hw/mmio_bus.ts";
import type { Trace } from "../hw/trace.ts";
import type { KernelConfig } from "./versions.ts";
import type { Kimage } from "./kimage.ts";
import type { PageAllocator } from "./page_alloc.ts";

// What the hooks get from the kernel besides these interfaces: the kimage they act on, its page
// helper, and the errno-carrying error they report with. `arch/` imports `kernel/` through this
// module only (DESIGN §3).
export { KernelError } from "./errno.ts";
export { type Kimage, pageOf } from "./kimage.ts";

/** What the kernel model needs of the machine: memory and the buses a real kernel reaches. */
export interface KernelMachine {
  /** Guest physical memory. */
  readonly memory: PhysicalMemory;
  /** I/O port bus (outb/inb go here). */
  readonly io: IoBus;
  /** Physical address bus (APIC and IOAPIC MMIO go here with the executing CPU index). */
  readonly bus: MmioBus;
  /** Shared trace; the model sets `currentCpu` while it models code on a CPU. */
  readonly trace: Trace;
}

/** Per-architecture constants of asm/kexec.h (reference §1.4). */
export interface KexecLimits {
  /** KEXEC_SOURCE_MEMORY_LIMIT (inclusive bound used as `pfn > limit >> 12`). */
  readonly sourceMemoryLimit: bigint;
  /** KEXEC_DESTINATION_MEMORY_LIMIT (`mend >= limit` is refused). */
  readonly destinationMemoryLimit: bigint;
  /** KEXEC_CONTROL_MEMORY_LIMIT (`epfn >= limit >> 12` is refused). */
  readonly controlMemoryLimit: bigint;
  /** KEXEC_CONTROL_CODE_SIZE in bytes. */
  readonly controlCodeSize: number;
  /** KEXEC_ARCH value (e_machine << 16). */
  readonly kexecArch: number;
  /** sizeof(unsigned long): 4 or 8 (entry width, segment field width). */
  readonly wordBytes: 4 | 8;
}

/** A CPU register snapshot as crash notes record it (pt_regs order of the architecture). */
export type CrashRegs = Readonly<Record<string, bigint>>;

/** Services the generic code offers the architecture hooks. */
export interface KexecServices {
  /** The machine. */
  readonly machine: KernelMachine;
  /** Version and patch switches. */
  readonly config: KernelConfig;
  /** The kernel's page allocator. */
  readonly pages: PageAllocator;
  /** kimage_alloc_control_pages(image, order): physical address or null. */
  allocControlPages(image: Kimage, order: number): number | null;
  /** Emit a "kexec" trace event for a kernel function on the current CPU. */
  log(fn: string, message: string): void;
}

/** Kernel command-line options the model understands (parsed by kernel/boot.ts). */
export interface KernelCmdline {
  /** The raw string. */
  readonly raw: string;
  /** `crashkernel=size@addr` (2.6.13), as [start, end] inclusive; absent without `@addr`. */
  readonly crashkernel?: { readonly start: bigint; readonly end: bigint };
  /** `reboot=s[N[N]]`: reboot_cpu (-1 when not given). */
  readonly rebootCpu: number;
  /** `noapic`: do not use the IO-APIC. */
  readonly noapic: boolean;
  /** `nolapic`: do not use the local APIC. */
  readonly nolapic: boolean;
  /** `lapic`: enable a local APIC the BIOS disabled (i386). */
  readonly lapic: boolean;
}

/** An e820 entry as boot reads it. */
export interface BootE820Entry {
  /** First byte. */
  readonly base: number;
  /** Length. */
  readonly size: number;
  /** Type name. */
  readonly type: "ram" | "reserved" | "acpi" | "nvs" | "unusable";
}

/** What generic boot hands the architecture. */
export interface BootParams {
  /** Parsed command line. */
  readonly cmdline: KernelCmdline;
  /** The e820 map. */
  readonly e820: readonly BootE820Entry[];
  /** CONFIG_SMP. */
  readonly smp: boolean;
}

/** A sysdev class as device_shutdown sees it. */
export interface SysdevClass {
  /** Class name. */
  readonly name: string;
  /** The class's shutdown method, if it has one. */
  readonly shutdown?: () => void;
}

/** What the architecture's bring-up reports back. */
export interface ArchBoot {
  /** "Kernel code" resource [start, end]. */
  readonly kernelCode: { readonly start: number; readonly end: number };
  /** "Kernel data" resource [start, end]. */
  readonly kernelData: { readonly start: number; readonly end: number };
  /** Everything below this physical address is kernel image or boot allocations. */
  readonly bootmemEnd: number;
  /** Highest usable RAM address + 1 the kernel manages (max_pfn << 12). */
  readonly topOfRam: number;
  /** Sysdev classes in registration order. */
  readonly sysdevClasses: readonly SysdevClass[];
  /** Physical address of crash_notes (per CPU, 1024 bytes each). */
  readonly crashNotes: number;
}

/** The architecture hooks of kexec (machine_kexec.c / reboot.c / crash.c of one architecture). */
export interface KexecArch {
  /** Architecture name. */
  readonly name: "i386" | "x86_64" | "ppc";
  /** asm/kexec.h constants. */
  readonly limits: KexecLimits;
  /** machine_kexec_prepare: returns 0 or throws KernelError (x86_64: ENOMEM). */
  machineKexecPrepare(k: KexecServices, image: Kimage): void;
  /** machine_kexec_cleanup. */
  machineKexecCleanup(k: KexecServices, image: Kimage): void;
  /** machine_kexec: hands the CPU to the relocation stub; the next `run` executes guest code. */
  machineKexec(k: KexecServices, image: Kimage, cpu: number): void;
  /** Old-kernel bring-up of CPUs, page tables and interrupt hardware. */
  boot(k: Omit<KexecServices, "pages" | "allocControlPages">, params: BootParams): ArchBoot;
  /** cpu_online_map. */
  onlineCpus(): readonly number[];
  /** machine_shutdown on the calling CPU; returns the CPU the task runs on afterwards. */
  machineShutdown(k: KexecServices, cpu: number): number;
  /** machine_crash_shutdown on the crashing CPU. */
  machineCrashShutdown(k: KexecServices, cpu: number, regs: CrashRegs | undefined): void;
  /** The registers of CPU `cpu` as pt_regs would hold them at a crash (for crash notes). */
  crashRegs(cpu: number): CrashRegs;
  /** The end of panic() when crash_kexec returned: smp_send_stop, then the panic loop. */
  panicLoop(k: KexecServices, cpu: number): void;
}
