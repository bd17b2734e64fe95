/**
 * What the x86 kernel model needs of a CPU core: load the architectural state that kernel code
 * would have left (the boot trampoline, `stop_this_cpu`, `machine_kexec`'s call into the stub),
 * read registers back (crash notes), and MSR access. The runner adapts the interpreter to this
 * interface; the kernel model never touches interpreter internals.
 *
 * @module
 */

/** A segment register with its hidden descriptor cache. */
export interface X86Segment {
  /** Selector. */
  readonly selector: number;
  /** Cached base. */
  readonly base: bigint;
  /** Cached limit in bytes minus one (0xFFFFFFFF for a flat 4 GiB segment). */
  readonly limit: number;
  /** Descriptor access byte (P, DPL, S, type), e.g. 0x9B code, 0x93 data. */
  readonly access: number;
  /** Descriptor flags nibble (G, D/B, L, AVL) as bits 3..0, e.g. 0xC (G, D), 0xA (G, L). */
  readonly flags: number;
}

/** General registers in encoding order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15). */
export const GPR_NAMES = [
  "rax",
  "rcx",
  "rdx",
  "rbx",
  "rsp",
  "rbp",
  "rsi",
  "rdi",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
] as const;

/** A general register name. */
export type GprName = typeof GPR_NAMES[number];

/** How a CPU sits after kernel code put it there. */
export type X86RunState = "running" | "halted" | "stopped";

/** Architectural state the kernel model loads into a CPU. */
export interface X86State {
  /** Operating mode. */
  readonly mode: "protected" | "long";
  /** General registers (missing ones are 0). 32-bit values for protected mode. */
  readonly gpr: Partial<Record<GprName, bigint>>;
  /** Instruction pointer (EIP/RIP, linear = CS.base + rip). */
  readonly rip: bigint;
  /** EFLAGS/RFLAGS. */
  readonly rflags: number;
  /** Control registers. */
  readonly cr0: bigint;
  /** CR3. */
  readonly cr3: bigint;
  /** CR4 (ignored by CPUs without CR4; the kernel never writes it there). */
  readonly cr4: bigint;
  /** IA32_EFER (0 where it does not exist). */
  readonly efer: bigint;
  /** Segment registers. */
  readonly cs: X86Segment;
  /** DS. */
  readonly ds: X86Segment;
  /** ES. */
  readonly es: X86Segment;
  /** FS. */
  readonly fs: X86Segment;
  /** GS. */
  readonly gs: X86Segment;
  /** SS. */
  readonly ss: X86Segment;
  /** GDTR. */
  readonly gdtr: { readonly base: bigint; readonly limit: number };
  /** IDTR. */
  readonly idtr: { readonly base: bigint; readonly limit: number };
  /** Run state: running, halted in HLT with IF as given, or stopped (HLT with IF=0). */
  readonly runState: X86RunState;
  /**
   * Inside an NMI handler that never returned (crash_nmi_callback halts there): further NMIs are
   * held until an IRET. Left as it is when absent.
   */
  readonly nmiBlocked?: boolean;
}

/** CPU capabilities as the kernel's boot_cpu_data records them (CPUID leaf 1 / 0x80000001). */
export interface X86CpuCaps {
  /** CPUID exists. */
  readonly cpuid: boolean;
  /** 486 or later (CR0.WP/NE/AM exist). */
  readonly i486: boolean;
  /** cpu_has_pae (CPUID.1:EDX bit 6). */
  readonly pae: boolean;
  /** cpu_has_pse. */
  readonly pse: boolean;
  /** cpu_has_pge. */
  readonly pge: boolean;
  /** cpu_has_apic as CPUID reports it (bit 9; clear while the APIC is disabled in IA32_APIC_BASE). */
  readonly apic: boolean;
  /** RDMSR/WRMSR exist. */
  readonly msr: boolean;
  /** IA32_APIC_BASE exists (P6 and later; a P54C's APIC has no such MSR). */
  readonly apicBaseMsr: boolean;
  /** Long mode. */
  readonly longMode: boolean;
  /** NX. */
  readonly nx: boolean;
}

/** The interface the runner implements over the interpreter. */
export interface X86CpuPort {
  /** Capabilities of the CPU model (all CPUs of a machine are the same model). */
  readonly caps: X86CpuCaps;
  /**
   * Replace CPU `cpu`'s architectural state (what the modelled kernel code leaves); also clears
   * a latched NMI and a pending INIT/SIPI wait, which that kernel code consumed.
   */
  load(cpu: number, state: X86State): void;
  /** Current state of CPU `cpu`. */
  read(cpu: number): X86State;
  /**
   * The CPU takes its pending maskable interrupt (the INTA cycle through its local APIC or the
   * 8259), as happens when the modelled kernel code enters an interrupt handler; returns the
   * vector.
   */
  acknowledgeInterrupt(cpu: number): number;
  /** RDMSR. */
  rdmsr(cpu: number, msr: number): bigint;
  /** WRMSR (the machine forwards IA32_APIC_BASE to the local APIC). */
  wrmsr(cpu: number, msr: number, value: bigint): void;
}

/** A null selector with an empty cache (FS and GS while kernel code runs). */
export const NULL_SEGMENT: X86Segment = Object.freeze({
  selector: 0,
  base: 0n,
  limit: 0,
  access: 0,
  flags: 0,
});

/** Flat 4 GiB segment. */
export function flatSegment(selector: number, code: boolean, long = false): X86Segment {
  return {
    selector,
    base: 0n,
    limit: 0xffffffff,
    access: code ? 0x9b : 0x93,
    flags: long ? 0xa : 0xc,
  };
}
