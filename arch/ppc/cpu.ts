/**
 * The PowerPC 750 / Gekko CPU interpreter: state, memory access through a software TLB, the
 * run loop, exceptions, the machine pins and snapshots. Instruction semantics are in `exec.ts`,
 * SPR moves in `spr.ts`, address translation in `mmu.ts`.
 *
 * Representation (see `shared/reference/cpu-notes.md` §2): GPRs in an `Int32Array`; CR one
 * int32 updated eagerly by record forms; XER as separate SO/OV/CA bits plus the byte count;
 * LR/CTR/SRR0/SRR1 and the PC as unsigned numbers; BATs and segment registers in
 * `Uint32Array`s; the other SPRs in one `Uint32Array(1024)` indexed by SPR number.
 * Memory is big-endian through `DataView`s over the RAM chunks (fast path) or the bus.
 *
 * Decisions (where the reference leaves room), all documented:
 * - Big-endian only: MSR[LE] and MSR[ILE] are stored (ILE is copied to LE on exceptions as the
 *   architecture says) but accesses stay big-endian.
 * - `run()` counts an exception delivery as one retired instruction (the faulting instruction
 *   and its delivery are one step).
 * - External interrupt: level-sensitive (`setIntr`), taken while the line is high and MSR[EE];
 *   there is no interrupt-acknowledge cycle on the 750 (software reads the PI cause register),
 *   so `env.pins.acknowledge()` is never called.
 * - `nmi()` models the 750's SRESET input (non-maskable soft reset: vector 0x100, SRR0 = the
 *   next instruction, SRR1 = MSR bits, MSR per exception rules). `machineCheck()` models the
 *   MCP input: vector 0x200 with MSR[ME] = 1, checkstop (`shutdown`) otherwise.
 * - `init()` is HRESET (power-on state: MSR = 0x40, PC = 0xFFF00100); `sipi()` does not apply
 *   (single CPU, no startup IPIs) and only leaves a trace event.
 * - "halted": MSR[POW] = 1 with HID0 DOZE, NAP or SLEEP set (MSR[EE] = 0 gives "stopped");
 *   an external interrupt or decrementer (with EE) or SRESET wakes the CPU. `b .` just runs.
 * - The timebase counts at the model's rate (bus / 4) from the virtual clock; DEC counts down at
 *   the same rate and signals its exception when bit 0 goes 0 -> 1 (an event is scheduled on the
 *   virtual clock, the CPU never advances it). Time is `env.clock.now()`, which the machine
 *   advances between run slices (as for the x86 TSC), so TB reads inside one slice see the
 *   slice's start time and a DEC written mid-slice counts from it.
 * - Trace: MSR[SE] traps after every completed instruction except rfi, MSR[BE] after branches
 *   (vector 0xD00, SRR0 = next instruction); the delivery counts with the traced instruction.
 * - Not modelled: floating point and paired singles (opcodes raise FP unavailable with
 *   MSR[FP] = 0 and a program exception (illegal) otherwise), performance
 *   monitor, instruction/data address breakpoints, eciwx/ecowx, caches
 *   (cache instructions only do their architectural memory effects: dcbz zeroes, dcbi/dcbst/dcbf
 *   check translation, icbi drops decoded code), the L2.
 * - Undefined SPRs (including PIR, 1023, which the 750 lacks) raise a program exception
 *   (illegal); privileged SPRs (SPR number bit 4) in user mode raise it (privileged).
 *
 * @example
 * ```ts
 * import { createPpcCpu } from "./cpu.ts";
 * import { createPpcTestEnv } from "./test_env.ts";
 * const env = createPpcTestEnv();
 * env.bus.memory.write32be(0x100, 0x38600005); // li r3,5
 * env.bus.memory.write32be(0x104, 0x48000000); // b .
 * const cpu = createPpcCpu(env, { model: "gekko" });
 * cpu.setPc(0x100);
 * cpu.setMsr(0);
 * cpu.run(2);
 * cpu.getGpr(3); // 5
 * ```
 *
 * @module
 */

import type {
  CpuCore,
  CpuEnvironment,
  CpuFactory,
  CpuModelInfo,
  CpuRunState,
  CpuStopReason,
} from "../../hw/cpu.ts";
import type { PhysicalMemory } from "../../hw/memory.ts";
import type { EventHandle } from "../../hw/clock.ts";
import { RegisterValue, type Snapshot, type SnapshotValue } from "../../hw/fields.ts";
import { type PpcModel, ppcModel } from "./models.ts";
import { FAULT_STORE, translateData, translateFetch } from "./mmu.ts";
import { execute } from "./exec.ts";
import { sprRead, sprWrite } from "./spr.ts";
import { MSR, PPC_ABORT, PROGRAM_ILLEGAL, PROGRAM_PRIVILEGED, VEC } from "./constants.ts";
export * from "./constants.ts";
import {
  BATL_FIELDS,
  BATU_FIELDS,
  CR_FIELDS,
  HID0_FIELDS,
  MSR_FIELDS,
  SDR1_FIELDS,
  SR_FIELDS,
  XER_FIELDS,
} from "./fields.ts";

/** A disassembler for trace messages: returns text such as `mtspr 26,r8`. */
export type PpcDisassembler = (word: number, address: number) => string;

/** Options for {@linkcode createPpcCpu}. */
export interface PpcCpuOptions {
  /** CPU model (an entry of `ppcModels` or its name: `750`, `gekko`, `750cl`). */
  model: PpcModel | string;
  /** Disassembler used to name instructions in program-exception trace messages. */
  disassemble?: PpcDisassembler;
}

