/**
 * Local APIC (xAPIC MMIO interface) of the Pentium, P6, Pentium 4 / Xeon and K8 processors, one
 * per CPU, plus {@linkcode LocalApicBank}, the MMIO device at the APIC base that routes each access
 * to the initiating CPU's APIC.
 *
 * Sources: Intel SDM Vol. 3A APIC chapter [SDM3], MP spec 1.4 [MPS14]; see
 * `reference/hardware.md` §3. Model differences are derived from the constructor options:
 * - `idBits` 4 means a serial (3-wire) APIC bus part (Pentium/P6): 4-bit IDs, physical broadcast
 *   0xF, APR with focus-processor checking, SVR bits 3:0 hard-wired to 1, SVR focus bit 9, send
 *   accept errors, and no re-enabling after a global disable;
 * - `idBits` 8 means system-bus (xAPIC) delivery (P4/Xeon/K8): 8-bit IDs, broadcast 0xFF, lowest
 *   priority chosen by TPR, all SVR vector bits writable;
 * - `lvtCount` (default: version bits 23:16 + 1) says which LVT entries exist: 4 = Timer, LINT0,
 *   LINT1, Error (Pentium); 5 adds Performance counter (P6); 6 adds Thermal (P4/Xeon). The ESR
 *   illegal-register-address bit is reserved on the Pentium (`lvtCount` 4).
 *
 * Time is virtual: the timer counts at `busFrequencyHz` ÷ divide on the {@linkcode VirtualClock}.
 *
 * @module
 */

import type { ApicBus, ApicBusLocalApic, ApicDeliveryMode, ApicMessage } from "./apic_bus.ts";
import type { VirtualClock } from "./clock.ts";
import { type FieldTable, formatHex, RegisterValue, type Snapshot } from "./fields.ts";
import type { MmioDevice, MmioSize } from "./mmio_bus.ts";
import type { Trace } from "./trace.ts";

/**
 * Register offsets from the APIC base [SDM3 Table "Local APIC Register Address Map"].
 *
 * @example
 * ```ts
 * import { APIC_DEFAULT_BASE, LAPIC_REGISTERS } from "./lapic.ts";
 * const svrAddress = APIC_DEFAULT_BASE + LAPIC_REGISTERS.SVR; // 0xfee000f0
 * ```
 */
export const LAPIC_REGISTERS = {
  /** Local APIC ID. */
  ID: 0x020,
  /** Local APIC version (RO). */
  VERSION: 0x030,
  /** Task priority. */
  TPR: 0x080,
  /** Arbitration priority (RO; Pentium/P6 only, reads 0 on xAPIC parts). */
  APR: 0x090,
  /** Processor priority (RO). */
  PPR: 0x0a0,
  /** End of interrupt (WO). */
  EOI: 0x0b0,
  /** Remote read (RO; 82489DX/P6 remote-read delivery, reads 0 here). */
  RRD: 0x0c0,
  /** Logical destination. */
  LDR: 0x0d0,
  /** Destination format. */
  DFR: 0x0e0,
  /** Spurious interrupt vector. */
  SVR: 0x0f0,
  /** In-service register, 8 registers of 32 bits (0x100–0x170). */
  ISR0: 0x100,
  /** Trigger mode register, 8 registers (0x180–0x1F0). */
  TMR0: 0x180,
  /** Interrupt request register, 8 registers (0x200–0x270). */
  IRR0: 0x200,
  /** Error status. */
  ESR: 0x280,
  /** Interrupt command, low dword (writing it sends the IPI). */
  ICR_LOW: 0x300,
  /** Interrupt command, high dword (destination). */
  ICR_HIGH: 0x310,
  /** LVT timer. */
  LVT_TIMER: 0x320,
  /** LVT thermal sensor (6-LVT models). */
  LVT_THERMAL: 0x330,
  /** LVT performance monitoring counters (5- and 6-LVT models). */
  LVT_PERF: 0x340,
  /** LVT LINT0. */
  LVT_LINT0: 0x350,
  /** LVT LINT1. */
  LVT_LINT1: 0x360,
  /** LVT error. */
  LVT_ERROR: 0x370,
  /** Timer initial count. */
  TIMER_INITIAL: 0x380,
  /** Timer current count (RO). */
  TIMER_CURRENT: 0x390,
  /** Timer divide configuration. */
  TIMER_DIVIDE: 0x3e0,
} as const;

/**
 * ESR bits [SDM3 "ESR Flags"].
 *
 * @example
 * ```ts
 * import { ESR_BITS } from "./lapic.ts";
 * const sendIllegal = (esr: number) => (esr & ESR_BITS.SEND_ILLEGAL_VECTOR) !== 0;
 * ```
 */
export const ESR_BITS = {
  /** Send checksum error (APIC bus parts only; never raised here). */
  SEND_CHECKSUM: 0x01,
  /** Receive checksum error (APIC bus parts only; never raised here). */
  RECEIVE_CHECKSUM: 0x02,
  /** A message this APIC sent was accepted by no APIC (Pentium/P6 only). */
  SEND_ACCEPT: 0x04,
  /** A message this APIC received was accepted by no APIC (Pentium/P6; never raised here). */
  RECEIVE_ACCEPT: 0x08,
  /** Redirectable IPI (later parts; never raised here). */
  REDIRECTABLE_IPI: 0x10,
  /** An ICR write tried to send a Fixed/Lowest IPI with a vector below 16. */
  SEND_ILLEGAL_VECTOR: 0x20,
  /** A received or locally generated interrupt had a vector below 16 (not delivered). */
  RECEIVE_ILLEGAL_VECTOR: 0x40,
  /** Access to a reserved register offset (P6 and later). */
  ILLEGAL_REGISTER: 0x80,
} as const;

/**
 * Named fields of an LVT entry. `timer_mode` applies to the timer entry only.
 *
 * @example
 * ```ts
 * import { RegisterValue } from "./fields.ts";
 * import { LVT_FIELDS } from "./lapic.ts";
 * new RegisterValue(0x10700, 32, LVT_FIELDS).field("delivery"); // 7n (ExtINT)
 * ```
 */
export const LVT_FIELDS: FieldTable = {
  vector: { lsb: 0, width: 8, doc: "interrupt vector" },
  delivery: {
    lsb: 8,
    width: 3,
    values: { Fixed: 0, SMI: 2, NMI: 4, INIT: 5, ExtINT: 7 },
    doc: "delivery mode (Timer/Error: always Fixed)",
  },
  status: { lsb: 12, width: 1, values: { idle: 0, pending: 1 }, doc: "delivery status (RO)" },
  polarity: {
    lsb: 13,
    width: 1,
    values: { high: 0, low: 1 },
    doc: "input pin polarity (LINT0/1)",
  },
  remote_irr: { lsb: 14, width: 1, doc: "remote IRR (RO; LINT0/1 fixed level)" },
  trigger: { lsb: 15, width: 1, values: { edge: 0, level: 1 }, doc: "trigger mode (LINT0/1)" },
  masked: { lsb: 16, width: 1, doc: "1 = masked" },
  timer_mode: {
    lsb: 17,
    width: 1,
    values: { oneshot: 0, periodic: 1 },
    doc: "timer mode (Timer only)",
  },
};

