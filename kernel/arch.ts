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
}