const TLB = 256;
const TLB_MASK = TLB - 1;
const CHUNK_MASK = (1 << 20) - 1;
/** The 750's data TLB size here (direct mapped, per access kind). */
const views = new WeakMap<Uint8Array, DataView>();
function viewOf(chunk: Uint8Array): DataView {
  let v = views.get(chunk);
  if (v === undefined) {
    v = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    views.set(chunk, v);
  }
  return v;
}

/** A physical code page of the decoded-instruction cache. */
export interface CodePage {
  /** Instruction words (valid where `ok` is 1). */
  readonly words: Int32Array;
  /** 1 where `words` holds the current word. */
  readonly ok: Uint8Array;
  /** Physical base. */
  readonly base: number;
}

const cpusByMemory = new WeakMap<PhysicalMemory, PpcCpu[]>();

/** SPR names in snapshots and traces (the rest are `spr<n>`). */
export const SPR_NAMES: Readonly<Record<number, string>> = {
  1: "xer",
  8: "lr",
  9: "ctr",
  18: "dsisr",
  19: "dar",
  22: "dec",
  25: "sdr1",
  26: "srr0",
  27: "srr1",
  272: "sprg0",
  273: "sprg1",
  274: "sprg2",
  275: "sprg3",
  282: "ear",
  287: "pvr",
  920: "hid2",
  921: "wpar",
  922: "dmau",
  923: "dmal",
  1008: "hid0",
  1009: "hid1",
  1010: "iabr",
  1011: "hid4",
  1013: "dabr",
  1017: "l2cr",
  1019: "ictc",
  1020: "thrm1",
  1021: "thrm2",
  1022: "thrm3",
};

/**
 * One PowerPC 750-family CPU. Create it with {@linkcode createPpcCpu}.
 *
 * Besides the {@linkcode CpuCore} contract it offers direct state access for the kernel model:
 * `setGpr/getGpr`, `setPc/getPc`, `setMsr/getMsr`, `setCr/getCr`, `setXer/getXer`,
 * `setSpr/getSpr` (by SPR number, no privilege checks), `setSr/getSr`, `setRunState`,
 * `machineCheck`.
 *
 * @example
 * ```ts
 * import { createPpcCpu } from "./cpu.ts";
 * import { createPpcTestEnv } from "./test_env.ts";
 * const cpu = createPpcCpu(createPpcTestEnv(), { model: "750" });
 * cpu.getPc(); // 0xfff00100
 * ```
 */
export class PpcCpu implements CpuCore {
  /** CPU index within the machine. */
  readonly index: number;
  /** The model this CPU implements. */
  readonly model: PpcModel;
  /** Machine environment. */
  readonly env: CpuEnvironment;
  /** Physical memory behind the bus. */
  readonly mem: PhysicalMemory;
  /** Optional disassembler for trace messages. */
  readonly disassemble: PpcDisassembler | undefined;

  // ---- architectural state ----
  /** General purpose registers. */
  gpr: Int32Array = new Int32Array(32);
  /** Address of the next instruction. */
  pc = 0;
  /** Address of the instruction being executed. */
  cia = 0;
  /** Condition register. */
  cr = 0;
  /** XER[SO]. */
  so = 0;
  /** XER[OV]. */
  ov = 0;
  /** XER[CA]. */
  ca = 0;
  /** XER byte count (bits 0-6). */
  xerBc = 0;
  /** Link register. */
  lr = 0;
  /** Count register. */
  ctr = 0;
  /** Machine state register. */
  msr = 0;
  /** SRR0. */
  srr0 = 0;
  /** SRR1. */
  srr1 = 0;
  /** IBAT0U, IBAT0L, ..., IBAT3L. */
  readonly ibat: Uint32Array = new Uint32Array(8);
  /** DBAT0U, DBAT0L, ..., DBAT3L. */
  readonly dbat: Uint32Array = new Uint32Array(8);
  /** Segment registers. */
  readonly sr: Uint32Array = new Uint32Array(16);
  /** SDR1. */
  sdr1 = 0;
  /** Other SPRs by number (DAR, DSISR, SPRGs, HIDs, GQRs, ...). */
  readonly spr: Uint32Array = new Uint32Array(1024);
  /** 1 for SPRs this model implements (read/write), 2 for read-only, 3 for write-only ones. */
  readonly sprValid: Uint8Array = new Uint8Array(1024);
  /** Timebase offset in ticks: TB = ticks(virtual time) + tbOffset. */
  tbOffset = 0;
  /** DEC value last written. */
  decValue = 0;
  /** Timebase ticks (without offset) when DEC was written. */
  decTicks = 0;
  /** Clock event for the next DEC 0 -> 1 transition of bit 0. */
  decEvent: EventHandle | undefined = undefined;
  /** A decrementer exception is pending. */
  decPending = false;
  /** lwarx reservation (physical address of the granule), or -1. */
  reservation: number = -1;

  // ---- translation scratch (mmu.ts) ----
  /** Fault bits of the last failed translation. */
  xlatFault = 0;
  /** WIMG of the last translation. */
  xlatWimg = 0;

