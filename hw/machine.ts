/**
 * The PC machine: CPUs, sparse physical memory, the buses, the interrupt hardware wired as the
 * board says, the firmware state, virtual time and the run loop.
 *
 * **Interrupt wiring.** ISA IRQ lines ({@linkcode Machine.setIrq}) feed the 8259 pair (slave on
 * master IR2) and, when the board has one, the IOAPIC pins (IRQ n -> pin n, IRQ0 -> pin 2 as the
 * MP tables of the era say; IRQ2 is the cascade and reaches no pin). The master 8259's INT output
 * goes, per {@linkcode PicOutput}: straight to the BSP's INTR (`intr`); through the IMCR (`imcr`:
 * LINT0 of every local APIC always, plus the BSP's INTR pin, bypassing its local APIC, in PIC
 * mode, MP spec §5); to
 * LINT0 of every local APIC (`lint0`, virtual wire A, the MP default configuration); or to an
 * IOAPIC pin (`ioapic`, virtual wire B: software programs that pin ExtINT). NMI
 * ({@linkcode Machine.nmi}) goes to the BSP's NMI pin in `intr` mode, to LINT1 of every local APIC
 * otherwise, and on IMCR boards in PIC mode to both. A CPU's INTA ({@linkcode CpuPins.acknowledge}) goes to the 8259
 * when its INTR was driven straight by the 8259, otherwise to its local APIC (which runs the 8259
 * INTA itself for ExtINT, or when globally disabled, where LINT0 is the INTR pin).
 *
 * **Time.** Virtual time is `instructions x ns_per_instruction` plus skipped idle time. CPUs run
 * one after the other in slices of at most `quantum` instructions (round robin by index), so
 * time advances with every instruction retired on any CPU: N busy CPUs share the virtual time.
 * A slice also ends before the next clock event is due, and every device access (I/O port or
 * physical bus) first brings the clock to the exact time of the accessing instruction
 * (`slice start + retired in slice x ns`), so PIT and LAPIC timer reads are exact and every
 * event fires on an instruction boundary. When a device access schedules an event earlier than
 * the slice end, the CPU is asked to leave `run()` at the next instruction. When every CPU is
 * halted, stopped or waiting for SIPI, time skips to the next clock event. All of this depends
 * only on instruction counts, so runs are deterministic.
 *
 * **Run conditions** ({@linkcode RunUntil}): `halt` ends when the BSP is halted or stopped at the
 * end of one of its slices (even if an interrupt could wake it later: use `exit` to wait in a
 * HLT loop); `all-halted` when no CPU is running; `exit` when the guest writes port 0xF4; any run
 * ends with `exit` on a 0xF4 write, with `shutdown` when a CPU triple-faults, with `all-halted`
 * when every CPU sleeps and no clock event is pending, and with `budget` after `maxInstructions`.
 * The budget also bounds virtual time: skipped idle time counts as the instructions that could
 * have run in it (`idle ns / ns_per_instruction`), so a guest asleep forever under a periodic
 * timer ends with `budget` too.
 *
 * @module
 */

import { ApicBus } from "./apic_bus.ts";
import { VirtualClock } from "./clock.ts";
import type { CpuCore, CpuEnvironment, CpuFactory, CpuModelInfo } from "./cpu.ts";
import { DebugPort } from "./debug_port.ts";
import type { Snapshot, SnapshotValue } from "./fields.ts";
import { formatHex } from "./fields.ts";
import {
  BIOS_ROM_BASE,
  BIOS_ROM_HIGH,
  BIOS_ROM_SIZE,
  BOOTSECTOR_ADDR,
  type MpConfig,
  programPostDevices,
  writeBiosRom,
  writeE820Copy,
  writeMpTables,
} from "./firmware.ts";
import { I8259Pair } from "./i8259.ts";
import { Imcr } from "./imcr.ts";
import { IoBus, type IoSize } from "./io_bus.ts";
import { IoApic } from "./ioapic.ts";
import { LocalApic, LocalApicBank } from "./lapic.ts";
import { PhysicalMemory } from "./memory.ts";
import {
  type E820ReserveOptions,
  e820ReserveResources,
  type MemoryMap,
  ResourceTree,
} from "./memory_map.ts";
import { MmioBus, type MmioSize } from "./mmio_bus.ts";
import { Pit8254 } from "./pit.ts";
import { Trace } from "./trace.ts";

