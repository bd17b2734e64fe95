/**
 * The two kernel versions the model reproduces, as tables of behaviour differences, and the
 * patches of the 2.6.8.1-kexec3 announcement as named switches (all on by default). Code in
 * `kernel/` and `arch/` asks these tables instead of comparing version strings.
 *
 * @module
 */

/** Kernel versions the model knows. */
export type KernelVersion = "2.6.8.1-kexec3" | "2.6.13";

/** Every version, default first. */
export const KERNEL_VERSIONS: readonly KernelVersion[] = ["2.6.8.1-kexec3", "2.6.13"];

/** Behaviour differences between the versions (reference kexec-kernel.md §1–§7). */
export interface VersionBehaviour {
  /** The version. */
  readonly version: KernelVersion;
  /** KEXEC_SEGMENT_MAX. */
  readonly segmentMax: number;
  /** `zero`: flags must be 0 (kexec3); `arch`: KEXEC_ON_CRASH plus the KEXEC_ARCH field (2.6.13). */
  readonly flagsRule: "zero" | "arch";
  /** kexec_lock taken by sys_kexec_load (EBUSY) and crash_kexec. */
  readonly kexecLock: boolean;
  /** The KEXEC_ON_CRASH slot, `crashkernel=` and crash_kexec exist. */
  readonly crashImage: boolean;
  /** do_kimage_alloc checks page alignment of every segment (EADDRNOTAVAIL). */
  readonly alignmentCheck: boolean;
  /** do_kimage_alloc rejects overlapping segments (EINVAL). */
  readonly overlapCheck: boolean;
  /** do_kimage_alloc rejects bufsz > memsz (EINVAL). */
  readonly bufszCheck: boolean;
  /** Segment loader: kexec3's leader/offset loop or 2.6.13's chunked loop. */
  readonly loadSegment: "kexec3" | "chunked";
  /** kimage_terminate: kexec3 appends IND_DONE (may chain a page) or 2.6.13 writes it in place. */
  readonly terminate: "append" | "in-place";
  /** What machine_kexec passes the stub: the first indirection page or the head entry itself. */
  readonly stubList: "indirection-page" | "head";
  /** x86_64 32-bit callers get compat_sys_kexec_load (otherwise the ia32 slot is ENOSYS). */
  readonly compatEntry: boolean;
  /** disconnect_bsp_APIC(virt_wire_setup): LVT0 masked when the IOAPIC pin took ExtINT. */
  readonly virtWireArgument: boolean;
  /** i386 UP machine_shutdown calls lapic_shutdown (2.6.13) or disable_local_APIC (kexec3). */
  readonly i386UpShutdown: "lapic_shutdown" | "disable_local_APIC";
  /** system_state set by the kexec reboot path (kexec3 writes SYSTEM_BOOTING, sic). */
  readonly systemState: "SYSTEM_BOOTING" | "SYSTEM_RESTART";
  /** The i386 stub runs `cld` before the copy loop. */
  readonly stubCld: boolean;
  /** Timer frequency HZ (2.6.8 fixed 1000; 2.6.13's new CONFIG_HZ defaults to 250). */
  readonly hz: number;
  /** Name of the ExtINT LVT delivery-mode constant in the source (trace wording only). */
  readonly extintName: "APIC_MODE_EXINT" | "APIC_MODE_EXTINT";
}

/** The behaviour tables, by version. */
export const VERSIONS: Readonly<Record<KernelVersion, VersionBehaviour>> = {
  "2.6.8.1-kexec3": {
    version: "2.6.8.1-kexec3",
    segmentMax: 8,
    flagsRule: "zero",
    kexecLock: false,
    crashImage: false,
    alignmentCheck: false,
    overlapCheck: false,
    bufszCheck: false,
    loadSegment: "kexec3",
    terminate: "append",
    stubList: "indirection-page",
    compatEntry: false,
    virtWireArgument: false,
    i386UpShutdown: "disable_local_APIC",
    systemState: "SYSTEM_BOOTING",
    stubCld: true,
    hz: 1000,
    extintName: "APIC_MODE_EXINT",
  },
  "2.6.13": {
    version: "2.6.13",
    segmentMax: 8,
    flagsRule: "arch",
    kexecLock: true,
    crashImage: true,
    alignmentCheck: true,
    overlapCheck: true,
    bufszCheck: true,
    loadSegment: "chunked",
    terminate: "in-place",
    stubList: "head",
    compatEntry: true,
    virtWireArgument: true,
    i386UpShutdown: "lapic_shutdown",
    systemState: "SYSTEM_RESTART",
    stubCld: false,
    hz: 250,
    extintName: "APIC_MODE_EXTINT",
  },
};

/** A patch of the kexec3 announcement that a scenario can switch off. */
export type PatchName =
  | "i8259-shutdown"
  | "i8259-sysfs"
  | "apic-virtwire-on-shutdown"
  | "ioapic-virtwire-on-shutdown"
  | "e820-64bit"
  | "kexec-generic"
  | "reboot-on-bsp"
  | "kexec-arch"
  | "use_mm"
  | "vmlinux-lds"
  | "highbzImage";

/** One patch switch: what it changes and what the model does with it off. */
export interface PatchInfo {
  /** Switch name as scenarios write it. */
  readonly name: PatchName;
  /** Patch file(s) of the announcement ([K3:n] numbers). */
  readonly patches: readonly string[];
  /** Architectures it applies to. */
  readonly arches: readonly ("i386" | "x86_64" | "ppc")[];
  /** Behaviour with the switch off (the kernel before the patch). */
  readonly off: string;
}