  // ---- run state ----
  /** Current run state. */
  runStateValue: CpuRunState = "running";
  /** Why the last run() returned. */
  lastStopValue: CpuStopReason = "budget";
  /** Instructions retired (deliveries count as one). */
  retiredCount = 0;
  /** External interrupt line level. */
  intrLine = false;
  /** SRESET edge latched. */
  sresetPending = false;
  /** requestExit() was called. */
  exitRequested = false;
  /** Something outside the instruction stream needs the run loop's attention. */
  eventPending = false;
  /** Description of the last exception delivered, or empty. */
  lastException = "";
  /** Why the CPU entered checkstop, or empty. */
  shutdownReason = "";

  // ---- data TLB: [0, TLB) reads, [TLB, 2*TLB) writes ----
  /** Effective page numbers (-1 = empty). */
  tTag: Int32Array = new Int32Array(2 * TLB).fill(-1);
  /** Physical page bases. */
  tPhys: Float64Array = new Float64Array(2 * TLB);
  /** DataView of the RAM chunk (null: slow path through the bus). */
  tView: (DataView | null)[] = new Array(2 * TLB).fill(null);
  /** Page offset inside the chunk. */
  tOff: Int32Array = new Int32Array(2 * TLB);
  /** 1 when the entry's page is RAM (a read entry gets its view once the chunk exists). */
  tRam: Uint8Array = new Uint8Array(2 * TLB);

  // ---- instruction fetch ----
  /** Effective page number of the current fetch page, or -1. */
  fVpn: number = -1;
  /** Words of the current fetch page. */
  fWords: Int32Array = new Int32Array(1024);
  /** Valid flags of the current fetch page. */
  fOk: Uint8Array = new Uint8Array(1024);
  /** Physical base of the current fetch page. */
  fPhys = 0;
  /** Decoded code pages by physical page number. */
  codePages: Map<number, CodePage> = new Map();

  /** Create a CPU; prefer {@linkcode createPpcCpu}. */
  constructor(env: CpuEnvironment, options: PpcCpuOptions) {
    this.env = env;
    this.index = env.index;
    this.model = typeof options.model === "string" ? ppcModel(options.model) : options.model;
    this.mem = env.bus.memory;
    this.disassemble = options.disassemble;
    let peers = cpusByMemory.get(this.mem);
    if (peers === undefined) cpusByMemory.set(this.mem, peers = []);
    peers.push(this);
    this.mem.onCodeWrite((page) => this.codeWritten(page));
    const valid = [
      1,
      8,
      9,
      18,
      19,
      22,
      25,
      26,
      27,
      272,
      273,
      274,
      275,
      282,
      284,
      285,
      287,
      ...Array.from({ length: 16 }, (_, i) => 528 + i),
      1008,
      1009,
      1010,
      1013,
      1017,
      1019,
      1020,
      1021,
      1022,
      952,
      953,
      954,
      955,
      956,
      957,
      958,
    ];
    if (this.model.gekkoSprs) valid.push(...Array.from({ length: 12 }, (_, i) => 912 + i));
    if (this.model.hid4) valid.push(1011);
    for (const n of valid) this.sprValid[n] = 1;
    for (const n of [287, 1009, 936, 937, 938, 939, 940, 941, 942, 268, 269]) this.sprValid[n] = 2;
    this.sprValid[284] = this.sprValid[285] = 3;
    this.reset();
  }

  /** Hard reset (HRESET, hardware.md §6.1): MSR = IP, PC = 0xFFF00100, BATs/SRs/SPRs zero. */
  reset(): void {
    this.gpr.fill(0);
    this.cr = 0;
    this.so =
      this.ov =
      this.ca =
      this.xerBc =
        0;
    this.lr =
      this.ctr =
      this.srr0 =
      this.srr1 =
        0;
    this.ibat.fill(0);
    this.dbat.fill(0);
    this.sr.fill(0);
    this.sdr1 = 0;
    this.spr.fill(0);
    this.spr[287] = this.model.pvr;
    this.spr[1008] = this.model.hid0Reset;
    this.spr[1009] = this.model.hid1Reset;
    this.msr = MSR.IP;
    this.pc = 0xfff00100;
    this.tbOffset = -this.ticks();
    this.writeDec(0);
    this.decPending = false;
    this.reservation = -1;
    this.sresetPending = false;
    this.shutdownReason = "";
    this.lastException = "";
    this.runStateValue = "running";
    this.flushTranslation();
    this.eventPending = this.intrLine || this.exitRequested;
  }

  // ---------------------------------------------------------------- time base / DEC

  /** Timebase ticks elapsed at the current virtual time (without the software offset). */
  ticks(): number {
    return ticksAt(this.env.clock.now(), this.model.timebaseHz);
  }

  /** The 64-bit timebase as a number (exact below 2^53). */
  timebase(): number {
    return this.ticks() + this.tbOffset;
  }

  /** Set the timebase (mttbl/mttbu or the kernel model). */
  setTimebase(value: number): void {
    this.tbOffset = value - this.ticks();
  }

  /** Current DEC value (int32). */
  readDec(): number {
    return (this.decValue - (this.ticks() - this.decTicks)) | 0;
  }

  /** Write DEC and schedule the exception for the next bit-0 0 -> 1 transition. */
  writeDec(value: number): void {
    this.decValue = value | 0;
    this.decTicks = this.ticks();
    if (this.decEvent !== undefined) this.env.clock.cancel(this.decEvent);
    this.decEvent = undefined;
    // Ticks until DEC passes from 0 to -1 (for a negative value: after wrapping around).
    const until = this.decValue >= 0 ? this.decValue + 1 : this.decValue + 2 ** 32 + 1;
    this.scheduleDec(this.decTicks + until);
  }

