/**
 * x86 CPU models as data: identification (CPUID leaves, reset signature), the features that gate
 * instructions and control-register bits, address widths and the local APIC facts the machine
 * needs. Sources: `shared/reference/hardware.md` §3.9 and §5 (Intel SDM, AMD APM, Bochs cpudb
 * tables used only as a source of CPUID values).
 *
 * Decisions (documented here because the reference leaves them open):
 * - `i486` models an Intel486 DX **without** CPUID (EFLAGS.ID cannot be toggled) and without
 *   CR4: late 486s (DX4, SL-enhanced) had both, but the early part is the interesting case for
 *   "detect the CPU" boot code. Reset EDX = 0x0402 (family 4, model 0, stepping 2; UNCONFIRMED
 *   stepping).
 * - `i386` reset EDX = 0x0308 (reference value, UNCONFIRMED).
 * - `pentium` is a P54C (0x525) with its integrated local APIC (version 0x00030010: version
 *   0x10, max LVT 3, per the SDM "Pentium = 3"); it has CR4 (VME PVI TSD DE PSE MCE) but no PAE
 *   and no PGE. It has no IA32_APIC_BASE MSR (the MSR arrived with P6; RDMSR 0x1B raises #GP).
 * - `pentium4-xeon` is a Prestonia Xeon (0xF27) with HyperThreading (2 logical CPUs), PAE and
 *   PSE-36, MAXPHYADDR 36, no EFER (RDMSR/WRMSR 0xC0000080 raise #GP), xAPIC 0x00050014.
 * - `xeon-nocona` is an EM64T Nocona of the E0 stepping family (0xF41) **with** XD (NX), as the
 *   Prescott proxy CPUID data in the reference has 0x80000001 EDX = 0x20100000; MAXPHYADDR 36.
 * - `opteron` is a K8 SledgeHammer Opteron (0xF51, UNCONFIRMED stepping), MAXPHYADDR 40, NX,
 *   local APIC version 0x00040010 (version 0x10; the max-LVT value is UNCONFIRMED in the
 *   reference, 4 chosen).
 *
 * @example
 * ```ts
 * import { x86Models } from "./models.ts";
 * x86Models["opteron"].maxPhysAddr; // 40
 * ```
 *
 * @module
 */

import type { CpuModelInfo } from "../../hw/cpu.ts";

/** Feature flags that gate instructions and control bits. */
export interface X86Features {
  /** CPUID instruction (and EFLAGS.ID toggles). */
  readonly cpuid: boolean;
  /** 486 instructions: INVLPG, WBINVD/INVD, BSWAP, XADD, CMPXCHG; EFLAGS.AC; CR0 WP/NE/AM/NW/CD. */
  readonly i486: boolean;
  /** Pentium instructions: RDTSC, RDMSR/WRMSR, CMPXCHG8B. */
  readonly pentium: boolean;
  /** P6 instructions: CMOVcc, hint NOPs (0F 18-1F). */
  readonly p6: boolean;
  /** SSE2 era: CLFLUSH, LFENCE/MFENCE/SFENCE. */
  readonly sse2: boolean;
  /** CR4 exists. */
  readonly cr4: boolean;
  /** Writable CR4 bits (others raise #GP). */
  readonly cr4Mask: number;
  /** PSE-36: 4 MiB PDEs carry physical address bits above 31. */
  readonly pse36: boolean;
  /** PAE paging. */
  readonly pae: boolean;
  /** EFER MSR exists. */
  readonly efer: boolean;
  /** Writable EFER bits (others raise #GP on WRMSR). */
  readonly eferMask: number;
  /** Long mode (EM64T / AMD64). */
  readonly longMode: boolean;
  /** NX / XD page protection. */
  readonly nx: boolean;
  /** IA32_APIC_BASE MSR exists. */
  readonly apicBaseMsr: boolean;
}

/** A CPUID leaf result. */
export type CpuidResult = readonly [eax: number, ebx: number, ecx: number, edx: number];

/** A full x86 CPU model. */
export interface X86Model {
  /** Name as scenarios write it. */
  readonly name: string;
  /** Vendor string, e.g. `GenuineIntel`. */
  readonly vendor: string;
  /** Processor signature (CPUID.1:EAX; also EDX at reset). */
  readonly signature: number;
  /** Instruction and control-bit gates. */
  readonly features: X86Features;
  /** Physical address width. */
  readonly maxPhysAddr: number;
  /** Linear address width (32, or 48 with long mode). */
  readonly linearBits: number;
  /** Hardware-facing facts for the machine. */
  readonly info: CpuModelInfo;
  /** Basic CPUID leaves 0..max (index = leaf); empty without CPUID. */
  readonly basicLeaves: readonly CpuidResult[];
  /** Extended CPUID leaves 0x80000000..max. */
  readonly extendedLeaves: readonly CpuidResult[];
}

