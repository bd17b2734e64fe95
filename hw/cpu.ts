/**
 * The contract between the machine (`hw/`) and a CPU core (`arch/*`). The machine owns buses,
 * devices, virtual time and the run loop; a core executes guest instructions and exposes the pins
 * a real CPU has: INTR (with an INTA cycle that returns the vector), NMI, INIT and the startup IPI
 * (SIPI). `hw/` never imports `arch/`: the runner passes a {@linkcode CpuFactory} to the machine.
 *
 * @module
 */

import type { IoBus } from "./io_bus.ts";
import type { MmioBus } from "./mmio_bus.ts";
import type { Snapshot } from "./fields.ts";
import type { Trace } from "./trace.ts";
import type { VirtualClock } from "./clock.ts";

/**
 * Run state of a CPU, as scenarios name it:
 * - `running`: executing instructions;
 * - `halted`: in HLT, wakes on an unmasked interrupt, NMI, INIT;
 * - `stopped`: halted with interrupts disabled, so only NMI/INIT/SIPI can wake it
 *   (the state `stop_this_cpu` leaves an AP in);
 * - `wait-for-sipi`: an AP after INIT (or at power-on), waiting for a startup IPI;
 * - `shutdown`: triple fault (x86) or checkstop; only INIT/reset leaves it.
 */
export type CpuRunState = "running" | "halted" | "stopped" | "wait-for-sipi" | "shutdown";

/** Why {@linkcode CpuCore.run} returned before spending its budget. */
export type CpuStopReason =
  | "budget"
  | "halted"
  | "stopped"
  | "wait-for-sipi"
  | "shutdown"
  | "exit-requested";

/** The pins and callbacks the machine gives a CPU. */
export interface CpuPins {
  /**
   * INTA cycle: called when the CPU accepts a maskable interrupt (INTR high and IF=1).
   * Returns the vector (0–255) supplied by the interrupt controller (8259 or local APIC).
   */
  acknowledge(): number;
  /**
   * The CPU wrote IA32_APIC_BASE (MSR 0x1B) or reset it: the machine moves or globally
   * enables/disables this CPU's local APIC accordingly. Absent on boards without local APICs.
   */
  apicBaseWritten?(value: bigint): void;
}

/** Everything a CPU core needs from the machine. */
export interface CpuEnvironment {
  /** CPU index within the machine (0 = boot CPU). */
  readonly index: number;
  /** Physical address bus (memory and MMIO). */
  readonly bus: MmioBus;
  /** I/O port bus (x86 only; PowerPC cores ignore it). */
  readonly io: IoBus;
  /** Shared trace. */
  readonly trace: Trace;
  /** Virtual clock (for time-base/TSC reads; the CPU never advances it). */
  readonly clock: VirtualClock;
  /** Interrupt acknowledge path. */
  readonly pins: CpuPins;
}

/** A CPU core as the machine drives it. */
export interface CpuCore {
  /** CPU index within the machine. */
  readonly index: number;
  /** Current run state. */
  readonly runState: CpuRunState;
  /** Instructions retired since reset. */
  readonly retired: number;
  /** Why the last {@linkcode CpuCore.run} call returned. */
  readonly lastStop: CpuStopReason;
  /**
   * Execute at most `budget` instructions; returns the number retired (0 when the CPU is not
   * runnable). Returns early when the CPU halts, stops, shuts down or an exit is requested.
   */
  run(budget: number): number;
  /** Ask a running `run()` to return at the next instruction boundary. */
  requestExit(): void;
  /** Set the level of the INTR pin (or, with a local APIC, "an interrupt is ready"). */
  setIntr(level: boolean): void;
  /** Signal NMI (edge). */
  nmi(): void;
  /** INIT: reset to the INIT state (an AP then waits for SIPI). */
  init(): void;
  /** Startup IPI with vector `vector` (start at `vector << 12` in real mode). */
  sipi(vector: number): void;
  /** State for expectations and traces. */
  snapshot(): Snapshot;
}

/**
 * What the machine needs to know about a CPU model to build a board around it (the full model
 * table lives in `arch/*`; this is the hardware-facing part).
 */
export interface CpuModelInfo {
  /** Model name as scenarios write it, e.g. `pentium4-xeon`. */
  readonly name: string;
  /** Architecture family. */
  readonly arch: "x86" | "ppc";
  /** Physical address width in bits (32 for a 386, 36 with PAE, 40 on K8). */
  readonly maxPhysAddr: number;
  /** True when the model can run 64-bit code (EM64T / AMD64). */
  readonly longMode: boolean;
  /** True when the CPU has an integrated local APIC. */
  readonly hasLocalApic: boolean;
  /** Local APIC version register value (bits 7:0 version, 23:16 max LVT entry), if any. */
  readonly lapicVersion?: number;
  /** Width of the xAPIC ID field in bits (4 on P6, 8 on P4/K8). */
  readonly apicIdBits?: number;
  /** Logical processors per physical package (2 with HyperThreading). */
  readonly threadsPerPackage: number;
  /** CPUID.1:EAX (family/model/stepping), written in MP table processor entries; optional. */
  readonly signature?: number;
  /** CPUID.1:EDX feature flags, written in MP table processor entries; optional. */
  readonly featureFlags?: number;
}

/** Creates the CPU with a given index for a machine. */
export type CpuFactory = (env: CpuEnvironment) => CpuCore;