/** Where the master 8259's INT output goes. */
export type PicOutput = "intr" | "imcr" | "lint0" | "ioapic";

/** When {@linkcode Machine.run} stops (besides exit, shutdown and the budget). */
export type RunUntil = "halt" | "all-halted" | "exit" | "shutdown" | "budget";

/** Why {@linkcode Machine.run} returned. */
export type RunReason = "halted" | "all-halted" | "exit" | "shutdown" | "budget";

/** Result of {@linkcode Machine.run}. */
export interface RunResult {
  /** Why the run ended. */
  reason: RunReason;
  /** Instructions retired (all CPUs) during this run. */
  instructions: number;
  /** Virtual time (ns) at the end of the run. */
  time: number;
  /** The value written to port 0xF4, when the run ended with `exit`. */
  exitCode?: number;
}

/** Options for {@linkcode Machine.run}. */
export interface RunOptions {
  /** Stop condition. */
  until: RunUntil;
  /** Instruction budget for this run (all CPUs together). */
  maxInstructions: number;
}

/** Everything a {@linkcode Machine} is built from (resolved and validated by `planMachine`). */
export interface MachinePlan {
  /** The scenario's machine section, as given. */
  readonly config: import("./platforms.ts").MachineConfig;
  /** Board name. */
  readonly board: string;
  /** CPU model and factory. */
  readonly cpu: { factory: CpuFactory; info: CpuModelInfo };
  /** APIC ID of each CPU (the length is the CPU count). */
  readonly apicIds: readonly number[];
  /** The e820 map. */
  readonly memoryMap: MemoryMap;
  /** CPUs get local APICs. */
  readonly localApic: boolean;
  /** The IOAPIC, if any. */
  readonly ioapic?: { id: number; pins: number; base: number };
  /** The board has an IMCR. */
  readonly imcr: boolean;
  /** The chipset has an ELCR. */
  readonly elcr: boolean;
  /** Route of the 8259 INT. */
  readonly picOutput: PicOutput;
  /** IOAPIC pin of the 8259 INT when `picOutput` is `ioapic`. */
  readonly extintPin: number;
  /** MP table the BIOS writes, if any. */
  readonly mp?: MpConfig;
  /** Virtual ns per instruction. */
  readonly nsPerInstruction: number;
  /** Instructions per CPU slice. */
  readonly quantum: number;
}

/**
 * A bad argument to a machine method (boot sector too large, IRQ out of range...).
 *
 * @example
 * ```ts
 * import { MachineError } from "./machine.ts";
 * new MachineError("Boot sector must be 1 to 512 bytes: got 513 bytes") instanceof RangeError; // true
 * ```
 */
export class MachineError extends RangeError {
  /** Create the error. */
  constructor(message: string) {
    super(message);
    this.name = "MachineError";
  }
}

const RUN_UNTIL: readonly RunUntil[] = ["halt", "all-halted", "exit", "shutdown", "budget"];

/** Hooks the machine's buses call around every access (time sync). */
interface AccessHooks {
  before(): void;
  after(): void;
}

/** The I/O bus with clock synchronization around each access. */
class SyncedIoBus extends IoBus {
  readonly #hooks: AccessHooks;
  constructor(options: { trace: Trace; hooks: AccessHooks }) {
    super({ trace: options.trace });
    this.#hooks = options.hooks;
  }
  override read(port: number, size: IoSize): number {
    this.#hooks.before();
    const v = super.read(port, size);
    this.#hooks.after();
    return v;
  }
  override write(port: number, size: IoSize, value: number): void {
    this.#hooks.before();
    super.write(port, size, value);
    this.#hooks.after();
  }
}

/** The physical bus with clock synchronization around each access. */
class SyncedMmioBus extends MmioBus {
  readonly #hooks: AccessHooks;
  constructor(options: { memory: PhysicalMemory; trace: Trace; hooks: AccessHooks }) {
    super({ memory: options.memory, trace: options.trace });
    this.#hooks = options.hooks;
  }
  override read(addr: number, size: MmioSize, cpu: number): number | bigint {
    this.#hooks.before();
    const v = super.read(addr, size, cpu);
    this.#hooks.after();
    return v;
  }
  override write(addr: number, size: MmioSize, value: number | bigint, cpu: number): void {
    this.#hooks.before();
    super.write(addr, size, value, cpu);
    this.#hooks.after();
  }
}