  /** Schedule the DEC transition at absolute tick `tick`. */
  scheduleDec(tick: number): void {
    const at = nsForTick(tick, this.model.timebaseHz);
    this.decEvent = this.env.clock.schedule(at, () => {
      this.decEvent = undefined;
      this.decPending = true;
      this.eventPending = true;
      this.scheduleDec(tick + 2 ** 32);
    });
  }

  // ---------------------------------------------------------------- translation caches

  /** Drop the data TLB and the fetch page (MSR[IR/DR/PR], BAT, SR, SDR1 changes, tlbie). */
  flushTranslation(): void {
    this.tTag.fill(-1);
    this.fVpn = -1;
  }

  /** Set the MSR, flushing translation when IR, DR or PR change; re-arms interrupt checks. */
  writeMsr(value: number): void {
    const old = this.msr;
    this.msr = value >>> 0;
    if (((old ^ this.msr) & (MSR.IR | MSR.DR | MSR.PR)) !== 0) this.flushTranslation();
    this.eventPending = true;
    if ((this.msr & MSR.POW) !== 0 && (this.spr[1008] & 0x00e00000) !== 0) {
      this.runStateValue = (this.msr & MSR.EE) !== 0 ? "halted" : "stopped";
    }
  }

  /** Code-write listener: a page holding decoded code was written. */
  codeWritten(page: number): void {
    const cp = this.codePages.get(page);
    if (cp === undefined) return;
    cp.ok.fill(0);
    if (cp.base === this.fPhys) this.fVpn = -1;
  }

  /** icbi: drop decoded code of the physical page holding `pa` on every CPU of this memory. */
  invalidateCode(pa: number): void {
    for (const cpu of cpusByMemory.get(this.mem) ?? [this]) cpu.codeWritten(Math.floor(pa / 4096));
  }

  /** Set up fetching from the page of `pc`; delivers ISI (and throws PPC_ABORT) on a fault. */
  fetchSetup(pc: number): void {
    const pa = translateFetch(this, pc);
    if (pa < 0) this.raise(VEC.isi, pc, this.xlatFault, "ISI");
    const base = pa - (pa & 0xfff);
    if (this.env.bus.classify(base) !== 0) {
      // MMIO or unclaimed: fetch through the bus, nothing cached.
      const words = new Int32Array(1024);
      words[(pc & 0xfff) >>> 2] = this.env.bus.readBE(pa, 4, this.index) | 0;
      const ok = new Uint8Array(1024);
      ok[(pc & 0xfff) >>> 2] = 1;
      this.fWords = words;
      this.fOk = ok;
      this.fPhys = -1;
      this.fVpn = -2; // never matches: the next fetch comes here again
      return;
    }
    const pn = base / 4096;
    let cp = this.codePages.get(pn);
    if (cp === undefined) {
      cp = { words: new Int32Array(1024), ok: new Uint8Array(1024), base };
      this.codePages.set(pn, cp);
    }
    this.fWords = cp.words;
    this.fOk = cp.ok;
    this.fPhys = base;
    this.fVpn = pc >>> 12;
  }

  /** Fill the word at index `idx` of the current fetch page. */
  fetchWord(idx: number): number {
    const base = this.fPhys;
    if (!this.mem.isCode(base)) {
      this.mem.markCode(base);
      // Writes to this page must now go through PhysicalMemory (code-write tracking).
      for (const cpu of cpusByMemory.get(this.mem) ?? [this]) {
        for (let i = TLB; i < 2 * TLB; i++) if (cpu.tPhys[i] === base) cpu.tTag[i] = -1;
      }
    }
    const w = this.mem.read32be(base + idx * 4) | 0;
    this.fWords[idx] = w;
    this.fOk[idx] = 1;
    return w;
  }

  // ---------------------------------------------------------------- data access

  /** Fill the TLB entry for `ea` (kind 0 read, 1 write); returns its index or delivers DSI. */
  tlbFill(ea: number, write: boolean): number {
    const pa = translateData(this, ea, write);
    if (pa < 0) this.dsi(ea, this.xlatFault | (write ? FAULT_STORE : 0));
    const base = pa - (pa & 0xfff);
    const vpn = ea >>> 12;
    const i = (write ? TLB : 0) + (vpn & TLB_MASK);
    this.tTag[i] = vpn;
    this.tPhys[i] = base;
    let view: DataView | null = null;
    const ram = this.env.bus.classify(base) === 0 && base < this.mem.addressSpace;
    this.tRam[i] = ram ? 1 : 0;
    if (ram) {
      if (write) {
        if (!this.mem.isCode(base)) view = viewOf(this.mem.chunk(base, true));
      } else if (this.mem.isAllocated(base)) view = viewOf(this.mem.chunk(base, false));
    }
    this.tView[i] = view;
    this.tOff[i] = base & CHUNK_MASK;
    return i;
  }

  /** Physical address of `ea` for an access (TLB, may deliver DSI). */
  physOf(ea: number, write: boolean): number {
    const vpn = ea >>> 12;
    let i = (write ? TLB : 0) + (vpn & TLB_MASK);
    if (this.tTag[i] !== vpn) i = this.tlbFill(ea, write);
    else if (!write && this.tRam[i] === 1 && this.tView[i] === null) {
      // RAM read entry filled before the chunk existed: take the fast path from now on.
      if (this.mem.isAllocated(this.tPhys[i])) {
        this.tView[i] = viewOf(this.mem.chunk(this.tPhys[i], false));
      }
    }
    return this.tPhys[i] + (ea & 0xfff);
  }