/** Pack up to 16 characters into CPUID register words (little-endian). */
function words(s: string): number[] {
  const out: number[] = [];
  const p = s.padEnd(Math.ceil(s.length / 4) * 4, "\0");
  for (let i = 0; i < p.length; i += 4) {
    out.push(
      (p.charCodeAt(i) | (p.charCodeAt(i + 1) << 8) | (p.charCodeAt(i + 2) << 16) |
        (p.charCodeAt(i + 3) << 24)) >>> 0,
    );
  }
  return out;
}

function vendorLeaf(max: number, vendor: string): CpuidResult {
  const [b, d, c] = words(vendor);
  return [max, b, c, d];
}

/** Brand string leaves 0x80000002..4 from a string (48 bytes, NUL padded). */
function brandLeaves(brand: string): CpuidResult[] {
  const w = words(brand.padEnd(48, "\0").slice(0, 48));
  return [0, 1, 2].map((i) => [w[i * 4], w[i * 4 + 1], w[i * 4 + 2], w[i * 4 + 3]] as const);
}

// CR4 bits
const VME = 1, PVI = 2, TSD = 4, DE = 8, PSE = 0x10, PAE = 0x20, MCE = 0x40, PGE = 0x80;
const PCE = 0x100, OSFXSR = 0x200, OSXMMEXCPT = 0x400;
const CR4_P6 = VME | PVI | TSD | DE | PSE | PAE | MCE | PGE | PCE | OSFXSR | OSXMMEXCPT;
// EFER bits
const SCE = 1, LME = 0x100, NXE = 0x800;

const noCpuid = {
  cpuid: false,
  pentium: false,
  p6: false,
  sse2: false,
  cr4: false,
  cr4Mask: 0,
  pse36: false,
  pae: false,
  efer: false,
  eferMask: 0,
  longMode: false,
  nx: false,
  apicBaseMsr: false,
};

function info(
  name: string,
  o: Omit<CpuModelInfo, "name" | "arch">,
): CpuModelInfo {
  return { name, arch: "x86", ...o };
}

const i386: X86Model = {
  name: "i386",
  vendor: "GenuineIntel",
  signature: 0x0308,
  features: { ...noCpuid, i486: false },
  maxPhysAddr: 32,
  linearBits: 32,
  info: info("i386", {
    maxPhysAddr: 32,
    longMode: false,
    hasLocalApic: false,
    threadsPerPackage: 1,
    // No CPUID: the MP spec (1.4 §4.3.1) has the BIOS write the reset EDX as the signature and
    // the features it detects as flags; a bare 386 has no on-chip FPU, so none.
    signature: 0x0308,
    featureFlags: 0,
  }),
  basicLeaves: [],
  extendedLeaves: [],
};

const i486: X86Model = {
  name: "i486",
  vendor: "GenuineIntel",
  signature: 0x0402,
  features: { ...noCpuid, i486: true },
  maxPhysAddr: 32,
  linearBits: 32,
  info: info("i486", {
    maxPhysAddr: 32,
    longMode: false,
    hasLocalApic: false,
    threadsPerPackage: 1,
    // No CPUID: reset EDX as the signature (MP spec 1.4 §4.3.1); the Intel486 DX's on-chip FPU
    // is the one feature a BIOS detects (flag bit 0; x87 instructions are not modelled).
    signature: 0x0402,
    featureFlags: 0x00000001,
  }),
  basicLeaves: [],
  extendedLeaves: [],
};

const pentium: X86Model = {
  name: "pentium",
  vendor: "GenuineIntel",
  signature: 0x0525,
  features: {
    ...noCpuid,
    cpuid: true,
    i486: true,
    pentium: true,
    cr4: true,
    cr4Mask: VME | PVI | TSD | DE | PSE | MCE,
  },
  maxPhysAddr: 32,
  linearBits: 32,
  info: info("pentium", {
    maxPhysAddr: 32,
    longMode: false,
    hasLocalApic: true,
    lapicVersion: 0x00030010,
    apicIdBits: 4,
    threadsPerPackage: 1,
    signature: 0x0525, // CPUID.1 EAX and EDX, as basicLeaves[1]
    featureFlags: 0x000003bf,
  }),
  // EDX: FPU VME DE PSE TSC MSR MCE CX8 APIC (0x1BF | APIC bit 9).
  basicLeaves: [vendorLeaf(1, "GenuineIntel"), [0x0525, 0, 0, 0x000003bf]],
  extendedLeaves: [],
};

const p4Brand = "      Intel(R) Xeon(TM) CPU 2.40GHz";