/** Every patch switch, in announcement order. */
export const PATCHES: readonly PatchInfo[] = [
  {
    name: "i8259-shutdown",
    patches: ["1 i8259-shutdown.i386"],
    arches: ["i386"],
    off:
      "sysdev class i8259 has no shutdown method: device_shutdown leaves the PIC masks as they are",
  },
  {
    name: "i8259-sysfs",
    patches: ["2 i8259-sysfs.x86_64"],
    arches: ["x86_64"],
    off: "x86_64 registers no i8259 sysdev: device_shutdown leaves the PIC masks as they are",
  },
  {
    name: "apic-virtwire-on-shutdown",
    patches: ["3 apic-virtwire-on-shutdown.i386", "4 apic-virtwire-on-shutdown.x86_64"],
    arches: ["i386", "x86_64"],
    off:
      "disconnect_bsp_APIC only switches the IMCR back to PIC mode; without an IMCR it does nothing",
  },
  {
    name: "ioapic-virtwire-on-shutdown",
    patches: ["5 ioapic-virtwire-on-shutdown.i386", "6 ioapic-virtwire-on-shutdown.x86_64"],
    arches: ["i386", "x86_64"],
    off: "disable_IO_APIC clears every pin and does not route the MP table's ExtINT pin back",
  },
  {
    name: "e820-64bit",
    patches: ["7 e820-64bit"],
    arches: ["x86_64"],
    off: "e820 entries ending above 4 GiB get no iomem resource",
  },
  {
    name: "kexec-generic",
    patches: ["8 kexec-generic"],
    arches: ["i386", "x86_64", "ppc"],
    off: "no sys_kexec_load (ENOSYS) and no LINUX_REBOOT_CMD_KEXEC (EINVAL)",
  },
  {
    name: "reboot-on-bsp",
    patches: ["9 machine_shutdown.x86_64", "11 machine_shutdown.i386"],
    arches: ["i386", "x86_64"],
    off:
      "no machine_shutdown: no migration to the boot CPU, other CPUs keep running, APICs untouched",
  },
  {
    name: "kexec-arch",
    patches: ["10 kexec.x86_64", "12 kexec.i386", "14 kexec.ppc"],
    arches: ["i386", "x86_64", "ppc"],
    off: "the architecture has no kexec_load system call (ENOSYS)",
  },
  {
    name: "use_mm",
    patches: ["13 use_mm"],
    arches: ["ppc"],
    off:
      "ppc machine_kexec cannot switch to init_mm (the identity mapped control page is not live)",
  },
  {
    name: "vmlinux-lds",
    patches: ["vmlinux-lds.i386 [EXPERIMENTAL]"],
    arches: ["i386"],
    off: "vmlinux program headers carry virtual addresses (p_paddr = p_vaddr = 0xC01xxxxx)",
  },
  {
    name: "highbzImage",
    patches: ["highbzImage.i386 [EXPERIMENTAL]"],
    arches: ["i386"],
    off: "a bzImage built for a non-default load address is not bootable",
  },
];

/** Patch switch values; a missing key means on. */
export type PatchSwitches = Partial<Record<PatchName, boolean>>;

/**
 * Error for an unknown version or patch name.
 *
 * @example
 * ```ts
 * import { KernelConfig, VersionError } from "./versions.ts";
 * try {
 *   new KernelConfig({ version: "2.6.99" });
 * } catch (e) {
 *   e instanceof VersionError; // true
 * }
 * ```
 */
export class VersionError extends RangeError {
  /** Create the error. */
  constructor(message: string) {
    super(message);
    this.name = "VersionError";
  }
}

/**
 * Resolved configuration of one kernel: its behaviour table plus the patch switches.
 *
 * @example
 * ```ts
 * import { KernelConfig } from "./versions.ts";
 * const k = new KernelConfig({ version: "2.6.13", patches: { "i8259-shutdown": false } });
 * k.behaviour.kexecLock; // true
 * k.patch("i8259-shutdown"); // false
 * ```
 */
export class KernelConfig {
  /** Behaviour table of the version. */
  readonly behaviour: VersionBehaviour;
  readonly #patches: Readonly<Record<PatchName, boolean>>;

  /** Resolve `version` (default 2.6.8.1-kexec3) and `patches`; unknown names throw VersionError. */
  constructor(options: { version?: string; patches?: Record<string, boolean> } = {}) {
    const version = options.version ?? "2.6.8.1-kexec3";
    if (!Object.hasOwn(VERSIONS, version)) {
      throw new VersionError(
        `Unknown kernel version: ${version} (expected one of ${KERNEL_VERSIONS.join(", ")})`,
      );
    }
    this.behaviour = VERSIONS[version as KernelVersion];
    const all = {} as Record<PatchName, boolean>;
    for (const p of PATCHES) all[p.name] = true;
    for (const [name, on] of Object.entries(options.patches ?? {})) {
      if (!Object.hasOwn(all, name)) {
        throw new VersionError(
          `Unknown patch switch: ${name} (expected one of ${
            PATCHES.map((p) => p.name).join(", ")
          })`,
        );
      }
      if (typeof on !== "boolean") {
        throw new VersionError(`Patch switch must be true or false: ${name}`);
      }
      all[name as PatchName] = on;
    }
    this.#patches = all;
  }

  /** The version name. */
  get version(): KernelVersion {
    return this.behaviour.version;
  }

  /** True when the patch is applied. */
  patch(name: PatchName): boolean {
    return this.#patches[name];
  }

  /** All switches with their values. */
  get patches(): Readonly<Record<PatchName, boolean>> {
    return this.#patches;
  }
}