  /** Load 8 bits (unsigned). */
  rd8(ea: number): number {
    const vpn = ea >>> 12;
    const i = vpn & TLB_MASK;
    if (this.tTag[i] === vpn) {
      const v = this.tView[i];
      if (v !== null) return v.getUint8(this.tOff[i] + (ea & 0xfff));
    }
    return this.busRead(this.physOf(ea, false), 1);
  }

  /** Load 16 bits (unsigned, big-endian). */
  rd16(ea: number): number {
    const vpn = ea >>> 12;
    const i = vpn & TLB_MASK;
    if (this.tTag[i] === vpn && (ea & 0xfff) <= 0xffe) {
      const v = this.tView[i];
      if (v !== null) return v.getUint16(this.tOff[i] + (ea & 0xfff));
    }
    if ((ea & 0xfff) === 0xfff) return (this.rd8(ea) << 8) | this.rd8((ea + 1) >>> 0);
    return this.busRead(this.physOf(ea, false), 2);
  }

  /** Load 32 bits (int32, big-endian). */
  rd32(ea: number): number {
    const vpn = ea >>> 12;
    const i = vpn & TLB_MASK;
    if (this.tTag[i] === vpn && (ea & 0xfff) <= 0xffc) {
      const v = this.tView[i];
      if (v !== null) return v.getInt32(this.tOff[i] + (ea & 0xfff));
    }
    if ((ea & 0xfff) > 0xffc) {
      let r = 0;
      for (let k = 0; k < 4; k++) r = (r << 8) | this.rd8((ea + k) >>> 0);
      return r;
    }
    return this.busRead(this.physOf(ea, false), 4) | 0;
  }

  /** Store 8 bits. */
  wr8(ea: number, value: number): void {
    const vpn = ea >>> 12;
    const i = TLB + (vpn & TLB_MASK);
    if (this.tTag[i] === vpn) {
      const v = this.tView[i];
      if (v !== null) return v.setUint8(this.tOff[i] + (ea & 0xfff), value);
    }
    this.busWrite(this.physOf(ea, true), 1, value & 0xff);
  }

  /** Store 16 bits (big-endian). */
  wr16(ea: number, value: number): void {
    const vpn = ea >>> 12;
    const i = TLB + (vpn & TLB_MASK);
    if (this.tTag[i] === vpn && (ea & 0xfff) <= 0xffe) {
      const v = this.tView[i];
      if (v !== null) return v.setUint16(this.tOff[i] + (ea & 0xfff), value);
    }
    if ((ea & 0xfff) === 0xfff) {
      this.physOf(ea, true);
      this.physOf((ea + 1) >>> 0, true); // both pages checked before either byte is written
      this.wr8(ea, value >>> 8);
      return this.wr8((ea + 1) >>> 0, value);
    }
    this.busWrite(this.physOf(ea, true), 2, value & 0xffff);
  }

  /** Store 32 bits (big-endian). */
  wr32(ea: number, value: number): void {
    const vpn = ea >>> 12;
    const i = TLB + (vpn & TLB_MASK);
    if (this.tTag[i] === vpn && (ea & 0xfff) <= 0xffc) {
      const v = this.tView[i];
      if (v !== null) return v.setInt32(this.tOff[i] + (ea & 0xfff), value);
    }
    if ((ea & 0xfff) > 0xffc) {
      this.physOf(ea, true);
      this.physOf((ea + 3) >>> 0, true);
      for (let k = 0; k < 4; k++) this.wr8((ea + k) >>> 0, value >>> (24 - 8 * k));
      return;
    }
    this.busWrite(this.physOf(ea, true), 4, value);
  }

  /** Physical read through the bus (MMIO, unclaimed, untouched or code RAM). */
  busRead(pa: number, size: 1 | 2 | 4): number {
    if (pa >= this.mem.addressSpace) return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    return this.env.bus.readBE(pa, size, this.index);
  }

  /** Physical write through the bus. */
  busWrite(pa: number, size: 1 | 2 | 4, value: number): void {
    if (pa >= this.mem.addressSpace) return;
    this.env.bus.writeBE(pa, size, size === 4 ? value >>> 0 : value, this.index);
  }

  /** Page-table word read (mmu.ts). */
  physRead32(pa: number): number {
    return this.busRead(pa, 4) >>> 0;
  }

  /** Page-table word write (mmu.ts). */
  physWrite32(pa: number, value: number): void {
    this.busWrite(pa, 4, value);
  }

  // ---------------------------------------------------------------- exceptions

  /** Deliver an exception now (hardware.md §6.3); `restart` goes to SRR0. */
  deliver(vector: number, restart: number, srr1Bits: number, name: string): void {
    const msr = this.msr;
    this.srr0 = restart >>> 0;
    this.srr1 = ((msr & 0x87c0ffff) | srr1Bits) >>> 0;
    let clear = 0x0004ef36;
    if (vector === VEC.machineCheck) clear |= MSR.ME;
    let nm = msr & ~clear;
    nm = (nm & ~MSR.LE) | ((msr & MSR.ILE) !== 0 ? MSR.LE : 0);
    this.writeMsr(nm >>> 0);
    this.pc = (((msr & MSR.IP) !== 0 ? 0xfff00000 : 0) + vector) >>> 0;
    this.fVpn = -1;
    this.runStateValue = "running";
    this.lastException = `${name} at ${hex(restart)}`;
    this.env.trace.emit(
      "exception",
      `${name} (vector 0x${vector.toString(16)}): srr0=${hex(this.srr0)} srr1=${hex(this.srr1)}`,
      this.index,
    );
  }