function mergeRanges(ranges: [number, number][]): [number, number][] {
  const sorted = ranges.filter(([, e]) => e > 0).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [b, e] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && b <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([b, e]);
  }
  return out;
}

/**
 * A PC: see the module documentation for wiring, time and run conditions. Build one with
 * `buildMachine` (hw/platforms.ts).
 *
 * @example
 * ```ts ignore
 * import { buildMachine } from "./platforms.ts";
 * import { x86CpuFactory } from "../arch/x86/cpu.ts";
 * const m = buildMachine({ board: "pc-legacy" }, { cpu: x86CpuFactory("i486") });
 * m.loadBootsector(bootBytes);
 * m.run({ until: "exit", maxInstructions: 1_000_000 });
 * m.console; // what the guest wrote to port 0xE9
 * ```
 */
export class Machine {
  /** The scenario's machine section. */
  readonly config: import("./platforms.ts").MachineConfig;
  /** Board name. */
  readonly board: string;
  /** Guest physical memory (sized by MAXPHYADDR, sparse). */
  readonly memory: PhysicalMemory;
  /** Physical address bus. */
  readonly bus: MmioBus;
  /** I/O port bus. */
  readonly io: IoBus;
  /** Shared trace. */
  readonly trace: Trace;
  /** Virtual clock. */
  readonly clock: VirtualClock;
  /** CPU cores by index (0 = BSP). */
  readonly cpus: readonly CpuCore[];
  /** The CPU model. */
  readonly cpuModel: CpuModelInfo;
  /** Byte order of the machine. */
  readonly endianness: "little" | "big" = "little";
  /** The e820 map the firmware reports. */
  readonly memoryMap: MemoryMap;
  /** The MP table the BIOS wrote (undefined when none). */
  readonly mpConfig: MpConfig | undefined;
  /** Route of the 8259 INT output. */
  readonly picOutput: PicOutput;
  /** APIC ID of each CPU. */
  readonly apicIds: readonly number[];
  /** Virtual nanoseconds per retired instruction. */
  readonly nsPerInstruction: number;
  /** Instructions per CPU slice. */
  readonly quantum: number;

  /** The 8259 pair. */
  readonly pic: I8259Pair;
  /** The IMCR, on boards that have one. */
  readonly imcr: Imcr | undefined;
  /** The 8254 PIT (and port 0x61). */
  readonly pit: Pit8254;
  /** Debug console (0xE9) and exit (0xF4) ports. */
  readonly debugPort: DebugPort;
  /** The APIC bus, on boards with local APICs. */
  readonly apicBus: ApicBus | undefined;
  /** Local APIC of each CPU (empty without APICs). */
  readonly lapics: readonly LocalApic[];
  /** The IOAPIC, if any. */
  readonly ioapic: IoApic | undefined;

  readonly #plan: MachinePlan;
  readonly #picDirect: boolean[];
  readonly #apicIntr: boolean[];
  #lapicBanks: { base: number; bank: LocalApicBank }[] = [];
  #picLevel = false;

  // Run-loop state.
  #retiredBefore = 0; // machine-wide instructions retired before the current slice
  #sliceCpu = -1;
  #sliceStartRetired = 0;
  #sliceStartTime = 0;
  #sliceEventLimit = Infinity; // events before this were not known when the slice started
  #exitCode: number | undefined;
  #exitPending = false;
  #nextCpu = 0;