/**
 * Named fields of the spurious-interrupt vector register.
 *
 * @example
 * ```ts
 * import { RegisterValue } from "./fields.ts";
 * import { SVR_FIELDS } from "./lapic.ts";
 * new RegisterValue(0x1ff, 32, SVR_FIELDS).field("enabled"); // 1n
 * ```
 */
export const SVR_FIELDS: FieldTable = {
  vector: { lsb: 0, width: 8, doc: "spurious vector (bits 3:0 read 1 on Pentium/P6)" },
  enabled: { lsb: 8, width: 1, doc: "APIC software enable" },
  focus: { lsb: 9, width: 1, doc: "1 = focus processor checking disabled (Pentium/P6)" },
};

/**
 * Named fields of the 64-bit interrupt command register (high dword in bits 63:32).
 *
 * @example
 * ```ts
 * import { RegisterValue } from "./fields.ts";
 * import { ICR_FIELDS } from "./lapic.ts";
 * new RegisterValue(0x01000000_00004699n, 64, ICR_FIELDS).field("delivery"); // 6n (StartUp)
 * ```
 */
export const ICR_FIELDS: FieldTable = {
  vector: { lsb: 0, width: 8, doc: "vector (SIPI: start page)" },
  delivery: {
    lsb: 8,
    width: 3,
    values: { Fixed: 0, LowestPriority: 1, SMI: 2, RemoteRead: 3, NMI: 4, INIT: 5, StartUp: 6 },
    doc: "delivery mode",
  },
  dest_mode: { lsb: 11, width: 1, values: { physical: 0, logical: 1 }, doc: "destination mode" },
  status: { lsb: 12, width: 1, values: { idle: 0, pending: 1 }, doc: "delivery status (RO)" },
  level: { lsb: 14, width: 1, values: { deassert: 0, assert: 1 }, doc: "level" },
  trigger: { lsb: 15, width: 1, values: { edge: 0, level: 1 }, doc: "trigger mode" },
  shorthand: {
    lsb: 18,
    width: 2,
    values: { none: 0, self: 1, all: 2, all_but_self: 3 },
    doc: "destination shorthand",
  },
  destination: { lsb: 56, width: 8, doc: "destination field (ICR high bits 31:24)" },
};

/** Named fields of the destination format register. */
export const DFR_FIELDS: FieldTable = {
  model: { lsb: 28, width: 4, values: { cluster: 0, flat: 15 }, doc: "logical destination model" },
};

/** Named fields of the logical destination register. */
export const LDR_FIELDS: FieldTable = {
  logical_id: { lsb: 24, width: 8, doc: "logical APIC ID" },
};

/** Named fields of the error status register. */
export const ESR_FIELDS: FieldTable = {
  send_checksum: { lsb: 0, width: 1 },
  receive_checksum: { lsb: 1, width: 1 },
  send_accept: { lsb: 2, width: 1 },
  receive_accept: { lsb: 3, width: 1 },
  redirectable_ipi: { lsb: 4, width: 1 },
  send_illegal_vector: { lsb: 5, width: 1 },
  receive_illegal_vector: { lsb: 6, width: 1 },
  illegal_register: { lsb: 7, width: 1 },
};

/**
 * Named fields of IA32_APIC_BASE (MSR 0x1B). Bits above MAXPHYADDR-1 are reserved (zero).
 *
 * @example
 * ```ts
 * import { RegisterValue } from "./fields.ts";
 * import { APIC_BASE_FIELDS } from "./lapic.ts";
 * new RegisterValue(0xfee00900n, 64, APIC_BASE_FIELDS).field("bsp"); // 1n
 * ```
 */
export const APIC_BASE_FIELDS: FieldTable = {
  bsp: { lsb: 8, width: 1, doc: "bootstrap processor (RO)" },
  enable: { lsb: 11, width: 1, doc: "APIC global enable" },
  base: { lsb: 12, width: 40, doc: "APIC base page number (bits MAXPHYADDR-1:12)" },
};

/** Named fields of the timer divide configuration register. */
export const DIVIDE_FIELDS: FieldTable = {
  divide: {
    lsb: 0,
    width: 4,
    values: { by2: 0, by4: 1, by8: 2, by16: 3, by32: 8, by64: 9, by128: 10, by1: 11 },
    doc: "divide value (bits 0, 1, 3)",
  },
};

/**
 * The CPU-side pins a local APIC drives.
 *
 * @example
 * ```ts
 * import type { LapicCpuPins } from "./lapic.ts";
 * const pins: LapicCpuPins = { setIntr() {}, nmi() {}, init() {}, sipi() {} };
 * ```
 */
export interface LapicCpuPins {
  /** The APIC has an interrupt for the core (a deliverable fixed vector, or an ExtINT). */
  setIntr(level: boolean): void;
  /** Deliver an NMI (edge). */
  nmi(): void;
  /** INIT: the core resets to its INIT state (an AP then waits for SIPI). */
  init(): void;
  /** Startup IPI with vector `vector` (the core ignores it unless waiting for SIPI). */
  sipi(vector: number): void;
  /** SMI; optional because no CPU model has SMM yet (then SMIs are traced and dropped). */
  smi?(): void;
}

/** Options for {@linkcode LocalApic}. */
export interface LocalApicOptions {
  /** Shared trace. */
  trace: Trace;
  /** Virtual clock for the timer. */
  clock: VirtualClock;
  /** Hardware-assigned APIC ID (what reset loads into the ID register). */
  apicId: number;
  /** Version register value, e.g. 0x00050014 (P4/Xeon), 0x00040011 (P6), 0x00030010 (Pentium). */
  version: number;
  /** Number of LVT entries, 4..6; default: version bits 23:16 + 1. */
  lvtCount?: number;
  /** Width of the APIC ID: 4 (Pentium/P6, APIC bus) or 8 (xAPIC: P4/Xeon/K8). */
  idBits: 4 | 8;
  /** The CPU pins this APIC drives. */
  cpu: LapicCpuPins;
  /** The APIC bus; the APIC attaches itself. */
  bus: ApicBus;
  /** The 8259 INTA cycle (both pulses), run for an ExtINT acknowledge; returns the vector. */
  extIntAcknowledge: () => number;
  /** True on the bootstrap processor (IA32_APIC_BASE bit 8). */
  bsp: boolean;
  /** Timer input clock (the bus clock) in Hz; default 100 MHz (10 ns per tick). */
  busFrequencyHz?: number;
  /** MAXPHYADDR of the CPU, limiting the base address field; default 36. */
  maxPhysAddr?: number;
  /** Name used in traces; default `lapic<apicId>`. */
  name?: string;
}

/** Default APIC base physical address. */
export const APIC_DEFAULT_BASE = 0xfee00000;

// LVT entry indices (offset = 0x320 + 0x10 * index).
const LVT_TIMER = 0;
const LVT_THERMAL = 1;
const LVT_PERF = 2;
const LVT_LINT0 = 3;
const LVT_LINT1 = 4;
const LVT_ERROR = 5;
const LVT_NAMES = ["timer", "thermal", "perf", "lint0", "lint1", "error"];
// Writable bits per LVT entry (delivery status 12 and remote IRR 14 are read-only).
const LVT_WRITABLE = [
  0x000300ff, // timer: vector, mask, timer mode
  0x000107ff, // thermal: vector, delivery, mask
  0x000107ff, // perf
  0x0001a7ff, // LINT0: vector, delivery, polarity, trigger, mask
  0x0001a7ff, // LINT1
  0x000100ff, // error: vector, mask
];
const LVT_MASK = 0x10000;
const LVT_REMOTE_IRR = 0x4000;
const LVT_LEVEL = 0x8000;
const LVT_POLARITY_LOW = 0x2000;
const LVT_PERIODIC = 0x20000;
const LVT_RESET = 0x00010000;