  /** Deliver an exception for the current instruction and abandon it (throws PPC_ABORT). */
  raise(vector: number, restart: number, srr1Bits: number, name: string): never {
    this.deliver(vector, restart, srr1Bits, name);
    throw PPC_ABORT;
  }

  /** Data storage interrupt for `ea` with DSISR `dsisr`. */
  dsi(ea: number, dsisr: number): never {
    this.spr[19] = ea >>> 0;
    this.spr[18] = dsisr >>> 0;
    return this.raise(VEC.dsi, this.cia, 0, `DSI dar=${hex(ea)} dsisr=${hex(dsisr)}`);
  }

  /** Alignment exception for instruction word `w` at `ea` (DSISR encodes the instruction). */
  alignment(w: number, ea: number): never {
    const primary = w >>> 26;
    let dsisr: number;
    if (primary === 31) {
      dsisr = (((w >>> 1) & 3) << 15) | (((w >>> 6) & 1) << 14) | (((w >>> 7) & 0xf) << 10);
    } else {
      dsisr = (((w >>> 26) & 1) << 14) | (((w >>> 27) & 0xf) << 10);
    }
    dsisr |= (((w >>> 21) & 0x1f) << 5) | ((w >>> 16) & 0x1f);
    this.spr[19] = ea >>> 0;
    this.spr[18] = dsisr;
    return this.raise(VEC.alignment, this.cia, 0, `alignment dar=${hex(ea)}`);
  }

  /** Program exception (illegal instruction), naming the word in the trace. */
  illegal(w: number, note = ""): never {
    let text = `.long 0x${(w >>> 0).toString(16).padStart(8, "0")}`;
    if (this.disassemble !== undefined) {
      try {
        text = this.disassemble(w >>> 0, this.cia);
      } catch {
        // keep the hex word
      }
    }
    this.env.trace.emit(
      "exception",
      `illegal instruction at ${hex(this.cia)}: ${text}${note ? ` (${note})` : ""}`,
      this.index,
    );
    return this.raise(VEC.program, this.cia, PROGRAM_ILLEGAL, "program (illegal)");
  }

  /** Program exception (privileged) when in user mode. */
  privileged(): void {
    if ((this.msr & MSR.PR) !== 0) {
      this.raise(VEC.program, this.cia, PROGRAM_PRIVILEGED, "program (privileged)");
    }
  }

  /** Floating-point opcode: FP unavailable with MSR[FP] = 0, else illegal (FP not modelled). */
  floatingPoint(w: number): never {
    if ((this.msr & MSR.FP) === 0) {
      return this.raise(VEC.fpUnavailable, this.cia, 0, "FP unavailable");
    }
    return this.illegal(w, "floating point is not modelled");
  }

  /**
   * Trace exception (0xD00) after an instruction that completed with MSR[SE] (any instruction
   * but rfi) or MSR[BE] (branches); SRR0 = the next instruction. Counted with the instruction.
   */
  trace(w: number): void {
    if (w === 0x4c000064) return;
    const op = w >>> 26, xo = (w >>> 1) & 0x3ff;
    const branch = op === 16 || op === 18 || (op === 19 && (xo === 16 || xo === 528));
    if ((this.msr & MSR.SE) !== 0 || branch) this.deliver(0xd00, this.pc, 0, "trace");
  }

  /** Machine check input (MCP): vector 0x200 with MSR[ME], checkstop otherwise. */
  machineCheck(): void {
    if ((this.msr & MSR.ME) === 0) {
      this.runStateValue = "shutdown";
      this.shutdownReason = "machine check with MSR[ME] = 0 (checkstop)";
      this.env.trace.emit("exception", `checkstop: ${this.shutdownReason}`, this.index);
      return;
    }
    this.deliver(VEC.machineCheck, this.pc, 0, "machine check");
  }

  // ---------------------------------------------------------------- run loop

  /** Current run state. */
  get runState(): CpuRunState {
    return this.runStateValue;
  }

  /** Why the last run() returned. */
  get lastStop(): CpuStopReason {
    return this.lastStopValue;
  }

  /** Instructions retired since reset (exception deliveries count as one). */
  get retired(): number {
    return this.retiredCount;
  }

  /** Take pending asynchronous exceptions; returns true when run() must return. */
  serviceEvents(): boolean {
    if (this.exitRequested) {
      this.exitRequested = false;
      this.lastStopValue = "exit-requested";
      this.eventPending = true;
      return true;
    }
    if (this.sresetPending) {
      this.sresetPending = false;
      this.retiredCount++;
      this.deliver(VEC.systemReset, this.pc, 0, "system reset (SRESET)");
    } else if ((this.msr & MSR.EE) !== 0) {
      if (this.intrLine) {
        this.retiredCount++;
        this.deliver(VEC.external, this.pc, 0, "external interrupt");
      } else if (this.decPending) {
        this.decPending = false;
        this.retiredCount++;
        this.deliver(VEC.decrementer, this.pc, 0, "decrementer");
      }
    }
    this.eventPending = this.sresetPending ||
      ((this.intrLine || this.decPending) && (this.msr & MSR.EE) !== 0);
    return false;
  }

