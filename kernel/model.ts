/**
 * The kernel model facade the runner uses: one old kernel of a given version and patch set on
 * a machine, with the steps `boot`, `kexec_load`, `kexec_unload`, `reboot` and `panic`.
 * System-call failures come back as `{ errno: "EINVAL", ret: -22 }`, never as exceptions.
 *
 * @module
 */

import {
  decodeE820Table,
  e820ReserveResources,
  MemoryMap,
  ResourceTree,
} from "../hw/memory_map.ts";
import { readE820Copy } from "../hw/firmware.ts";
import type { ArchBoot, BootE820Entry, KernelMachine, KexecArch, KexecServices } from "./arch.ts";
import { freeRanges, parseCmdline } from "./boot.ts";
import { Kexec, KEXEC_ON_CRASH, type KexecLoadArgs, type SyscallResult } from "./kexec.ts";
import type { Kimage } from "./kimage.ts";
import { PageAllocator, zonesFor } from "./page_alloc.ts";
import { type RebootArgs, sysReboot } from "./reboot.ts";
import { panic, type PanicArgs, type PanicResult } from "./crash.ts";
import { KernelConfig } from "./versions.ts";
import type { Snapshot } from "../hw/fields.ts";

/** Options of {@linkcode KernelModel}. */
export interface KernelModelOptions {
  /** Kernel version (default 2.6.8.1-kexec3). */
  readonly version?: string;
  /** Kernel command line. */
  readonly cmdline?: string;
  /** Patch switches (default all on). */
  readonly patches?: Record<string, boolean>;
  /** Architecture hooks (arch/x86/kexec_32.ts or kexec_64.ts). */
  readonly arch: KexecArch;
  /** CONFIG_SMP (default true). */
  readonly smp?: boolean;
  /** e820 map when the guest has no BIOS copy of it. */
  readonly e820?: readonly BootE820Entry[];
}

/**
 * Error for a step that needs an earlier one (e.g. kexec_load before boot).
 *
 * @example
 * ```ts
 * import { KernelStateError } from "./model.ts";
 * const e = new KernelStateError("Kernel not booted: run the boot step first");
 * e.name; // "KernelStateError"
 * ```
 */
export class KernelStateError extends TypeError {
  /** Create the error. */
  constructor(message: string) {
    super(message);
    this.name = "KernelStateError";
  }
}

/**
 * One old kernel.
 *
 * @example
 * ```ts ignore
 * const kernel = new KernelModel(machine, { version: "2.6.13", cmdline: "crashkernel=64M@16M", arch });
 * kernel.boot();
 * kernel.kexecLoad({ entry: 0x100000, segments: [{ buf, mem: 0x100000, memsz: 0x10000 }] });
 * kernel.reboot({ cmd: "kexec" });
 * ```
 */
export class KernelModel {
  /** Version and switches. */
  readonly config: KernelConfig;
  /** The machine. */
  readonly machine: KernelMachine;
  /** The architecture hooks. */
  readonly arch: KexecArch;
  /** The generic kexec code (slots, lock, crash region). */
  readonly kexec: Kexec;
  /** /proc/iomem after boot. */
  iomem: ResourceTree | undefined;
  #pages: PageAllocator | undefined;
  #boot: ArchBoot | undefined;
  readonly #cmdline: string;
  readonly #smp: boolean;
  readonly #e820?: readonly BootE820Entry[];
  readonly #services: KexecServices;
  #category: "kernel" | "kexec" = "kexec";
  #kexeced: Snapshot | null = null;