const SVR_ENABLE = 0x100;
const SVR_FOCUS_DISABLE = 0x200;

const ICR_WRITABLE = 0x000ccfff; // vector, delivery, dest mode, level, trigger, shorthand
const ICR_DELIVERY: readonly (ApicDeliveryMode | undefined)[] = [
  "fixed",
  "lowest",
  "smi",
  undefined, // 011: reserved (Remote Read on 82489DX/P6)
  "nmi",
  "init",
  "startup",
  undefined, // 111: reserved
];
const SHORTHANDS = [undefined, "self", "all", "all-but-self"] as const;

/** Highest set bit across eight 32-bit words (a 256-bit vector register), or -1. */
function highestVector(bits: Uint32Array): number {
  for (let i = 7; i >= 0; i--) {
    const w = bits[i];
    if (w !== 0) return i * 32 + 31 - Math.clz32(w);
  }
  return -1;
}

function vectorList(bits: Uint32Array): number[] {
  const out: number[] = [];
  for (let v = 0; v < 256; v++) if ((bits[v >>> 5] >>> (v & 31)) & 1) out.push(v);
  return out;
}

function bits256(bits: Uint32Array): RegisterValue {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 32n) | BigInt(bits[i]);
  return new RegisterValue(v, 256);
}

/**
 * One CPU's local APIC.
 *
 * Inputs: MMIO register accesses (through {@linkcode LocalApicBank}), the LINT0/LINT1 pins
 * ({@linkcode LocalApic.setLint}), APIC bus messages ({@linkcode LocalApic.accept}), the CPU's INTA
 * ({@linkcode LocalApic.acknowledge}) and IA32_APIC_BASE writes
 * ({@linkcode LocalApic.apicBaseWritten}). Outputs: the {@linkcode LapicCpuPins}, bus messages and
 * EOI broadcasts.
 *
 * @example
 * ```ts
 * import { ApicBus } from "./apic_bus.ts";
 * import { VirtualClock } from "./clock.ts";
 * import { LocalApic, LAPIC_REGISTERS } from "./lapic.ts";
 * import { Trace } from "./trace.ts";
 * const lapic = new LocalApic({
 *   trace: new Trace(), clock: new VirtualClock(), apicId: 0, version: 0x00050014, idBits: 8,
 *   bus: new ApicBus(), bsp: true, extIntAcknowledge: () => 0x08,
 *   cpu: { setIntr() {}, nmi() {}, init() {}, sipi() {} },
 * });
 * lapic.mmioWrite(LAPIC_REGISTERS.SVR, 4, 0x1ff); // software enable
 * lapic.mmioWrite(LAPIC_REGISTERS.LVT_LINT0, 4, 0x700); // ExtINT, unmasked: virtual wire A
 * lapic.setLint(0, true); // the 8259 raises INT
 * lapic.intrPending; // true
 * lapic.acknowledge(); // 0x08, from the 8259
 * ```
 */
export class LocalApic implements ApicBusLocalApic {
  /** Name used in traces. */
  readonly name: string;
  /** Version register value. */
  readonly version: number;
  /** Number of LVT entries (4..6). */
  readonly lvtCount: number;
  /** Width of the APIC ID field (4 or 8). */
  readonly idBits: 4 | 8;
  /** Hardware-assigned APIC ID (reset value of the ID register). */
  readonly hardwareId: number;
  /** True on the bootstrap processor. */
  readonly bsp: boolean;

  readonly #trace: Trace;
  readonly #clock: VirtualClock;
  readonly #cpu: LapicCpuPins;
  readonly #bus: ApicBus;
  readonly #extIntAck: () => number;
  readonly #busHz: number;
  readonly #baseMask: number;
  readonly #serialBus: boolean;
  readonly #idMask: number;
  readonly #busIndex: number;

  // Global state (IA32_APIC_BASE).
  #globalEnabled = true;
  #base = APIC_DEFAULT_BASE;
  #stuckDisabled = false; // APIC-bus parts cannot be re-enabled without a reset

  // Registers, named as in the SDM.
  #id = 0;
  #tpr = 0;
  #ldr = 0;
  #dfr = 0xffffffff;
  #svr = 0xff;
  readonly #isr = new Uint32Array(8);
  readonly #tmr = new Uint32Array(8);
  readonly #irr = new Uint32Array(8);
  #esr = 0; // visible ESR (latched by the last ESR write)
  #esrPending = 0; // errors detected since the last ESR write
  #icrLow = 0;
  #icrHigh = 0;
  readonly #lvt = new Uint32Array(6);
  #timerInitial = 0;
  #divide = 0;

  // Timer state.
  #timerRunning = false;
  #timerBaseTime = 0;
  #timerBaseCount = 0;
  #timerEvent: number | undefined;

  // Pins and internal flags.
  readonly #lint = [false, false];
  #extIntMessage = false; // an ExtINT message from the bus awaits INTA
  #intrOut = false;
  #inError = false;

  /** Create a local APIC in its power-on state; throws `RangeError` on inconsistent options. */
  constructor(options: LocalApicOptions) {
    const { idBits, version } = options;
    if (idBits !== 4 && idBits !== 8) {
      throw new RangeError(`Local APIC ID width must be 4 or 8 bits: got ${idBits}`);
    }
    if (!Number.isInteger(version) || version < 0 || version > 0xffffffff) {
      throw new RangeError(`Local APIC version must be a 32-bit value: got ${version}`);
    }
    const lvtCount = options.lvtCount ?? ((version >>> 16) & 0xff) + 1;
    if (!Number.isInteger(lvtCount) || lvtCount < 4 || lvtCount > 6) {
      throw new RangeError(`Local APIC LVT count must be 4, 5 or 6: got ${lvtCount}`);
    }
    const idMask = (1 << idBits) - 1;
    if (!Number.isInteger(options.apicId) || options.apicId < 0 || options.apicId > idMask) {
      throw new RangeError(
        `Local APIC ID must fit in ${idBits} bits: got ${options.apicId}`,
      );
    }
    const busHz = options.busFrequencyHz ?? 100_000_000;
    if (!(busHz > 0) || !Number.isFinite(busHz)) {
      throw new RangeError(`Local APIC bus frequency must be a positive number: got ${busHz}`);
    }
    const maxPhys = options.maxPhysAddr ?? 36;
    if (!Number.isInteger(maxPhys) || maxPhys < 32 || maxPhys > 52) {
      throw new RangeError(`MAXPHYADDR must be 32..52: got ${maxPhys}`);
    }
    this.version = version >>> 0;
    this.lvtCount = lvtCount;
    this.idBits = idBits;
    this.hardwareId = options.apicId;
    this.bsp = options.bsp;
    this.name = options.name ?? `lapic${options.apicId}`;
    this.#trace = options.trace;
    this.#clock = options.clock;
    this.#cpu = options.cpu;
    this.#bus = options.bus;
    this.#extIntAck = options.extIntAcknowledge;
    this.#busHz = busHz;
    this.#baseMask = 2 ** maxPhys - 4096;
    this.#serialBus = idBits === 4;
    this.#idMask = idMask;
    this.#resetRegisters(true);
    this.#busIndex = this.#bus.addLocalApic(this);
  }