  /** Execute up to `budget` instructions; see {@linkcode CpuCore.run}. */
  run(budget: number): number {
    const start = this.retiredCount;
    const end = start + Math.max(0, Math.floor(budget));
    this.lastStopValue = "budget";
    this.exitRequested = false;
    this.eventPending = true;
    while (this.retiredCount < end) {
      const st = this.runStateValue;
      if (st !== "running") {
        const wake = st !== "shutdown" && (this.sresetPending ||
          (st === "halted" && (this.msr & MSR.EE) !== 0 && (this.intrLine || this.decPending)));
        if (!wake) {
          this.lastStopValue = st;
          break;
        }
      }
      try {
        if (this.runInner(end)) break;
      } catch (e) {
        if (e !== PPC_ABORT) throw e;
        this.retiredCount++;
      }
    }
    return this.retiredCount - start;
  }

  /** The hot loop (no try/catch): returns true on an exit request. */
  runInner(end: number): boolean {
    let n = this.retiredCount;
    while (n < end) {
      if (this.eventPending) {
        if (this.serviceEvents()) return true;
        n = this.retiredCount;
        if (n >= end) break;
      }
      const pc = this.pc;
      if (pc >>> 12 !== this.fVpn) this.fetchSetup(pc);
      const idx = (pc & 0xfff) >>> 2;
      const w = this.fOk[idx] === 1 ? this.fWords[idx] : this.fetchWord(idx);
      this.cia = pc;
      this.pc = (pc + 4) >>> 0;
      execute(this, w);
      if ((this.msr & 0x600) !== 0) this.trace(w);
      this.retiredCount = ++n;
      if (this.runStateValue !== "running") break;
    }
    return false;
  }

  /** Ask run() to return at the next instruction boundary. */
  requestExit(): void {
    this.exitRequested = true;
    this.eventPending = true;
  }

  /** Set the external interrupt input (INT, level-sensitive; the PI drives it on a GameCube). */
  setIntr(level: boolean): void {
    this.intrLine = level;
    if (level) this.eventPending = true;
  }

  /** SRESET (soft reset) edge: the non-maskable system reset exception. */
  nmi(): void {
    this.sresetPending = true;
    this.eventPending = true;
  }

  /** HRESET: the power-on state (the 750 has no INIT/SIPI protocol). */
  init(): void {
    this.reset();
    this.env.trace.emit("cpu", "HRESET -> running at 0xfff00100", this.index);
  }

  /** Startup IPIs do not exist on the 750: ignored (trace event only). */
  sipi(vector: number): void {
    this.env.trace.emit(
      "cpu",
      `SIPI vector 0x${(vector & 0xff).toString(16)} ignored: PowerPC has no startup IPI`,
      this.index,
    );
  }

  // ---------------------------------------------------------------- direct state access

  /** Set general register `index` (0..31). */
  setGpr(index: number, value: number): void {
    checkIndex(index, 32, "general register");
    this.gpr[index] = value | 0;
  }

  /** General register `index` as an unsigned number. */
  getGpr(index: number): number {
    checkIndex(index, 32, "general register");
    return this.gpr[index] >>> 0;
  }

  /** Set the address of the next instruction (low two bits ignored). */
  setPc(value: number): void {
    this.pc = (value & ~3) >>> 0;
    this.fVpn = -1;
  }

  /** Address of the next instruction. */
  getPc(): number {
    return this.pc;
  }

  /** Set the MSR (translation caches follow; POW with HID0 doze/nap/sleep halts). */
  setMsr(value: number): void {
    this.writeMsr(value >>> 0);
  }

  /** The MSR. */
  getMsr(): number {
    return this.msr >>> 0;
  }

  /** Set the condition register. */
  setCr(value: number): void {
    this.cr = value | 0;
  }

  /** The condition register. */
  getCr(): number {
    return this.cr >>> 0;
  }

  /** Set XER (SO, OV, CA, byte count). */
  setXer(value: number): void {
    this.so = (value >>> 31) & 1;
    this.ov = (value >>> 30) & 1;
    this.ca = (value >>> 29) & 1;
    this.xerBc = value & 0x7f;
  }

  /** XER. */
  getXer(): number {
    return ((this.so << 31) | (this.ov << 30) | (this.ca << 29) | this.xerBc) >>> 0;
  }

  /** Set segment register `index` (0..15). */
  setSr(index: number, value: number): void {
    checkIndex(index, 16, "segment register");
    this.sr[index] = value >>> 0;
    this.flushTranslation();
  }

  /** Segment register `index`. */
  getSr(index: number): number {
    checkIndex(index, 16, "segment register");
    return this.sr[index];
  }

  /**
   * Write SPR `n` as mtspr would in supervisor mode (side effects included: BAT/SDR1 writes flush
   * translation, DEC reschedules, TBL/TBU set the timebase); throws `RangeError` for an SPR the
   * model does not implement or that is read-only.
   */
  setSpr(n: number, value: number): void {
    if (!sprWrite(this, n, value >>> 0)) {
      throw new RangeError(`SPR ${n} cannot be written on the PowerPC ${this.model.name}`);
    }
  }

  /** Read SPR `n` as mfspr would in supervisor mode; throws `RangeError` for an unknown SPR. */
  getSpr(n: number): number {
    const v = sprRead(this, n);
    if (v === undefined) {
      throw new RangeError(`SPR ${n} does not exist on the PowerPC ${this.model.name}`);
    }
    return v >>> 0;
  }