  /** Create the kernel; nothing touches the machine before {@linkcode KernelModel.boot}. */
  constructor(machine: KernelMachine, options: KernelModelOptions) {
    this.machine = machine;
    this.config = new KernelConfig({ version: options.version, patches: options.patches });
    this.arch = options.arch;
    this.#cmdline = options.cmdline ?? "";
    this.#smp = options.smp ?? true;
    this.#e820 = options.e820;
    const pages = (): PageAllocator => {
      if (!this.#pages) throw new KernelStateError("Kernel not booted: run the boot step first");
      return this.#pages;
    };
    this.#services = {
      machine,
      config: this.config,
      get pages(): PageAllocator {
        return pages();
      },
      allocControlPages: (image, order) => image.allocControlPages(order),
      log: (fn, message) => machine.trace.emit(this.#category, `${fn}: ${message}`),
    };
    this.kexec = new Kexec({ services: this.#services, arch: this.arch });
  }

  /** The page allocator (after boot). */
  get pages(): PageAllocator {
    return this.#services.pages;
  }

  /** What the architecture's bring-up reported. */
  get bootInfo(): ArchBoot | undefined {
    return this.#boot;
  }

  #e820Map(): BootE820Entry[] {
    const copy = readE820Copy(this.machine.memory);
    if (copy) return decodeE820Table(copy, copy.length / 20);
    if (this.#e820) return [...this.#e820];
    throw new KernelStateError("No e820 map: the firmware left no copy and none was given");
  }

  /** Run a step as kernel code, restoring trace.currentCpu afterwards. */
  #step<T>(fn: () => T, cpu = 0): T {
    const saved = this.machine.trace.currentCpu;
    this.machine.trace.currentCpu = cpu; // the calling task runs on the boot CPU unless told
    try {
      return fn();
    } finally {
      this.machine.trace.currentCpu = saved;
    }
  }

  /** Old-kernel bring-up. */
  boot(): void {
    if (this.#boot) throw new KernelStateError("Kernel already booted: boot runs once");
    this.#category = "kernel"; // bring-up events; the kexec paths trace as "kexec"
    try {
      this.#step(() => this.#bootNow());
    } finally {
      this.#category = "kexec";
    }
  }

  #bootNow(): void {
    const b = this.config.behaviour;
    const cmdline = parseCmdline(this.#cmdline, { crashkernel: b.crashImage });
    const e820 = this.#e820Map();
    this.machine.trace.currentCpu = 0;
    this.#services.log("setup_arch", `command line: ${cmdline.raw}`);
    const boot = this.arch.boot(this.#services, { cmdline, e820, smp: this.#smp });
    this.#boot = boot;
    const reserved: { start: number; end: number }[] = [];
    const ck = cmdline.crashkernel;
    if (ck && ck.end !== ck.start) {
      this.kexec.state.crashRegion = { start: ck.start, end: ck.end };
      reserved.push({ start: Number(ck.start), end: Number(ck.end) + 1 });
      this.#services.log(
        "reserve_bootmem",
        `crashkernel 0x${ck.start.toString(16)}-0x${ck.end.toString(16)}`,
      );
    } else if (ck) this.kexec.state.crashRegion = { start: ck.start, end: ck.end };
    const zones = zonesFor(this.arch.name === "x86_64" ? "x86_64" : "i386", boot.topOfRam);
    this.#pages = new PageAllocator({
      free: freeRanges(e820, { bootmemEnd: boot.bootmemEnd, top: boot.topOfRam, reserved }),
      ...zones,
    });
    // e820_reserve_resources / legacy_init_iomem_resources
    const tree = new ResourceTree({ end: this.arch.name === "x86_64" ? 2 ** 52 - 1 : 0xffffffff });
    const map = new MemoryMap(e820);
    e820ReserveResources(tree, map, {
      e820_64bit: this.arch.name === "x86_64" ? this.config.patch("e820-64bit") : false,
      kernelCode: boot.kernelCode,
      kernelData: boot.kernelData,
      crashKernel: ck && ck.end !== ck.start
        ? { start: Number(ck.start), end: Number(ck.end) }
        : undefined,
    });
    this.iomem = tree;
    this.#services.log("boot", `done: ${this.arch.onlineCpus().length} CPU(s) online`);
  }

  #booted(): void {
    if (!this.#boot) throw new KernelStateError("Kernel not booted: run the boot step first");
  }

  /** kexec_load. */
  kexecLoad(args: KexecLoadArgs): SyscallResult {
    this.#booted();
    return this.#step(() => this.kexec.load(args));
  }

  /** kexec_load with no segments (unload). */
  kexecUnload(args: { crash?: boolean; caller?: 32 | 64; flags?: number } = {}): SyscallResult {
    this.#booted();
    const flags = args.flags ?? (args.crash ? KEXEC_ON_CRASH : 0);
    return this.#step(() =>
      this.kexec.load({ entry: 0, segments: [], flags, caller: args.caller })
    );
  }

  #onCpu(cpu: number | undefined): void {
    const online = this.arch.onlineCpus();
    if (cpu !== undefined && !online.includes(cpu)) {
      throw new KernelStateError(
        `CPU ${cpu} is not online (online: ${online.join(", ")}): no task can run there`,
      );
    }
  }

  /** reboot(2). */
  reboot(args: RebootArgs): SyscallResult & { cpu?: number } {
    this.#booted();
    this.#onCpu(args.cpu);
    const image = this.kexec.state.image;
    const r = this.#step(() =>
      sysReboot(
        {
          k: this.#services,
          arch: this.arch,
          kexec: this.kexec,
          sysdevs: this.#boot!.sysdevClasses,
        },
        args,
      )
    );
    if (r.errno === 0 && image && this.kexec.state.image === null) {
      this.#kexeced = { ...imageSummary(image), via: "reboot", cpu: r.cpu ?? args.cpu ?? 0 };
    }
    return r;
  }

  /**
   * Kernel state for expectations: version, the image slots, kexec_lock, crashk_res, online
   * CPUs, /proc/iomem, and `kexeced`: the image machine_kexec last entered (reboot or crash),
   * with its head entry, control code page, entry point, segment and indirection page counts.
   */
  snapshot(): Snapshot {
    const st = this.kexec.state;
    const img = (i: typeof st.image) => i === null ? null : imageSummary(i);
    return {
      version: this.config.version,
      image: img(st.image),
      crash_image: img(st.crashImage),
      kexec_lock: st.locked,
      crashkernel: { start: st.crashRegion.start, end: st.crashRegion.end },
      online_cpus: [...this.arch.onlineCpus()],
      crash_notes: this.#boot?.crashNotes ?? null,
      iomem: this.iomem?.format() ?? "",
      kexeced: this.#kexeced,
    };
  }

  /** panic / oops / NMI watchdog on a CPU. */
  panic(args: PanicArgs = {}): PanicResult {
    this.#booted();
    this.#onCpu(args.cpu);
    const image = this.kexec.state.crashImage;
    const r = this.#step(() =>
      panic({ k: this.#services, arch: this.arch, kexec: this.kexec }, args)
    );
    if (r.kexeced && image) {
      this.#kexeced = { ...imageSummary(image), via: "crash", cpu: r.cpu };
    }
    return r;
  }
}

/** What a snapshot shows of a kimage. */
function imageSummary(i: Kimage): Record<string, number | bigint> {
  return {
    head: i.head,
    control_page: i.controlCodePage,
    entry: i.start,
    segments: i.segments.length,
    indirection_pages: i.indirectionPages.length,
  };
}