  // ---------------------------------------------------------------------------------------------
  // State used by the bus and the machine.

  /** Current APIC ID (the ID register's ID field). */
  get apicId(): number {
    return this.#id;
  }

  /** False while globally disabled (IA32_APIC_BASE.EN = 0). */
  get onBus(): boolean {
    return this.#globalEnabled;
  }

  /** True when globally enabled (IA32_APIC_BASE.EN): the machine maps the MMIO window then. */
  get enabled(): boolean {
    return this.#globalEnabled;
  }

  /** True when SVR bit 8 (APIC software enable) is set and the APIC is globally enabled. */
  get softwareEnabled(): boolean {
    return this.#globalEnabled && (this.#svr & SVR_ENABLE) !== 0;
  }

  /** Physical base address of the MMIO window (IA32_APIC_BASE bits MAXPHYADDR-1:12). */
  get base(): number {
    return this.#base;
  }

  /** The effective IA32_APIC_BASE value (what RDMSR 0x1B returns). */
  get apicBase(): bigint {
    return BigInt(this.#base) | (this.#globalEnabled ? 0x800n : 0n) | (this.bsp ? 0x100n : 0n);
  }

  /** What drives the CPU's INTR: a deliverable fixed interrupt or an ExtINT is pending. */
  get intrPending(): boolean {
    if (!this.#globalEnabled) return this.#lint[0]; // LINT0 acts as the INTR pin
    if (this.#extIntMessage || this.#lintExtInt()) return true;
    const v = highestVector(this.#irr);
    return v >= 0 && (v & 0xf0) > (this.#ppr() & 0xf0);
  }

  /** Arbitration priority for lowest-priority delivery: APR (APIC bus parts) or TPR (xAPIC). */
  get arbitrationPriority(): number {
    return this.#serialBus ? this.#apr() : this.#tpr;
  }

  /** Focus-processor checking applies (Pentium/P6 with SVR bit 9 clear). */
  get focusChecking(): boolean {
    return this.#serialBus && (this.#svr & SVR_FOCUS_DISABLE) === 0;
  }

  /** True when `vector` is pending or in service here. */
  isFocus(vector: number): boolean {
    const w = vector >>> 5, b = 1 << (vector & 31);
    return ((this.#irr[w] | this.#isr[w]) & b) !== 0;
  }

  /** Physical (ID or broadcast) and logical (flat/cluster via LDR and DFR) destination match. */
  matchesDestination(destMode: "physical" | "logical", dest: number): boolean {
    if (destMode === "physical") {
      const d = dest & this.#idMask;
      return d === this.#idMask || d === this.#id;
    }
    const logicalId = this.#ldr >>> 24;
    const model = this.#dfr >>> 28;
    if (model === 0xf) return (dest & logicalId & 0xff) !== 0; // flat
    if (model === 0x0) { // cluster
      const cluster = dest >>> 4 & 0xf;
      return (cluster === 0xf || cluster === logicalId >>> 4) && (dest & logicalId & 0xf) !== 0;
    }
    return false; // reserved DFR model: matches nothing
  }

  // ---------------------------------------------------------------------------------------------
  // Priorities.

  #ppr(): number {
    const isrv = Math.max(highestVector(this.#isr), 0);
    return (this.#tpr & 0xf0) >= (isrv & 0xf0) ? this.#tpr : isrv & 0xf0;
  }

  // SDM: APR = TPR if TPR[7:4] >= IRRV[7:4] and TPR[7:4] > ISRV[7:4]; else the highest class of
  // TPR, ISRV and IRRV with bits 3:0 clear.
  #apr(): number {
    const isrv = Math.max(highestVector(this.#isr), 0);
    const irrv = Math.max(highestVector(this.#irr), 0);
    const t = this.#tpr & 0xf0;
    if (t >= (irrv & 0xf0) && t > (isrv & 0xf0)) return this.#tpr;
    return Math.max(t, isrv & 0xf0, irrv & 0xf0);
  }

  #spuriousVector(): number {
    return this.#serialBus ? (this.#svr & 0xf0) | 0x0f : this.#svr & 0xff;
  }

  #updateIntr(): void {
    const level = this.intrPending;
    if (level !== this.#intrOut) {
      this.#intrOut = level;
      this.#cpu.setIntr(level);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reset, INIT, IA32_APIC_BASE.

  #resetRegisters(powerOn: boolean): void {
    if (powerOn) this.#id = this.hardwareId;
    this.#tpr = 0;
    this.#ldr = 0;
    this.#dfr = 0xffffffff;
    this.#svr = 0xff;
    this.#isr.fill(0);
    this.#tmr.fill(0);
    this.#irr.fill(0);
    this.#esr = 0;
    this.#esrPending = 0;
    this.#icrLow = 0;
    this.#icrHigh = 0;
    this.#lvt.fill(LVT_RESET);
    this.#timerInitial = 0;
    this.#divide = 0;
    this.#stopTimer();
    this.#extIntMessage = false;
  }

  /**
   * Power-on/RESET: every register to its reset value [SDM3 "Local APIC State After Power-Up or
   * Reset"]: IRR, ISR, TMR, ICR, LDR, TPR, timer counts and DCR 0; DFR all ones; LVTs masked;
   * SVR 0xFF (software-disabled); ID = hardware ID; IA32_APIC_BASE = 0xFEE00000 | EN | BSP.
   * Survives: the LINT0/LINT1 input levels (they are wires driven from outside).
   */
  reset(): void {
    this.#resetRegisters(true);
    this.#globalEnabled = true;
    this.#stuckDisabled = false;
    this.#base = APIC_DEFAULT_BASE;
    this.#trace.emit("irq", `${this.name}: reset`);
    this.#updateIntr();
  }

  /**
   * INIT (INIT IPI or INIT# pin): the APIC returns to its power-on state except that the ID
   * register (and arbitration ID) keep their values [SDM3 "Local APIC State After an INIT
   * Reset"]. IA32_APIC_BASE (base, EN, BSP) is an MSR and survives. Does not touch the CPU: the
   * caller (or {@linkcode LocalApic.accept} for an INIT message) also INITs the core.
   */
  init(): void {
    // Checked [SDM3 "Local APIC State After an INIT Reset"]: same as power-up/RESET except that
    // the APIC ID and Arb ID registers are not affected (the §9 "INIT vs RESET" UNCONFIRMED item).
    this.#resetRegisters(false);
    this.#trace.emit("irq", `${this.name}: INIT (ID ${formatHex(this.#id, 8)} kept)`);
    this.#updateIntr();
  }

  /**
   * The CPU wrote IA32_APIC_BASE. Bit 11 (EN) = 0 globally disables the APIC: it returns to its
   * reset state, leaves the APIC bus, and LINT0/LINT1 act as the CPU's INTR/NMI pins (a processor
   * without an APIC; implied by [SDM3]). On APIC-bus parts (`idBits` 4) it cannot be re-enabled
   * until reset [SDM3]. The base (bits MAXPHYADDR-1:12) moves the MMIO window; the machine
   * re-maps it after this call using {@linkcode LocalApic.base} and {@linkcode LocalApic.enabled}.
   * The BSP bit is read-only.
   */
  apicBaseWritten(value: bigint): void {
    const v = BigInt.asUintN(64, value);
    this.#base = Number(v & BigInt(this.#baseMask));
    const en = (v & 0x800n) !== 0n;
    if (!en && this.#globalEnabled) {
      this.#resetRegisters(true);
      this.#globalEnabled = false;
      if (this.#serialBus) this.#stuckDisabled = true;
      this.#trace.emit("irq", `${this.name}: globally disabled (IA32_APIC_BASE.EN=0)`);
    } else if (en && !this.#globalEnabled) {
      if (this.#stuckDisabled) {
        this.#trace.emit(
          "irq",
          `${this.name}: IA32_APIC_BASE.EN=1 ignored: an APIC-bus local APIC stays disabled until reset`,
        );
      } else {
        this.#resetRegisters(true);
        this.#globalEnabled = true;
        this.#trace.emit("irq", `${this.name}: globally enabled (IA32_APIC_BASE.EN=1)`);
      }
    }
    this.#updateIntr();
  }

  // ---------------------------------------------------------------------------------------------
  // Interrupt acceptance.

  /** Set IRR (and TMR per trigger) for a fixed interrupt; false if the vector is illegal. */
  #raiseFixed(vector: number, level: boolean): boolean {
    if (vector < 16) {
      this.#error(ESR_BITS.RECEIVE_ILLEGAL_VECTOR);
      return false;
    }
    const w = vector >>> 5, b = 1 << (vector & 31);
    this.#irr[w] |= b;
    if (level) this.#tmr[w] |= b;
    else this.#tmr[w] &= ~b;
    this.#updateIntr();
    return true;
  }

  /** Receive a message from the APIC bus (I/O APIC interrupt or IPI); returns true if accepted. */
  accept(message: ApicMessage): boolean {
    if (!this.#globalEnabled) return false;
    switch (message.delivery) {
      case "fixed":
      case "lowest":
        // Software-disabled: only INIT, NMI, SMI and SIPI are responded to [SDM3].
        // (QEMU accepts into IRR and just does not dispatch.)
        if ((this.#svr & SVR_ENABLE) === 0) {
          this.#trace.emit(
            "irq",
            `${this.name}: ${message.delivery} vector ${
              formatHex(message.vector, 8)
            } discarded: software-disabled`,
          );
          return false;
        }
        return this.#raiseFixed(message.vector & 0xff, message.trigger === "level");
      case "extint":
        if ((this.#svr & SVR_ENABLE) === 0) {
          this.#trace.emit("irq", `${this.name}: ExtINT discarded: software-disabled`);
          return false;
        }
        this.#extIntMessage = true;
        this.#updateIntr();
        return true;
      case "nmi":
        this.#cpu.nmi();
        return true;
      case "smi":
        this.#smi();
        return true;
      case "init":
        if (!message.level) {
          // INIT level de-assert: resynchronises arbitration IDs on the APIC bus (P6), unsupported
          // on xAPIC; no architectural effect either way.
          this.#trace.emit("irq", `${this.name}: INIT level de-assert (no effect)`);
          return true;
        }
        this.init();
        this.#cpu.init();
        return true;
      case "startup":
        this.#cpu.sipi(message.vector & 0xff);
        return true;
    }
  }

  #smi(): void {
    if (this.#cpu.smi) this.#cpu.smi();
    else this.#trace.emit("irq", `${this.name}: SMI dropped (no SMM in this CPU model)`);
  }

  /**
   * The CPU's INTA cycle. ExtINT (from LINT0/LINT1 or a bus message) runs the 8259's INTA via
   * `extIntAcknowledge` without touching IRR/ISR; otherwise the highest IRR vector moves to ISR.
   * If no interrupt is deliverable any more (masked by TPR/PPR after INTR was raised), the spurious
   * vector is returned and ISR is untouched [SDM3 "Spurious Interrupt"]. While globally disabled
   * the INTA goes straight to the 8259.
   */
  acknowledge(): number {
    if (!this.#globalEnabled) return this.#extIntAck();
    if (this.#extIntMessage || this.#lintExtInt()) {
      this.#extIntMessage = false;
      const v = this.#extIntAck();
      this.#trace.emit("irq", `${this.name}: INTA ExtINT -> 8259 vector ${formatHex(v, 8)}`);
      this.#updateIntr();
      return v;
    }
    const v = highestVector(this.#irr);
    if (v < 0 || (v & 0xf0) <= (this.#ppr() & 0xf0)) {
      const s = this.#spuriousVector();
      this.#trace.emit("irq", `${this.name}: INTA spurious vector ${formatHex(s, 8)}`);
      this.#updateIntr();
      return s;
    }
    const w = v >>> 5, b = 1 << (v & 31);
    this.#irr[w] &= ~b;
    this.#isr[w] |= b;
    this.#trace.emit("irq", `${this.name}: INTA vector ${formatHex(v, 8)}`);
    this.#updateIntr();
    return v;
  }

  #eoi(): void {
    const v = highestVector(this.#isr);
    if (v < 0) {
      this.#trace.emit("irq", `${this.name}: EOI with nothing in service`);
      return;
    }
    const w = v >>> 5, b = 1 << (v & 31);
    this.#isr[w] &= ~b;
    const level = (this.#tmr[w] & b) !== 0;
    this.#trace.emit(
      "irq",
      `${this.name}: EOI vector ${formatHex(v, 8)}${level ? " (level)" : ""}`,
    );
    if (level) {
      // Clear the remote IRR of a level-triggered fixed LINT entry with this vector, then let a
      // still-asserted line deliver again.
      for (const pin of [0, 1] as const) {
        const i = LVT_LINT0 + pin;
        const e = this.#lvt[i];
        if ((e & LVT_REMOTE_IRR) !== 0 && (e & 0xff) === v) {
          this.#lvt[i] = e & ~LVT_REMOTE_IRR;
          this.#evaluateLint(pin, true);
        }
      }
      this.#bus.broadcastEoi(v);
    }
    this.#updateIntr();
  }

  // ---------------------------------------------------------------------------------------------
  // LINT pins and other local sources.

  #lintActive(pin: 0 | 1): boolean {
    return this.#lint[pin] !== ((this.#lvt[LVT_LINT0 + pin] & LVT_POLARITY_LOW) !== 0);
  }

  #lintExtInt(): boolean {
    for (const pin of [0, 1] as const) {
      const e = this.#lvt[LVT_LINT0 + pin];
      if ((e & LVT_MASK) === 0 && ((e >>> 8) & 7) === 7 && this.#lintActive(pin)) return true;
    }
    return false;
  }

  /**
   * Drive the LINT0/LINT1 input (8259 INT on LINT0 in virtual-wire mode, NMI on LINT1). While the
   * APIC is globally disabled LINT0 is the CPU's INTR pin and LINT1 its NMI pin.
   */
  setLint(pin: 0 | 1, level: boolean): void {
    if (pin !== 0 && pin !== 1) throw new RangeError(`LINT pin must be 0 or 1: got ${pin}`);
    const before = this.#lint[pin];
    if (before === level) return;
    if (!this.#globalEnabled) {
      this.#lint[pin] = level;
      // SDM: EN = 0 is "functionally equivalent to an IA-32 processor without an on-chip APIC"; no
      // literal pin statement found (searched), so LINT0/LINT1 = INTR/NMI stays an inference.
      if (pin === 1 && level) this.#cpu.nmi();
      this.#updateIntr();
      return;
    }
    const wasActive = this.#lintActive(pin);
    this.#lint[pin] = level;
    this.#evaluateLint(pin, wasActive);
  }

  /** Act on the LINT input after a level or LVT change; `wasActive` false allows an edge. */
  #evaluateLint(pin: 0 | 1, wasActive: boolean): void {
    const e = this.#lvt[LVT_LINT0 + pin];
    const active = this.#lintActive(pin);
    const rising = active && !wasActive;
    if ((e & LVT_MASK) === 0) {
      switch ((e >>> 8) & 7) {
        case 0: // Fixed: level uses remote IRR, edge needs a rising edge
          if ((e & LVT_LEVEL) !== 0) {
            if (active && (e & LVT_REMOTE_IRR) === 0 && this.#raiseFixed(e & 0xff, true)) {
              this.#lvt[LVT_LINT0 + pin] = e | LVT_REMOTE_IRR;
            }
          } else if (rising) this.#raiseFixed(e & 0xff, false);
          break;
        case 2:
          if (rising) this.#smi();
          break;
        case 4:
          if (rising) this.#cpu.nmi();
          break;
        case 5:
          if (rising) {
            this.init();
            this.#cpu.init();
          }
          break;
        case 7: // ExtINT: level-sensitive, handled by intrPending
          break;
        default:
          if (rising) {
            this.#trace.emit(
              "irq",
              `${this.name}: LINT${pin} reserved delivery mode ${(e >>> 8) & 7} ignored`,
            );
          }
      }
    }
    this.#updateIntr();
  }

  /** Fire a local (timer/thermal/perf/error) LVT source. */
  #localInterrupt(index: number): void {
    const e = this.#lvt[index];
    if ((e & LVT_MASK) !== 0) return;
    // Checked against the SDM LVT figure/text: INIT and ExtINT are "not supported" for the thermal
    // and performance-counter LVTs, so only Fixed/SMI/NMI act there (was UNCONFIRMED in §3.3).
    const mode = index === LVT_TIMER || index === LVT_ERROR ? 0 : (e >>> 8) & 7;
    switch (mode) {
      case 0:
        this.#raiseFixed(e & 0xff, false);
        break;
      case 2:
        this.#smi();
        break;
      case 4:
        this.#cpu.nmi();
        break;
      default:
        this.#trace.emit(
          "irq",
          `${this.name}: LVT ${LVT_NAMES[index]} reserved delivery mode ${mode} ignored`,
        );
    }
    if (index === LVT_PERF && this.#serialBus === false) {
      // P4/Xeon: a performance-counter interrupt sets its own mask bit [SDM3 LVT figure].
      this.#lvt[LVT_PERF] |= LVT_MASK;
    }
  }

  /**
   * Raise the thermal (`"thermal"`) or performance-counter (`"perf"`) LVT source, for CPU models
   * that implement those monitors. Ignored when the model lacks that LVT entry.
   */
  raiseLocal(source: "thermal" | "perf"): void {
    const index = source === "thermal" ? LVT_THERMAL : LVT_PERF;
    if (!this.#globalEnabled || !this.#lvtExists(index)) return;
    this.#localInterrupt(index);
  }

  #error(bits: number): void {
    this.#esrPending |= bits;
    this.#trace.emit("irq", `${this.name}: APIC error ${formatHex(bits, 8)}`);
    if (this.#inError) return; // an illegal LVT Error vector must not recurse
    this.#inError = true;
    try {
      this.#localInterrupt(LVT_ERROR);
    } finally {
      this.#inError = false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Timer.

  #divisor(): number {
    const code = ((this.#divide & 8) >>> 1) | (this.#divide & 3);
    return code === 7 ? 1 : 2 << code;
  }

  #nsPerTick(): number {
    return (1e9 / this.#busHz) * this.#divisor();
  }

  #stopTimer(): void {
    if (this.#timerEvent !== undefined) this.#clock.cancel(this.#timerEvent);
    this.#timerEvent = undefined;
    this.#timerRunning = false;
  }

  #startTimer(at: number, count: number): void {
    if (this.#timerEvent !== undefined) this.#clock.cancel(this.#timerEvent);
    this.#timerRunning = true;
    this.#timerBaseTime = at;
    this.#timerBaseCount = count;
    const due = at + count * this.#nsPerTick();
    this.#timerEvent = this.#clock.schedule(Math.ceil(due - 1e-6), () => this.#timerExpired(due));
  }

  #timerExpired(due: number): void {
    this.#timerEvent = undefined;
    if ((this.#lvt[LVT_TIMER] & LVT_PERIODIC) !== 0 && this.#timerInitial !== 0) {
      this.#startTimer(due, this.#timerInitial);
    } else {
      this.#timerRunning = false;
    }
    this.#localInterrupt(LVT_TIMER);
  }

  #currentCount(): number {
    if (!this.#timerRunning) return 0;
    const ticks = Math.floor((this.#clock.now() - this.#timerBaseTime) / this.#nsPerTick() + 1e-9);
    return Math.max(0, this.#timerBaseCount - ticks);
  }

  // ---------------------------------------------------------------------------------------------
  // IPIs.

  #sendIcr(): void {
    const lo = this.#icrLow;
    const mode = (lo >>> 8) & 7;
    const delivery = ICR_DELIVERY[mode];
    const vector = lo & 0xff;
    if (delivery === undefined) {
      this.#trace.emit("irq", `${this.name}: ICR reserved delivery mode ${mode}: not sent`);
      return;
    }
    if ((delivery === "fixed" || delivery === "lowest") && vector < 16) {
      this.#error(ESR_BITS.SEND_ILLEGAL_VECTOR);
      return;
    }
    // [SDM3 "Valid Combinations" tables] No IPI is ever sent level-triggered. xAPIC (P4/Xeon):
    // the level and trigger bits "have no meaning" and go out as 1 / 0, so an INIT de-assert
    // write is an ordinary INIT. APIC bus (Pentium/P6): trigger = level is "treated as edge
    // triggered if level bit is set to 1, otherwise ignored", except that INIT with level 0 is
    // the INIT level de-assert. (QEMU sends level IPIs as level and honours the de-assert on
    // every model; Bochs ignores the de-assert.)
    const levelTrigger = (lo & 0x8000) !== 0;
    const levelBit = (lo & 0x4000) !== 0;
    let level = true;
    if (this.#serialBus && levelTrigger && !levelBit) {
      if (delivery !== "init") {
        this.#trace.emit(
          "irq",
          `${this.name}: ICR ${delivery} with trigger=level, level=0: ignored (APIC bus)`,
        );
        return;
      }
      level = false; // INIT level de-assert
    }
    const trigger = level ? "edge" : "level"; // the de-assert message keeps trigger = level
    const message: ApicMessage = {
      vector,
      delivery,
      destMode: (lo & 0x800) !== 0 ? "logical" : "physical",
      dest: this.#icrHigh >>> 24,
      trigger,
      level,
      shorthand: SHORTHANDS[(lo >>> 18) & 3],
      source: this.#busIndex,
    };
    const accepted = this.#bus.send(message);
    if (accepted === 0 && this.#serialBus) this.#error(ESR_BITS.SEND_ACCEPT);
  }

  // ---------------------------------------------------------------------------------------------
  // Registers.

  #lvtExists(index: number): boolean {
    if (index === LVT_THERMAL) return this.lvtCount >= 6;
    if (index === LVT_PERF) return this.lvtCount >= 5;
    return true;
  }

  #illegalRegister(offset: number, what: string): void {
    this.#trace.emit(
      "mmio",
      `${this.name}: ${what} reserved register ${formatHex(offset, 12)}`,
    );
    // Illegal register address is reserved on the Pentium (4-LVT) [SDM3 ESR figure note].
    if (this.lvtCount >= 5) this.#error(ESR_BITS.ILLEGAL_REGISTER);
  }

  /** Read the 32-bit register at a 16-byte aligned offset; undefined for a reserved offset. */
  #read(reg: number): number | undefined {
    const R = LAPIC_REGISTERS;
    if (reg >= R.ISR0 && reg < R.ISR0 + 0x80) return this.#isr[(reg - R.ISR0) >>> 4];
    if (reg >= R.TMR0 && reg < R.TMR0 + 0x80) return this.#tmr[(reg - R.TMR0) >>> 4];
    if (reg >= R.IRR0 && reg < R.IRR0 + 0x80) return this.#irr[(reg - R.IRR0) >>> 4];
    if (reg >= R.LVT_TIMER && reg <= R.LVT_ERROR) {
      const i = (reg - R.LVT_TIMER) >>> 4;
      return this.#lvtExists(i) ? this.#lvt[i] : undefined;
    }
    switch (reg) {
      case R.ID:
        return (this.#id << 24) >>> 0;
      case R.VERSION:
        return this.version;
      case R.TPR:
        return this.#tpr;
      case R.APR:
        // APR and RRD are not supported on Pentium 4 / Xeon (SDM register map note 1): read 0.
        return this.#serialBus ? this.#apr() : 0;
      case R.PPR:
        return this.#ppr();
      case R.EOI:
      case R.RRD:
        return 0;
      case R.LDR:
        return this.#ldr;
      case R.DFR:
        return this.#dfr;
      case R.SVR:
        return this.#svr;
      case R.ESR:
        return this.#esr;
      case R.ICR_LOW:
        return this.#icrLow; // delivery status always idle: delivery is synchronous
      case R.ICR_HIGH:
        return this.#icrHigh;
      case R.TIMER_INITIAL:
        return this.#timerInitial;
      case R.TIMER_CURRENT:
        return this.#currentCount();
      case R.TIMER_DIVIDE:
        return this.#divide;
    }
    return undefined;
  }

  #write(reg: number, value: number): string {
    const R = LAPIC_REGISTERS;
    if (
      (reg >= R.ISR0 && reg < R.IRR0 + 0x80) || reg === R.VERSION || reg === R.APR ||
      reg === R.PPR || reg === R.RRD || reg === R.TIMER_CURRENT
    ) {
      return "read-only register, write ignored";
    }
    if (reg >= R.LVT_TIMER && reg <= R.LVT_ERROR) {
      const i = (reg - R.LVT_TIMER) >>> 4;
      if (!this.#lvtExists(i)) {
        this.#illegalRegister(reg, "write to");
        return "reserved";
      }
      return this.#writeLvt(i, value);
    }
    switch (reg) {
      case R.ID:
        this.#id = (value >>> 24) & this.#idMask;
        return `id=${formatHex(this.#id, 8)}`;
      case R.TPR:
        this.#tpr = value & 0xff;
        this.#updateIntr();
        return `tpr=${formatHex(this.#tpr, 8)}`;
      case R.EOI:
        this.#eoi();
        return "eoi";
      case R.LDR:
        this.#ldr = value & 0xff000000;
        return `logical id=${formatHex(this.#ldr >>> 24, 8)}`;
      case R.DFR:
        this.#dfr = (value | 0x0fffffff) >>> 0;
        return `model=${
          this.#dfr >>> 28 === 0xf ? "flat" : this.#dfr >>> 28 === 0 ? "cluster" : "reserved"
        }`;
      case R.SVR:
        return this.#writeSvr(value);
      case R.ESR:
        this.#esr = this.#esrPending;
        this.#esrPending = 0;
        return `latched esr=${formatHex(this.#esr, 8)}`;
      case R.ICR_LOW:
        this.#icrLow = value & ICR_WRITABLE;
        this.#sendIcr();
        return `send ${ICR_DELIVERY[(value >>> 8) & 7] ?? "reserved"} vector=${
          formatHex(value & 0xff, 8)
        }`;
      case R.ICR_HIGH:
        this.#icrHigh = value & 0xff000000;
        return `dest=${formatHex(this.#icrHigh >>> 24, 8)}`;
      case R.TIMER_INITIAL:
        this.#timerInitial = value >>> 0;
        if (this.#timerInitial === 0) this.#stopTimer();
        else this.#startTimer(this.#clock.now(), this.#timerInitial);
        return `timer initial=${this.#timerInitial}`;
      case R.TIMER_DIVIDE: {
        const current = this.#currentCount();
        this.#divide = value & 0xb;
        if (this.#timerRunning) this.#startTimer(this.#clock.now(), current);
        return `divide by ${this.#divisor()}`;
      }
    }
    this.#illegalRegister(reg, "write to");
    return "reserved";
  }

  #writeSvr(value: number): string {
    const wasEnabled = (this.#svr & SVR_ENABLE) !== 0;
    const vector = this.#serialBus ? (value & 0xf0) | 0x0f : value & 0xff;
    const writable = this.#serialBus ? SVR_ENABLE | SVR_FOCUS_DISABLE : SVR_ENABLE;
    this.#svr = vector | (value & writable);
    const enabled = (this.#svr & SVR_ENABLE) !== 0;
    if (!enabled) {
      // Software disable sets every LVT mask bit [SDM3 "Software Disabled"].
      for (let i = 0; i < 6; i++) this.#lvt[i] |= LVT_MASK;
    }
    this.#updateIntr();
    if (enabled && !wasEnabled) this.#bus.retryPending();
    return `${enabled ? "enabled" : "software-disabled"} spurious=${formatHex(vector, 8)}`;
  }

  #writeLvt(i: number, value: number): string {
    let v = (this.#lvt[i] & ~LVT_WRITABLE[i]) | (value & LVT_WRITABLE[i]);
    // While software-disabled the mask bits cannot be cleared.
    if ((this.#svr & SVR_ENABLE) === 0) v |= LVT_MASK;
    v >>>= 0;
    this.#lvt[i] = v;
    if (i === LVT_LINT0 || i === LVT_LINT1) this.#evaluateLint(i === LVT_LINT0 ? 0 : 1, true);
    return `lvt ${LVT_NAMES[i]}=${formatHex(v, 32)}${(v & LVT_MASK) !== 0 ? " masked" : ""}`;
  }

  /**
   * MMIO read at `offset` within the 4 KiB window. Registers are 32 bits on 16-byte boundaries;
   * narrower reads inside the register return its bytes, bytes 4..15 of a slot read 0, reserved
   * offsets read 0 and set ESR bit 7 (P6 and later).
   */
  mmioRead(offset: number, size: MmioSize = 4): number | bigint {
    const reg = offset & 0xff0;
    const sub = offset & 0xf;
    let value = 0;
    if (sub < 4) {
      const r = this.#read(reg);
      if (r === undefined) this.#illegalRegister(reg, "read of");
      else value = (r >>> 0) >>> (sub * 8);
    }
    this.#trace.emit(
      "mmio",
      `${this.name}: read ${formatHex(offset, 12)} -> ${formatHex(value >>> 0, 32)}`,
    );
    if (size === 8) return BigInt(value >>> 0);
    if (size === 4) return value >>> 0;
    return value & ((1 << (size * 8)) - 1);
  }

  /**
   * MMIO write. Only aligned 32-bit writes reach a register (narrower or unaligned writes are
   * model specific per [SDM3]; they are dropped and traced). Writes to read-only registers are
   * ignored; writes to reserved offsets set ESR bit 7 (P6 and later).
   */
  mmioWrite(offset: number, size: MmioSize, value: number | bigint): void {
    const v = Number(BigInt.asUintN(32, BigInt(value)));
    if (size !== 4 || (offset & 0xf) !== 0) {
      this.#trace.emit(
        "mmio",
        `${this.name}: write ${
          formatHex(offset, 12)
        } size ${size} dropped: needs aligned 32-bit access`,
      );
      return;
    }
    const what = this.#write(offset & 0xff0, v);
    this.#trace.emit(
      "mmio",
      `${this.name}: write ${formatHex(offset, 12)} <- ${formatHex(v, 32)}: ${what}`,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshot.

  /**
   * Datasheet-named state for expectations: `id`, `version`, `tpr`, `apr`, `ppr`, `ldr`, `dfr`,
   * `svr` {vector, enabled, focus}, `esr`, `icr`, `irr`/`isr`/`tmr` (256-bit) and
   * `irr_vectors`/`isr_vectors`/`tmr_vectors`, `lvt_timer`, `lvt_thermal`, `lvt_perf`,
   * `lvt_lint0` (= `lvt0`), `lvt_lint1` (= `lvt1`), `lvt_error`, `timer_initial`,
   * `timer_current`, `timer_divide`, `enabled` (global), `software_enabled`, `base`,
   * `apic_base`, `bsp`, `intr`, `extint_pending`, `lint0`, `lint1` (input levels).
   */
  snapshot(): Snapshot {
    const lvt = (i: number) => new RegisterValue(this.#lvt[i], 32, LVT_FIELDS);
    const out: Record<string, Snapshot[string]> = {
      id: this.#id,
      version: new RegisterValue(this.version, 32),
      tpr: new RegisterValue(this.#tpr, 8),
      apr: new RegisterValue(this.#serialBus ? this.#apr() : 0, 8),
      ppr: new RegisterValue(this.#ppr(), 8),
      ldr: new RegisterValue(this.#ldr, 32, LDR_FIELDS),
      dfr: new RegisterValue(this.#dfr, 32, DFR_FIELDS),
      svr: new RegisterValue(this.#svr, 32, SVR_FIELDS),
      esr: new RegisterValue(this.#esr, 32, ESR_FIELDS),
      icr: new RegisterValue(
        (BigInt(this.#icrHigh) << 32n) | BigInt(this.#icrLow),
        64,
        ICR_FIELDS,
      ),
      irr: bits256(this.#irr),
      isr: bits256(this.#isr),
      tmr: bits256(this.#tmr),
      irr_vectors: vectorList(this.#irr),
      isr_vectors: vectorList(this.#isr),
      tmr_vectors: vectorList(this.#tmr),
      lvt_timer: lvt(LVT_TIMER),
      lvt_lint0: lvt(LVT_LINT0),
      lvt_lint1: lvt(LVT_LINT1),
      lvt0: lvt(LVT_LINT0),
      lvt1: lvt(LVT_LINT1),
      lvt_error: lvt(LVT_ERROR),
      timer_initial: this.#timerInitial,
      timer_current: this.#currentCount(),
      timer_divide: new RegisterValue(this.#divide, 32, DIVIDE_FIELDS),
      enabled: this.#globalEnabled,
      software_enabled: this.softwareEnabled,
      base: this.#base,
      apic_base: new RegisterValue(this.apicBase, 64, APIC_BASE_FIELDS),
      bsp: this.bsp,
      intr: this.intrPending,
      extint_pending: this.#globalEnabled && (this.#extIntMessage || this.#lintExtInt()),
      lint0: this.#lint[0],
      lint1: this.#lint[1],
    };
    if (this.#lvtExists(LVT_PERF)) out.lvt_perf = lvt(LVT_PERF);
    if (this.#lvtExists(LVT_THERMAL)) out.lvt_thermal = lvt(LVT_THERMAL);
    return out;
  }
}

/**
 * The MMIO device at the APIC base: every CPU sees its own local APIC at the same address, so
 * accesses are routed by the initiating CPU index. An access from a CPU without an APIC, from
 * outside any CPU (`cpu` -1), or to a globally disabled APIC reads all ones and is traced as
 * unclaimed (the machine normally unmaps a disabled APIC).
 *
 * @example
 * ```ts
 * import { LocalApicBank } from "./lapic.ts";
 * const bank = new LocalApicBank([]); // normally one LocalApic per CPU
 * bank.mmioRead(0x20, 4, 0); // 0xffffffff: no APIC for CPU 0
 * ```
 */
export class LocalApicBank implements MmioDevice {
  /** Name shown in traces. */
  readonly name = "lapic";
  readonly #apics: readonly LocalApic[];
  readonly #trace: Trace | undefined;

  /** Route to `apics[cpu]`. */
  constructor(apics: readonly LocalApic[], options: { trace?: Trace } = {}) {
    this.#apics = apics;
    this.#trace = options.trace;
  }

  #target(cpu: number): LocalApic | undefined {
    const a = cpu >= 0 ? this.#apics[cpu] : undefined;
    return a !== undefined && a.enabled ? a : undefined;
  }

  /** Read from the initiating CPU's APIC. */
  mmioRead(offset: number, size: MmioSize, cpu: number): number | bigint {
    const a = this.#target(cpu);
    if (a !== undefined) return a.mmioRead(offset, size);
    this.#trace?.emit(
      "unclaimed",
      `lapic: read ${formatHex(offset, 12)} from cpu ${cpu}: no enabled local APIC, all ones`,
      cpu,
    );
    return size === 8 ? 0xffffffffffffffffn : size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
  }

  /** Write to the initiating CPU's APIC. */
  mmioWrite(offset: number, size: MmioSize, value: number | bigint, cpu: number): void {
    const a = this.#target(cpu);
    if (a !== undefined) return a.mmioWrite(offset, size, value);
    this.#trace?.emit(
      "unclaimed",
      `lapic: write ${formatHex(offset, 12)} from cpu ${cpu}: no enabled local APIC, dropped`,
      cpu,
    );
  }
}