  /** Build the machine from a validated plan and apply the firmware state. */
  constructor(plan: MachinePlan, options: { trace?: Trace } = {}) {
    this.#plan = plan;
    this.config = plan.config;
    this.board = plan.board;
    this.trace = options.trace ?? new Trace();
    this.clock = new VirtualClock();
    this.cpuModel = plan.cpu.info;
    this.memoryMap = plan.memoryMap;
    this.mpConfig = plan.mp;
    this.picOutput = plan.picOutput;
    this.apicIds = plan.apicIds;
    this.nsPerInstruction = plan.nsPerInstruction;
    this.quantum = plan.quantum;
    const count = plan.apicIds.length;
    this.#picDirect = new Array(count).fill(false);
    this.#apicIntr = new Array(count).fill(false);

    this.trace.now = () => this.now();
    this.trace.instructions = () => this.instructions;
    this.trace.currentCpu = -1;

    const hooks: AccessHooks = { before: () => this.#sync(), after: () => this.#checkEvents() };
    this.memory = new PhysicalMemory({ addressSpace: 2 ** plan.cpu.info.maxPhysAddr });
    this.bus = new SyncedMmioBus({ memory: this.memory, trace: this.trace, hooks });
    this.io = new SyncedIoBus({ trace: this.trace, hooks });
    this.#declareMemory();

    // Devices.
    this.pic = new I8259Pair({ trace: this.trace, elcr: plan.elcr });
    this.pic.attach(this.io);
    this.imcr = plan.imcr ? new Imcr({ trace: this.trace }) : undefined;
    this.imcr?.attach(this.io);
    this.pit = new Pit8254({
      trace: this.trace,
      clock: this.clock,
      irq0: (level) => this.setIrq(0, level),
    });
    this.pit.attach(this.io);
    this.debugPort = new DebugPort({ trace: this.trace, onExit: (code) => this.#onExit(code) });
    this.debugPort.attach(this.io);

    this.apicBus = plan.localApic || plan.ioapic ? new ApicBus({ trace: this.trace }) : undefined;
    const lapics: LocalApic[] = [];
    if (plan.localApic) {
      const info = plan.cpu.info;
      for (let i = 0; i < count; i++) {
        lapics.push(
          new LocalApic({
            trace: this.trace,
            clock: this.clock,
            apicId: plan.apicIds[i],
            version: info.lapicVersion ?? 0x00050014,
            idBits: info.apicIdBits === 4 ? 4 : 8,
            cpu: {
              setIntr: (level) => {
                this.#apicIntr[i] = level;
                this.#updateIntr(i);
              },
              nmi: () => this.cpus[i].nmi(),
              init: () => this.cpus[i].init(),
              sipi: (vector) => this.cpus[i].sipi(vector),
            },
            bus: this.apicBus!,
            extIntAcknowledge: () => this.pic.acknowledge(),
            bsp: i === 0,
            maxPhysAddr: info.maxPhysAddr,
          }),
        );
      }
    }
    this.lapics = lapics;
    this.#remapLapics();
    if (plan.ioapic) {
      this.ioapic = new IoApic({
        trace: this.trace,
        bus: this.apicBus!,
        id: plan.ioapic.id,
        pins: plan.ioapic.pins,
      });
      this.bus.map(plan.ioapic.base, 0x1000, this.ioapic);
    }

    // Wiring of the 8259 output and the IMCR.
    this.pic.onOutputChange((level) => {
      this.#picLevel = level;
      this.#routePic();
    });
    this.imcr?.onChange(() => this.#routePic());

    // CPUs.
    const cpus: CpuCore[] = [];
    for (let i = 0; i < count; i++) {
      const env: CpuEnvironment = {
        index: i,
        bus: this.bus,
        io: this.io,
        trace: this.trace,
        clock: this.clock,
        pins: {
          acknowledge: () => this.#acknowledge(i),
          ...(plan.localApic
            ? { apicBaseWritten: (value: bigint) => this.#apicBaseWritten(i, value) }
            : {}),
        },
      };
      cpus.push(plan.cpu.factory(env));
    }
    this.cpus = cpus;

    this.#firmware();
  }

  // ---------------------------------------------------------------------------------------------
  // Construction helpers.

  #declareMemory(): void {
    const windows: [number, number][] = [];
    if (this.#plan.ioapic) windows.push([this.#plan.ioapic.base, this.#plan.ioapic.base + 0x1000]);
    if (this.#plan.localApic) windows.push([0xfee00000, 0xfee01000]);
    const ranges: [number, number][] = [
      [0, 0xa0000], // conventional memory is always there
      [BIOS_ROM_BASE, BIOS_ROM_BASE + BIOS_ROM_SIZE],
    ];
    if (this.memory.addressSpace >= 2 ** 32) ranges.push([BIOS_ROM_HIGH, 2 ** 32]);
    for (const e of this.memoryMap.entries) {
      let segs: [number, number][] = [[e.base, e.base + e.size]];
      for (const [wb, we] of windows) {
        segs = segs.flatMap(([b, en]): [number, number][] =>
          en <= wb || b >= we ? [[b, en]] : [[b, Math.min(en, wb)], [Math.max(b, we), en]]
        ).filter(([b, en]) => en > b);
      }
      ranges.push(...segs);
    }
    for (const [b, e] of mergeRanges(ranges)) {
      this.bus.addMemory(b, Math.min(e, this.memory.addressSpace) - b);
    }
  }

  #firmware(): void {
    const note = (what: string) => this.trace.emit("step", what, -1);
    writeBiosRom(this.memory, { highMirror: this.memory.addressSpace >= 2 ** 32 });
    writeE820Copy(this.memory, this.memoryMap);
    if (this.#plan.mp) {
      const at = writeMpTables(this.memory, this.#plan.mp);
      note(`BIOS: MP floating pointer at 0x9fc00, configuration table at ${formatHex(at, 32)}`);
    }
    programPostDevices({
      io: this.io,
      bus: this.bus,
      imcr: this.imcr !== undefined,
      lapicBase: this.lapics.length > 0 ? this.lapics[0].base : undefined,
      ioapic: this.#plan.ioapic,
      note,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Interrupt wiring.

  /**
   * Drive ISA IRQ line `irq` (0-15): to the 8259 pair and, on boards with an IOAPIC, to its pin
   * (IRQ0 -> pin 2, IRQ n -> pin n; IRQ2 is the cascade and reaches no IOAPIC pin).
   */
  setIrq(irq: number, level: boolean): void {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15) {
      throw new MachineError(`Invalid ISA IRQ number: ${irq} (expected 0-15)`);
    }
    this.pic.setIrq(irq, level);
    // Checked: MP spec 1.4 Table 5-2 wires INTIN0 = 8259 INTR, INTIN2 = IRQ0, INTINn = IRQn.
    if (this.ioapic !== undefined && irq !== 2) this.ioapic.setPin(irq === 0 ? 2 : irq, level);
  }

  /** Pulse the NMI line (chipset NMI: parity/IOCHK/watchdog). */
  nmi(): void {
    if (this.picOutput === "intr" || this.lapics.length === 0) {
      this.trace.emit("irq", "NMI -> BSP NMI pin", -1);
      this.cpus[0].nmi();
      return;
    }
    if (this.imcr?.picMode === true) {
      // MP spec §5: NMI also reaches LINTIN1 of every local APIC (software keeps them masked).
      this.trace.emit(
        "irq",
        "NMI -> BSP NMI pin (IMCR PIC mode) and LINT1 of every local APIC",
        -1,
      );
      this.cpus[0].nmi();
    } else this.trace.emit("irq", "NMI -> LINT1 of every local APIC", -1);
    for (const l of this.lapics) {
      l.setLint(1, true);
      l.setLint(1, false);
    }
  }

  #routePic(): void {
    const level = this.#picLevel;
    let direct = false, lint0 = false;
    switch (this.picOutput) {
      case "intr":
        direct = level;
        break;
      case "imcr":
        // MP spec §5: INTR goes to LINTIN0 of every local APIC and to the IMCR mux; the mux feeds
        // the BSP's INTR pin only in PIC mode. (QEMU, Bochs and v86 have no IMCR.)
        if (this.imcr === undefined || this.imcr.picMode) direct = level;
        lint0 = level;
        break;
      case "lint0":
        lint0 = level;
        break;
      case "ioapic":
        this.ioapic?.setPin(this.#plan.extintPin, level);
        break;
    }
    for (const l of this.lapics) l.setLint(0, lint0);
    if (this.lapics.length === 0 && this.picOutput === "lint0") direct = level;
    if (this.#picDirect[0] !== direct) {
      this.#picDirect[0] = direct;
      this.#updateIntr(0);
    }
  }

  #updateIntr(i: number): void {
    const cpu = this.cpus?.[i];
    if (cpu !== undefined) cpu.setIntr(this.#picDirect[i] || this.#apicIntr[i]);
  }

  #acknowledge(i: number): number {
    const lapic = this.lapics[i];
    if (this.#picDirect[i] || lapic === undefined) return this.pic.acknowledge();
    return lapic.acknowledge();
  }

  #apicBaseWritten(i: number, value: bigint): void {
    this.lapics[i].apicBaseWritten(value);
    this.#remapLapics();
  }

  /** Map one LocalApicBank per distinct base of the globally enabled local APICs. */
  #remapLapics(): void {
    for (const { bank } of this.#lapicBanks) this.bus.unmap(bank);
    this.#lapicBanks = [];
    const bases = [...new Set(this.lapics.filter((l) => l.enabled).map((l) => l.base))];
    for (const base of bases) {
      const routed: LocalApic[] = [];
      this.lapics.forEach((l, i) => {
        if (l.enabled && l.base === base) routed[i] = l;
      });
      const bank = new LocalApicBank(routed, { trace: this.trace });
      try {
        this.bus.map(base, 0x1000, bank);
        this.#lapicBanks.push({ base, bank });
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        this.trace.emit(
          "mmio",
          `local APIC window at ${formatHex(base, 32)} not mapped: ${e.message}`,
        );
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Time.

  /** Current virtual time in ns, exact to the instruction inside a slice. */
  now(): number {
    if (this.#sliceCpu < 0) return this.clock.now();
    const cpu = this.cpus[this.#sliceCpu];
    const t = this.#sliceStartTime +
      (cpu.retired - this.#sliceStartRetired) * this.nsPerInstruction;
    return Math.max(t, this.clock.now());
  }

  /** Instructions retired machine-wide. */
  get instructions(): number {
    if (this.#sliceCpu < 0) return this.#retiredBefore;
    return this.#retiredBefore + this.cpus[this.#sliceCpu].retired - this.#sliceStartRetired;
  }

  #sync(): void {
    if (this.#sliceCpu < 0) return;
    const t = this.now();
    if (t > this.clock.now() || this.clock.nextEventTime() <= t) this.clock.advanceTo(t);
  }

  #checkEvents(): void {
    if (this.#sliceCpu < 0) return;
    if (this.clock.nextEventTime() < this.#sliceEventLimit || this.#exitPending) {
      this.cpus[this.#sliceCpu].requestExit();
    }
  }

  #onExit(code: number): void {
    this.#exitCode = code;
    this.#exitPending = true;
    if (this.#sliceCpu >= 0) this.cpus[this.#sliceCpu].requestExit();
  }

  /** What the guest wrote to the debug console (port 0xE9). */
  get console(): string {
    return this.debugPort.output;
  }

  // ---------------------------------------------------------------------------------------------
  // Run loop.

  #runSlice(i: number, budget: number): number {
    const cpu = this.cpus[i];
    const ns = this.nsPerInstruction;
    const start = this.clock.now();
    const next = this.clock.nextEventTime();
    if (next > start) budget = Math.min(budget, Math.max(1, Math.ceil((next - start) / ns)));
    this.#sliceCpu = i;
    this.#sliceStartRetired = cpu.retired;
    this.#sliceStartTime = start;
    this.#sliceEventLimit = Math.min(next, start + budget * ns);
    this.trace.currentCpu = i;
    let n: number;
    try {
      n = cpu.run(budget);
    } finally {
      const end = this.now();
      const retired = cpu.retired - this.#sliceStartRetired;
      this.#retiredBefore += retired;
      this.#sliceCpu = -1;
      this.trace.currentCpu = -1;
      this.clock.advanceTo(end);
    }
    return n;
  }

  #idle(cpu: CpuCore): boolean {
    return cpu.runState !== "running";
  }

  /**
   * Run the CPUs until `until` holds, an exit or shutdown happens, or `maxInstructions` are
   * retired (see the module documentation). Throws {@linkcode MachineError} for bad options.
   */
  run(options: RunOptions): RunResult {
    const { until, maxInstructions } = options;
    if (!RUN_UNTIL.includes(until)) {
      throw new MachineError(
        `Unknown run condition: ${until} (expected one of ${RUN_UNTIL.join(", ")})`,
      );
    }
    if (!(Number.isSafeInteger(maxInstructions) && maxInstructions > 0)) {
      throw new MachineError(`Instruction budget must be a positive integer: ${maxInstructions}`);
    }
    const startRetired = this.#retiredBefore;
    const result = (reason: RunReason): RunResult => ({
      reason,
      instructions: this.#retiredBefore - startRetired,
      time: this.clock.now(),
      ...(reason === "exit" ? { exitCode: this.#exitCode } : {}),
    });
    this.#exitPending = false;
    const n = this.cpus.length;
    let idle = 0; // budget units spent skipping idle time
    for (;;) {
      let progressed = false;
      for (let k = 0; k < n; k++) {
        const i = this.#nextCpu;
        this.#nextCpu = (i + 1) % n;
        const left = maxInstructions - (this.#retiredBefore - startRetired) - idle;
        if (left <= 0) return result("budget");
        const cpu = this.cpus[i];
        const ran = this.#runSlice(i, Math.min(this.quantum, left));
        if (ran > 0) progressed = true;
        else if (!this.#idle(cpu)) idle++; // a running CPU that retired nothing still costs
        if (this.#exitPending) {
          this.#exitPending = false;
          return result("exit");
        }
        if (cpu.runState === "shutdown") {
          this.trace.emit("cpu", `cpu${i}: shutdown (triple fault)`, i);
          return result("shutdown");
        }
        if (until === "halt" && i === 0 && this.#idle(cpu)) return result("halted");
      }
      if (this.cpus.every((c) => this.#idle(c))) {
        if (until === "all-halted" || until === "halt") {
          return result(until === "halt" ? "halted" : "all-halted");
        }
        if (!progressed) {
          const next = this.clock.nextEventTime();
          if (next === Infinity) return result("all-halted");
          // Idle time counts against the budget as the instructions that could have run in it,
          // so a guest asleep forever under a periodic timer still ends.
          const now = this.clock.now();
          const cost = Math.max(1, Math.ceil((next - now) / this.nsPerInstruction));
          const left = maxInstructions - (this.#retiredBefore - startRetired) - idle;
          if (cost > left) {
            this.clock.advanceTo(now + left * this.nsPerInstruction);
            return result("budget");
          }
          idle += cost;
          this.clock.advanceTo(next);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Images and state.

  /**
   * Load a boot sector: at most 512 bytes at 0x7C00 (shorter images are zero padded; a missing
   * 0x55AA signature is traced, not refused). The BSP then starts from its reset vector into the
   * BIOS POST stub, which jumps to `0000:7C00` with `DL = 0x80`, `DS = ES = SS = 0`,
   * `SP = 0x7C00` and interrupts enabled, as a BIOS leaves it.
   */
  loadBootsector(bytes: Uint8Array): void {
    if (bytes.length === 0 || bytes.length > 512) {
      throw new MachineError(
        `Boot sector must be 1 to 512 bytes: got ${bytes.length} bytes`,
      );
    }
    const sector = new Uint8Array(512);
    sector.set(bytes);
    this.memory.writeBytes(BOOTSECTOR_ADDR, sector);
    const signed = sector[510] === 0x55 && sector[511] === 0xaa;
    this.trace.emit(
      "step",
      `boot sector: ${bytes.length} bytes at 0x7c00${signed ? "" : ", no 0x55AA signature"}`,
      -1,
    );
  }

  /**
   * The iomem resource tree as the firmware map gives it: e820 resources (see
   * `e820ReserveResources`; default 2.6.13 behaviour) plus "IOAPIC 0" and "Local APIC" inserted.
   */
  iomem(options: E820ReserveOptions = {}): ResourceTree {
    const tree = new ResourceTree({ end: this.memory.addressSpace - 1 });
    e820ReserveResources(tree, this.memoryMap, options);
    if (this.#plan.ioapic) {
      const b = this.#plan.ioapic.base;
      tree.insert({ start: b, end: b + 0x3ff, name: "IOAPIC 0" });
    }
    if (this.lapics.length > 0) {
      tree.insert({ start: 0xfee00000, end: 0xfee00fff, name: "Local APIC" });
    }
    return tree;
  }

  /**
   * State for expectations: `cpu` (by index), `pic`, `imcr`, `lapic` (by CPU index), `ioapic`,
   * `pit`, `debug`, `memory_map` ({ e820, iomem }) and `machine` ({ board, time, instructions }).
   */
  snapshot(): Snapshot {
    const byIndex = <T>(list: readonly T[], f: (x: T) => SnapshotValue): Snapshot =>
      Object.fromEntries(list.map((x, i) => [String(i), f(x)]));
    const out: Record<string, SnapshotValue> = {
      machine: {
        board: this.board,
        cpu_model: this.cpuModel.name,
        cpus: this.cpus.length,
        time: this.clock.now(),
        instructions: this.instructions,
        pic_output: this.picOutput,
      },
      cpu: byIndex(this.cpus, (c) => c.snapshot()),
      pic: this.pic.snapshot(),
      pit: this.pit.snapshot(),
      debug: this.debugPort.snapshot(),
      memory_map: {
        e820: this.memoryMap.snapshot(),
        iomem: this.iomem().format(),
      },
    };
    if (this.imcr) out.imcr = this.imcr.snapshot();
    if (this.lapics.length > 0) out.lapic = byIndex(this.lapics, (l) => l.snapshot());
    if (this.ioapic) out.ioapic = this.ioapic.snapshot();
    return out;
  }
}