  /** Set the run state directly (e.g. "halted" for a parked CPU). */
  setRunState(state: CpuRunState): void {
    this.runStateValue = state;
    this.eventPending = true;
  }

  /** State for expectations and traces. */
  snapshot(): Snapshot {
    const out: Record<string, SnapshotValue> = {
      state: this.runStateValue,
      retired: this.retiredCount,
    };
    for (let i = 0; i < 32; i++) out[`r${i}`] = new RegisterValue(this.gpr[i] >>> 0, 32);
    out.pc = new RegisterValue(this.pc, 32);
    out.nia = new RegisterValue(this.pc, 32);
    out.msr = new RegisterValue(this.msr >>> 0, 32, MSR_FIELDS);
    out.cr = new RegisterValue(this.cr >>> 0, 32, CR_FIELDS);
    out.xer = new RegisterValue(this.getXer(), 32, XER_FIELDS);
    out.lr = new RegisterValue(this.lr >>> 0, 32);
    out.ctr = new RegisterValue(this.ctr >>> 0, 32);
    out.srr0 = new RegisterValue(this.srr0 >>> 0, 32);
    out.srr1 = new RegisterValue(this.srr1 >>> 0, 32, MSR_FIELDS);
    out.dar = new RegisterValue(this.spr[19], 32);
    out.dsisr = new RegisterValue(this.spr[18], 32);
    out.dec = new RegisterValue(this.readDec() >>> 0, 32);
    const tb = this.timebase();
    out.tb = new RegisterValue(BigInt(Math.max(0, Math.floor(tb))), 64);
    for (let i = 0; i < 4; i++) out[`sprg${i}`] = new RegisterValue(this.spr[272 + i], 32);
    out.hid0 = new RegisterValue(this.spr[1008], 32, HID0_FIELDS);
    out.hid1 = new RegisterValue(this.spr[1009], 32);
    if (this.model.gekkoSprs) {
      out.hid2 = new RegisterValue(this.spr[920], 32);
      for (let i = 0; i < 8; i++) out[`gqr${i}`] = new RegisterValue(this.spr[912 + i], 32);
    }
    if (this.model.hid4) out.hid4 = new RegisterValue(this.spr[1011], 32);
    out.pvr = new RegisterValue(this.spr[287], 32);
    out.sdr1 = new RegisterValue(this.sdr1, 32, SDR1_FIELDS);
    for (const [name, bats] of [["ibat", this.ibat], ["dbat", this.dbat]] as const) {
      for (let i = 0; i < 4; i++) {
        out[`${name}${i}u`] = new RegisterValue(bats[2 * i], 32, BATU_FIELDS);
        out[`${name}${i}l`] = new RegisterValue(bats[2 * i + 1], 32, BATL_FIELDS);
      }
    }
    out.sr = Array.from(this.sr, (v) => new RegisterValue(v, 32, SR_FIELDS));
    out.reservation = this.reservation >= 0;
    if (this.lastException) out.last_exception = this.lastException;
    if (this.shutdownReason) out.shutdown_reason = this.shutdownReason;
    return out;
  }
}

/** `0x` + 8 hex digits. */
function hex(v: number): string {
  return "0x" + (v >>> 0).toString(16).padStart(8, "0");
}

function checkIndex(i: number, n: number, what: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new RangeError(`Invalid ${what} index: ${i} (expected 0..${n - 1})`);
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Timebase ticks at virtual time `ns` for a `hz` timebase (exact integer arithmetic). */
export function ticksAt(ns: number, hz: number): number {
  const g = gcd(hz, 1e9);
  const num = hz / g, den = 1e9 / g;
  const t = Math.floor(ns);
  return Math.floor(t / den) * num + Math.floor(((t % den) * num) / den);
}

/** The first virtual time (ns) at which the timebase has counted `tick` ticks. */
export function nsForTick(tick: number, hz: number): number {
  const g = gcd(hz, 1e9);
  const num = hz / g, den = 1e9 / g;
  const q = Math.floor(tick / num);
  const r = tick - q * num; // tick = q*num + r
  return q * den + Math.ceil((r * den) / num);
}

/**
 * Create a PowerPC CPU for a machine.
 *
 * @example
 * ```ts
 * import { createPpcCpu } from "./cpu.ts";
 * import { createPpcTestEnv } from "./test_env.ts";
 * const cpu = createPpcCpu(createPpcTestEnv(), { model: "gekko" });
 * cpu.getSpr(287).toString(16); // "83214"
 * ```
 */
export function createPpcCpu(env: CpuEnvironment, options: PpcCpuOptions): PpcCpu {
  return new PpcCpu(env, options);
}

/**
 * A machine-facing factory and model facts for a model name; throws `RangeError` for an unknown
 * name.
 *
 * @example
 * ```ts
 * import { ppcCpuFactory } from "./cpu.ts";
 * const { info } = ppcCpuFactory("gekko");
 * info.arch; // "ppc"
 * ```
 */
export function ppcCpuFactory(
  modelName: string,
  options: { disassemble?: PpcDisassembler } = {},
): { factory: CpuFactory; info: CpuModelInfo } {
  const model = ppcModel(modelName);
  return {
    factory: (env) => new PpcCpu(env, { model, disassemble: options.disassemble }),
    info: model.info,
  };
}