const pentium4Xeon: X86Model = {
  name: "pentium4-xeon",
  vendor: "GenuineIntel",
  signature: 0x0f27,
  features: {
    ...noCpuid,
    cpuid: true,
    i486: true,
    pentium: true,
    p6: true,
    sse2: true,
    cr4: true,
    cr4Mask: CR4_P6,
    pse36: true,
    pae: true,
    apicBaseMsr: true,
  },
  maxPhysAddr: 36,
  linearBits: 32,
  info: info("pentium4-xeon", {
    maxPhysAddr: 36,
    longMode: false,
    hasLocalApic: true,
    lapicVersion: 0x00050014,
    apicIdBits: 8,
    threadsPerPackage: 2,
    signature: 0x0f27, // CPUID.1 EAX and EDX, as basicLeaves[1]
    featureFlags: 0x3febfbff,
  }),
  // Leaf 1 EBX: CLFLUSH line 8 (64 bytes), 2 logical processors; APIC ID filled in per CPU.
  basicLeaves: [
    vendorLeaf(2, "GenuineIntel"),
    [0x0f27, 0x00020800, 0, 0x3febfbff],
    [0x665b5001, 0, 0, 0x007b7040],
  ],
  extendedLeaves: [[0x80000004, 0, 0, 0], [0, 0, 0, 0], ...brandLeaves(p4Brand)],
};

const xeonNocona: X86Model = {
  name: "xeon-nocona",
  vendor: "GenuineIntel",
  signature: 0x0f41,
  features: {
    ...noCpuid,
    cpuid: true,
    i486: true,
    pentium: true,
    p6: true,
    sse2: true,
    cr4: true,
    cr4Mask: CR4_P6,
    pse36: true,
    pae: true,
    efer: true,
    eferMask: SCE | LME | NXE,
    longMode: true,
    nx: true,
    apicBaseMsr: true,
  },
  maxPhysAddr: 36,
  linearBits: 48,
  info: info("xeon-nocona", {
    maxPhysAddr: 36,
    longMode: true,
    hasLocalApic: true,
    lapicVersion: 0x00050014,
    apicIdBits: 8,
    threadsPerPackage: 2,
    signature: 0x0f41, // CPUID.1 EAX and EDX, as basicLeaves[1]
    featureFlags: 0xbfebfbff,
  }),
  basicLeaves: [
    vendorLeaf(5, "GenuineIntel"),
    [0x0f41, 0x00020800, 0x0000651d, 0xbfebfbff],
    [0x605b5101, 0, 0, 0x007d7040],
    [0, 0, 0, 0],
    [0x04000121, 0x01c0003f, 0x0000001f, 0],
    [0x40, 0x40, 0, 0],
  ],
  extendedLeaves: [
    [0x80000008, 0, 0, 0],
    [0, 0, 0, 0x20100000],
    ...brandLeaves("        Intel(R) Xeon(TM) CPU 3.20GHz"),
    [0, 0, 0, 0],
    [0, 0, 0x04008040, 0],
    [0, 0, 0, 0],
    [0x00003024, 0, 0, 0],
  ],
};

const opteron: X86Model = {
  name: "opteron",
  vendor: "AuthenticAMD",
  signature: 0x0f51,
  features: {
    ...noCpuid,
    cpuid: true,
    i486: true,
    pentium: true,
    p6: true,
    sse2: true,
    cr4: true,
    cr4Mask: CR4_P6,
    pse36: true,
    pae: true,
    efer: true,
    eferMask: SCE | LME | NXE | 0x4000,
    longMode: true,
    nx: true,
    apicBaseMsr: true,
  },
  maxPhysAddr: 40,
  linearBits: 48,
  info: info("opteron", {
    maxPhysAddr: 40,
    longMode: true,
    hasLocalApic: true,
    lapicVersion: 0x00040010,
    apicIdBits: 8,
    threadsPerPackage: 1,
    signature: 0x0f51, // CPUID.1 EAX and EDX, as basicLeaves[1]
    featureFlags: 0x078bfbff,
  }),
  basicLeaves: [
    vendorLeaf(1, "AuthenticAMD"),
    [0x0f51, 0x00000800, 0, 0x078bfbff],
  ],
  extendedLeaves: [
    vendorLeaf(0x80000008, "AuthenticAMD"),
    [0x0f51, 0, 0, 0xe1d3fbff],
    ...brandLeaves("AMD Opteron(tm) Processor 244"),
    [0xff08ff08, 0xff20ff20, 0x40020140, 0x40020140],
    [0, 0x42004200, 0x04008140, 0],
    [0, 0, 0, 0x0000000f],
    [0x00003028, 0, 0, 0],
  ],
};

/** All x86 models by name. */
export const x86Models: Readonly<Record<string, X86Model>> = {
  i386,
  i486,
  pentium,
  "pentium4-xeon": pentium4Xeon,
  "xeon-nocona": xeonNocona,
  opteron,
};

/**
 * Look up a model by name; throws `RangeError` naming the known models for an unknown name.
 *
 * @example
 * ```ts
 * import { x86Model } from "./models.ts";
 * x86Model("i386").features.cpuid; // false
 * ```
 */
export function x86Model(name: string): X86Model {
  const m = x86Models[name];
  if (m === undefined) {
    throw new RangeError(
      `Unknown x86 CPU model: ${name} (known: ${Object.keys(x86Models).join(", ")})`,
    );
  }
  return m;
}
