/**
 * Named PC boards and the validation that turns a scenario's `machine:` section into a machine.
 *
 * A {@linkcode BoardProfile} says what is soldered on the board (local APICs, IOAPIC, IMCR, ELCR,
 * ACPI tables, the PCI hole) and how the master 8259's INT output is wired; every part can be
 * overridden from YAML through {@linkcode MachineConfig}. {@linkcode buildMachine} validates the
 * combination and throws {@linkcode BoardError} with the config path (e.g. `machine.cpu.count`)
 * for machines that cannot exist: an IOAPIC or a virtual wire without local APICs, two CPUs on a
 * board without APICs, RAM beyond MAXPHYADDR, a RAM size that is not a whole number of 4 KiB
 * pages, empty or overlapping memory ranges (explicit ranges may be byte-granular, as BIOSes
 * report them), an ExtINT pin beyond the IOAPIC's pins, an x86-64 board with a 32-bit CPU, an
 * unknown board or CPU model.
 *
 * Built-in boards (defaults in brackets):
 * - `pc-legacy`: 386/486 ISA PC, 8259 pair only, INT straight to the CPU's INTR, no ELCR, no ACPI
 *   [i486 x1, 32 MiB]. One CPU only.
 * - `pc-imcr`: MP-spec board booting in PIC mode: IMCR at 0x22/0x23, local APICs, an IOAPIC for
 *   the ISA IRQs, MP table with the IMCRP flag and no ExtINT entry [pentium x2, 64 MiB].
 * - `pc-lapic`: virtual wire A: the 8259 INT on LINT0 of every local APIC, no IOAPIC
 *   [pentium4-xeon x1, 256 MiB].
 * - `pc-ioapic`: virtual wire B: the 8259 INT on IOAPIC pin 0 (ExtINT in the MP table)
 *   [pentium4-xeon x2, 512 MiB].
 * - `opteron`, `xeon-nocona`: x86-64 boards like `pc-ioapic` with RAM above 4 GiB: RAM is split
 *   at the 3 GiB PCI hole and the rest is remapped at 4 GiB [opteron x2 / xeon-nocona x2, 6 GiB].
 *
 * Default e820 layout for a RAM size S: `0-0x9fbff` RAM, `0x9fc00-0x9ffff` reserved (EBDA),
 * `0xe0000-0xfffff` reserved (BIOS ROM), RAM from 1 MiB up to min(S, PCI hole), the last 64 KiB
 * of it ACPI data (32 KiB) and ACPI NVS (32 KiB) on ACPI boards, the IOAPIC and local APIC pages
 * reserved when present, `0xfffe0000-0xffffffff` reserved (ROM mirror), and RAM above the PCI hole
 * remapped at 4 GiB.
 *
 * @module
 */

import type { CpuFactory, CpuModelInfo } from "./cpu.ts";
import type { MpConfig, MpIoInterrupt } from "./firmware.ts";
import { Machine, type MachinePlan, type PicOutput } from "./machine.ts";
import { type E820Entry, MemoryMap, MemoryMapError } from "./memory_map.ts";
import type { Trace } from "./trace.ts";

/** One range of an explicit e820 map in a scenario. */
export interface MemoryRangeConfig {
  /** Physical base. */
  base: bigint | number;
  /** Size in bytes. */
  size: bigint | number;
  /** e820 type. */
  type: "ram" | "reserved" | "acpi" | "nvs" | "unusable";
}

/** The `machine:` section of a scenario (snake_case keys as in YAML). */
export interface MachineConfig {
  /** Built-in board profile name. */
  board: string;
  /** CPU model and count. */
  cpu?: { model?: string; count?: number };
  /** Total RAM (the board lays out the e820 map) or an explicit e820 map. */
  memory?: bigint | number | MemoryRangeConfig[];
  /** How the master 8259's INT reaches the CPUs. */
  wiring?: { pic_output?: PicOutput; extint_pin?: number; ioapic_pins?: number };
  /** What the BIOS writes in the MP table (it may lie about the wiring). */
  mptable?: { present?: boolean; imcr?: boolean; extint_pin?: number | null };
  /** Virtual time per instruction and CPU interleaving quantum. */
  timing?: { ns_per_instruction?: number; quantum?: number };
}

/** A built-in board. */
export interface BoardProfile {
  /** Board name as scenarios write it. */
  readonly name: string;
  /** One line for docs and errors. */
  readonly description: string;
  /** CPU model when the scenario names none. */
  readonly defaultCpu: string;
  /** CPU count when the scenario names none. */
  readonly defaultCount: number;
  /** RAM size when the scenario gives none. */
  readonly defaultMemory: number;
  /** The board has sockets for CPUs with local APICs (and wires LINT0/LINT1). */
  readonly localApic: boolean;
  /** The board has an 82093AA IOAPIC. */
  readonly ioapic: boolean;
  /** The board has an IMCR. */
  readonly imcr: boolean;
  /** Default route of the 8259 INT output. */
  readonly picOutput: PicOutput;
  /** IOAPIC pin of the 8259 INT (virtual wire B). */
  readonly extintPin: number;
  /** The board needs a CPU with long mode (x86-64). */
  readonly longMode: boolean;
  /** Start of the PCI hole below 4 GiB (RAM above it is remapped at 4 GiB). */
  readonly pciHoleBase: number;
  /** The BIOS reports ACPI tables and NVS at the top of low RAM. */
  readonly acpi: boolean;
  /** The chipset has the edge/level control registers (0x4D0/0x4D1). */
  readonly elcr: boolean;
  /** OEM and product ID written in the MP table. */
  readonly mpProduct: string;
}

const MIB = 0x100000;
const GIB = 0x4000_0000;

/** Physical address of the IOAPIC. */
export const IOAPIC_BASE = 0xfec00000;
/** Default physical address of the local APICs. */
export const LAPIC_BASE = 0xfee00000;
/** Highest CPU count a board accepts. */
export const MAX_CPUS = 255;

function board(p: BoardProfile): BoardProfile {
  return Object.freeze(p);
}

/** The built-in boards, by name. */
export const boards: Readonly<Record<string, BoardProfile>> = Object.freeze({
  "pc-legacy": board({
    name: "pc-legacy",
    description: "386/486 ISA PC: 8259 pair only, INT straight to the CPU's INTR",
    defaultCpu: "i486",
    defaultCount: 1,
    defaultMemory: 32 * MIB,
    localApic: false,
    ioapic: false,
    imcr: false,
    picOutput: "intr",
    extintPin: 0,
    longMode: false,
    pciHoleBase: 0xc0000000,
    acpi: false,
    elcr: false,
    mpProduct: "PC-LEGACY",
  }),
  "pc-imcr": board({
    name: "pc-imcr",
    description: "MP board in PIC mode: IMCR, local APICs, IOAPIC for ISA IRQs",
    defaultCpu: "pentium",
    defaultCount: 2,
    defaultMemory: 64 * MIB,
    localApic: true,
    ioapic: true,
    imcr: true,
    picOutput: "imcr",
    extintPin: 0,
    longMode: false,
    pciHoleBase: 0xc0000000,
    acpi: true,
    elcr: true,
    mpProduct: "PC-IMCR",
  }),
  "pc-lapic": board({
    name: "pc-lapic",
    description: "Virtual wire A: 8259 INT on LINT0 of every local APIC, no IOAPIC",
    defaultCpu: "pentium4-xeon",
    defaultCount: 1,
    defaultMemory: 256 * MIB,
    localApic: true,
    ioapic: false,
    imcr: false,
    picOutput: "lint0",
    extintPin: 0,
    longMode: false,
    pciHoleBase: 0xc0000000,
    acpi: true,
    elcr: true,
    mpProduct: "PC-LAPIC",
  }),
  "pc-ioapic": board({
    name: "pc-ioapic",
    description: "Virtual wire B: 8259 INT on IOAPIC pin 0 (ExtINT), local APICs",
    defaultCpu: "pentium4-xeon",
    defaultCount: 2,
    defaultMemory: 512 * MIB,
    localApic: true,
    ioapic: true,
    imcr: false,
    picOutput: "ioapic",
    extintPin: 0,
    longMode: false,
    pciHoleBase: 0xc0000000,
    acpi: true,
    elcr: true,
    mpProduct: "PC-IOAPIC",
  }),
  "opteron": board({
    name: "opteron",
    description: "AMD Opteron x86-64 board: IOAPIC virtual wire B, RAM above 4 GiB",
    defaultCpu: "opteron",
    defaultCount: 2,
    defaultMemory: 6 * GIB,
    localApic: true,
    ioapic: true,
    imcr: false,
    picOutput: "ioapic",
    extintPin: 0,
    longMode: true,
    pciHoleBase: 0xc0000000,
    acpi: true,
    elcr: true,
    mpProduct: "OPTERON",
  }),
  "xeon-nocona": board({
    name: "xeon-nocona",
    description: "Intel Xeon (Nocona) EM64T board: IOAPIC virtual wire B, RAM above 4 GiB",
    defaultCpu: "xeon-nocona",
    defaultCount: 2,
    defaultMemory: 6 * GIB,
    localApic: true,
    ioapic: true,
    imcr: false,
    picOutput: "ioapic",
    extintPin: 0,
    longMode: true,
    pciHoleBase: 0xc0000000,
    acpi: true,
    elcr: true,
    mpProduct: "XEON-NOCONA",
  }),
});

/**
 * An impossible or malformed machine. `path` names the offending key of the scenario, e.g.
 * `machine.cpu.count` or `machine.memory[1].size`, so the runner can point at the YAML line.
 *
 * @example
 * ```ts
 * import { BoardError } from "./platforms.ts";
 * const e = new BoardError("machine.cpu.count", "Two CPUs need local APICs: board pc-legacy has none");
 * e.message; // "machine.cpu.count: Two CPUs need local APICs: board pc-legacy has none"
 * ```
 */
export class BoardError extends RangeError {
  /** Config path of the offending key. */
  readonly path: string;
  /** The message without the path prefix. */
  readonly detail: string;

  /** Create the error for `path`. */
  constructor(path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = "BoardError";
    this.path = path;
    this.detail = detail;
  }
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/**
 * The closest of `names` to `name` when it is close enough, for a "did you mean".
 *
 * @example
 * ```ts
 * import { closest } from "./platforms.ts";
 * closest("pc-ioapci", ["pc-legacy", "pc-ioapic"]); // "pc-ioapic"
 * ```
 */
export function closest(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined, bestD = Infinity;
  for (const n of names) {
    const dist = distance(name.toLowerCase(), n.toLowerCase());
    if (dist < bestD) [best, bestD] = [n, dist];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function unknown(path: string, what: string, name: string, names: readonly string[]): BoardError {
  const guess = closest(name, names);
  return new BoardError(
    path,
    `Unknown ${what}: ${name}${guess ? ` (did you mean "${guess}"?)` : ""}; known: ${
      names.join(", ")
    }`,
  );
}

/** A CPU model ready to be instantiated. */
export interface ResolvedCpu {
  /** Creates one core. */
  factory: CpuFactory;
  /** Hardware-facing facts. */
  info: CpuModelInfo;
  /** CPUID.1:EAX for the MP table processor entries (0 when unknown). */
  signature?: number;
  /** CPUID.1:EDX for the MP table processor entries (0 when unknown). */
  features?: number;
}

/** Options for {@linkcode buildMachine}. */
export interface BuildMachineOptions {
  /**
   * The CPU: either already resolved for the model the scenario names (see
   * {@linkcode boardCpuModel}), or a resolver called with the model name (return `undefined`
   * for an unknown name; `models` then feeds the "did you mean").
   */
  cpu: ResolvedCpu | ((model: string) => ResolvedCpu | undefined);
  /** Known CPU model names, for error messages. */
  models?: readonly string[];
  /** Shared trace (a new one otherwise). */
  trace?: Trace;
}

/**
 * The board profile named by `config.board`; throws {@linkcode BoardError} with a "did you mean".
 *
 * @example
 * ```ts
 * import { boardProfile } from "./platforms.ts";
 * boardProfile({ board: "opteron" }).longMode; // true
 * ```
 */
export function boardProfile(config: MachineConfig): BoardProfile {
  const p = Object.hasOwn(boards, config.board) ? boards[config.board] : undefined;
  if (p === undefined) throw unknown("machine.board", "board", config.board, Object.keys(boards));
  return p;
}

/**
 * The CPU model a config asks for: `cpu.model`, or the board's default.
 *
 * @example
 * ```ts
 * import { boardCpuModel } from "./platforms.ts";
 * boardCpuModel({ board: "pc-legacy" }); // "i486"
 * ```
 */
export function boardCpuModel(config: MachineConfig): string {
  return config.cpu?.model ?? boardProfile(config).defaultCpu;
}

function toNumber(v: bigint | number, path: string): number {
  const n = typeof v === "bigint" ? Number(v) : v;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new BoardError(path, `Not a non-negative integer below 2^53: ${v}`);
  }
  return n;
}

function hexs(v: number): string {
  return "0x" + v.toString(16);
}

function sizeText(n: number): string {
  if (n >= GIB && n % GIB === 0) return `${n / GIB} GiB`;
  if (n >= MIB && n % MIB === 0) return `${n / MIB} MiB`;
  return `${hexs(n)} bytes`;
}

/**
 * The e820 layout a board gives RAM size `size` (see the module doc).
 *
 * @example
 * ```ts
 * import { defaultE820 } from "./platforms.ts";
 * const map = defaultE820(6 * 2 ** 30, { pciHoleBase: 0xc0000000, acpi: true, lapic: true, ioapic: true });
 * map[map.length - 1]; // { base: 0x100000000, size: 0xc0000000, type: "ram" }
 * ```
 */
export function defaultE820(
  size: number,
  options: { pciHoleBase: number; acpi: boolean; lapic: boolean; ioapic: boolean },
): E820Entry[] {
  const out: E820Entry[] = [
    { base: 0, size: 0x9fc00, type: "ram" },
    { base: 0x9fc00, size: 0x400, type: "reserved" },
    { base: 0xe0000, size: 0x20000, type: "reserved" },
  ];
  const lowTop = Math.min(size, options.pciHoleBase);
  if (lowTop > MIB) {
    const acpi = options.acpi && lowTop - MIB >= 2 * MIB ? 0x10000 : 0;
    out.push({ base: MIB, size: lowTop - MIB - acpi, type: "ram" });
    if (acpi) {
      out.push({ base: lowTop - 0x10000, size: 0x8000, type: "acpi" });
      out.push({ base: lowTop - 0x8000, size: 0x8000, type: "nvs" });
    }
  }
  if (options.ioapic) out.push({ base: IOAPIC_BASE, size: 0x1000, type: "reserved" });
  if (options.lapic) out.push({ base: LAPIC_BASE, size: 0x1000, type: "reserved" });
  out.push({ base: 0xfffe0000, size: 0x20000, type: "reserved" });
  if (size > options.pciHoleBase) {
    out.push({ base: 0x1_0000_0000, size: size - options.pciHoleBase, type: "ram" });
  }
  return out;
}

/**
 * Validate `config` against its board and CPU model and resolve every default: the plan the
 * {@linkcode Machine} is built from. Throws {@linkcode BoardError}.
 *
 * @example
 * ```ts ignore
 * import { planMachine } from "./platforms.ts";
 * import { x86CpuFactory } from "../arch/x86/cpu.ts";
 * planMachine({ board: "opteron" }, { cpu: x86CpuFactory("opteron") }).apicIds; // [0, 1]
 * ```
 */
export function planMachine(
  config: MachineConfig,
  options: BuildMachineOptions,
): MachinePlan {
  const b = boardProfile(config);
  const modelName = boardCpuModel(config);
  let cpu: ResolvedCpu | undefined;
  if (typeof options.cpu === "function") {
    cpu = options.cpu(modelName);
    if (cpu === undefined) {
      throw unknown(
        config.cpu?.model !== undefined ? "machine.cpu.model" : "machine.board",
        "CPU model",
        modelName,
        options.models ?? [],
      );
    }
  } else {
    cpu = options.cpu;
    if (config.cpu?.model !== undefined && cpu.info.name !== config.cpu.model) {
      throw new BoardError(
        "machine.cpu.model",
        `The CPU given to the machine is ${cpu.info.name}, the scenario asks for ${config.cpu.model}`,
      );
    }
  }
  const info = cpu.info;
  if (info.arch !== "x86") {
    throw new BoardError("machine.cpu.model", `Board ${b.name} is a PC: ${info.name} is not x86`);
  }
  const modelPath = config.cpu?.model !== undefined ? "machine.cpu.model" : "machine.board";
  if (b.longMode && !info.longMode) {
    throw new BoardError(
      modelPath,
      `Board ${b.name} is an x86-64 board: CPU ${info.name} has no long mode`,
    );
  }

  // Interrupt wiring.
  const picOutput: PicOutput = config.wiring?.pic_output ?? b.picOutput;
  const needsLapic = b.localApic || picOutput === "lint0" || picOutput === "ioapic" ||
    picOutput === "imcr";
  const hasIoapic = b.ioapic || picOutput === "ioapic";
  const hasImcr = b.imcr || picOutput === "imcr";
  const wiringPath = config.wiring?.pic_output !== undefined
    ? "machine.wiring.pic_output"
    : modelPath;
  if (needsLapic && !info.hasLocalApic) {
    const why = hasIoapic
      ? "an IOAPIC needs local APICs to deliver to"
      : picOutput === "lint0"
      ? "virtual wire A needs LINT0 of a local APIC"
      : `board ${b.name} needs local APICs`;
    throw new BoardError(wiringPath, `CPU ${info.name} has no local APIC: ${why}`);
  }
  const lapic = needsLapic && info.hasLocalApic;

  const count = config.cpu?.count ?? b.defaultCount;
  if (!Number.isInteger(count) || count < 1 || count > MAX_CPUS) {
    throw new BoardError("machine.cpu.count", `CPU count must be 1..${MAX_CPUS}: got ${count}`);
  }
  if (count > 1 && !lapic) {
    throw new BoardError(
      "machine.cpu.count",
      `${count} CPUs need local APICs for INIT/SIPI and IPIs: board ${b.name} with ${info.name} has none`,
    );
  }
  const idBits = info.apicIdBits ?? 8;
  const maxIds = (1 << idBits) - 1 - (hasIoapic && idBits === 4 ? 1 : 0); // all-ones = broadcast
  if (lapic && count > maxIds) {
    throw new BoardError(
      "machine.cpu.count",
      `${count} CPUs do not fit in ${idBits}-bit APIC IDs of ${info.name} (at most ${maxIds}${
        hasIoapic && idBits === 4 ? " besides the IOAPIC" : ""
      })`,
    );
  }
  const apicIds = Array.from({ length: count }, (_, i) => i);

  const ioapicPins = config.wiring?.ioapic_pins ?? 24;
  if (!Number.isInteger(ioapicPins) || ioapicPins < 16 || ioapicPins > 64) {
    throw new BoardError(
      "machine.wiring.ioapic_pins",
      `IOAPIC pin count must be 16..64 (ISA IRQs use pins 0-15): got ${ioapicPins}`,
    );
  }
  const extintPin = config.wiring?.extint_pin ?? b.extintPin;
  if (config.wiring?.extint_pin !== undefined && !hasIoapic) {
    throw new BoardError(
      "machine.wiring.extint_pin",
      `Board ${b.name} has no IOAPIC for the 8259 INT (pic_output is ${picOutput})`,
    );
  }
  if (!Number.isInteger(extintPin) || extintPin < 0 || extintPin >= ioapicPins) {
    throw new BoardError(
      "machine.wiring.extint_pin",
      `ExtINT pin ${extintPin} is beyond the IOAPIC's ${ioapicPins} pins (0..${ioapicPins - 1})`,
    );
  }
  if (picOutput === "ioapic" && extintPin >= 1 && extintPin <= 15) {
    throw new BoardError(
      "machine.wiring.extint_pin",
      `IOAPIC pin ${extintPin} already carries ISA IRQ${extintPin === 2 ? 0 : extintPin}: ` +
        "use pin 0 or a pin above 15",
    );
  }

  // Memory.
  const maxPhys = info.maxPhysAddr;
  const space = 2 ** maxPhys;
  let entries: E820Entry[];
  const mem = config.memory ?? b.defaultMemory;
  if (Array.isArray(mem)) {
    entries = mem.map((r, i) => ({
      base: toNumber(r.base, `machine.memory[${i}].base`),
      size: toNumber(r.size, `machine.memory[${i}].size`),
      type: r.type,
    }));
    entries.forEach((e, i) => {
      if (e.base + e.size > space) {
        throw new BoardError(
          `machine.memory[${i}].size`,
          `Range ${hexs(e.base)}-${hexs(e.base + e.size - 1)} ends beyond the ${maxPhys}-bit ` +
            `physical address space of ${info.name} (MAXPHYADDR ${maxPhys}, top ${hexs(space)})`,
        );
      }
      const windows: [number, string, boolean][] = [
        [IOAPIC_BASE, "the IOAPIC", hasIoapic],
        [LAPIC_BASE, "the local APICs", lapic],
      ];
      for (const [w, name, present] of windows) {
        if (present && e.type === "ram" && e.base < w + 0x1000 && w < e.base + e.size) {
          throw new BoardError(
            `machine.memory[${i}].base`,
            `RAM range ${hexs(e.base)}-${hexs(e.base + e.size - 1)} overlaps ${name} at ${hexs(w)}`,
          );
        }
      }
      const roms: [number, number][] = [[0xe0000, 0x100000], [0xfffe0000, 0x1_0000_0000]];
      for (const [rb, re] of roms) {
        if (e.type === "ram" && e.base < re && rb < e.base + e.size) {
          throw new BoardError(
            `machine.memory[${i}].base`,
            `RAM range ${hexs(e.base)}-${hexs(e.base + e.size - 1)} overlaps the BIOS ROM at ${
              hexs(rb)
            }`,
          );
        }
      }
    });
  } else {
    const size = toNumber(mem, "machine.memory");
    if (size < 2 * MIB) {
      throw new BoardError("machine.memory", `RAM must be at least 2 MiB: got ${sizeText(size)}`);
    }
    // The board lays the map out in pages; explicit e820 ranges stay byte-granular (0x9FC00).
    if (size % 0x1000 !== 0) {
      throw new BoardError(
        "machine.memory",
        `RAM size is not a whole number of pages: ${sizeText(size)} (expected a multiple of 4 KiB)`,
      );
    }
    entries = defaultE820(size, {
      pciHoleBase: b.pciHoleBase,
      acpi: b.acpi,
      lapic,
      ioapic: hasIoapic,
    });
    const top = entries.reduce((t, e) => Math.max(t, e.base + e.size), 0);
    if (top > space) {
      throw new BoardError(
        "machine.memory",
        `${sizeText(size)} of RAM on board ${b.name} needs addresses up to ${
          hexs(top - 1)
        } (RAM above ${hexs(b.pciHoleBase)} is remapped at 4 GiB), beyond the ${maxPhys}-bit ` +
          `physical address space of ${info.name} (MAXPHYADDR ${maxPhys})`,
      );
    }
  }
  let memoryMap: MemoryMap;
  try {
    memoryMap = new MemoryMap(entries);
  } catch (e) {
    if (e instanceof MemoryMapError && e.index >= 0 && Array.isArray(mem)) {
      throw new BoardError(`machine.memory[${e.index}].${e.field || "base"}`, e.message);
    }
    throw e;
  }
  if (memoryMap.entries.length > 32) {
    throw new BoardError(
      "machine.memory",
      `Too many memory ranges: ${memoryMap.entries.length} (the BIOS table holds at most 32)`,
    );
  }

  // MP table.
  const mpPresent = config.mptable?.present ?? lapic;
  if (mpPresent && !lapic && config.mptable?.present === true) {
    throw new BoardError(
      "machine.mptable.present",
      `An MP table describes local APICs: board ${b.name} with ${info.name} has none`,
    );
  }
  const ioapicId = hasIoapic ? Math.min(count, 15) : -1;
  let mp: MpConfig | undefined;
  if (mpPresent) {
    const mpExtint = config.mptable?.extint_pin !== undefined
      ? config.mptable.extint_pin
      : picOutput === "ioapic"
      ? extintPin
      : null;
    if (mpExtint !== null && (!Number.isInteger(mpExtint) || mpExtint < 0 || mpExtint > 255)) {
      throw new BoardError("machine.mptable.extint_pin", `Not a pin number: ${mpExtint}`);
    }
    if (mpExtint !== null && !hasIoapic) {
      throw new BoardError(
        "machine.mptable.extint_pin",
        `Board ${b.name} has no IOAPIC for an ExtINT entry`,
      );
    }
    const ioInterrupts: MpIoInterrupt[] = [];
    if (hasIoapic) {
      const flags = { polarity: "conforms", trigger: "conforms" } as const;
      if (mpExtint !== null) {
        ioInterrupts.push({
          type: "ExtINT",
          ...flags,
          busId: 0,
          busIrq: 0,
          ioApicId: ioapicId,
          pin: mpExtint,
        });
      }
      for (let irq = 0; irq < 16; irq++) {
        if (irq === 2) continue; // cascade: not an ISA interrupt
        ioInterrupts.push({
          type: "INT",
          ...flags,
          busId: 0,
          busIrq: irq,
          ioApicId: ioapicId,
          pin: irq === 0 ? 2 : irq,
        });
      }
    }
    mp = {
      imcr: config.mptable?.imcr ?? hasImcr,
      lapicAddress: LAPIC_BASE,
      oemId: "KEXECSCN",
      productId: b.mpProduct,
      processors: apicIds.map((id, i) => ({
        apicId: id,
        apicVersion: (info.lapicVersion ?? 0x14) & 0xff,
        enabled: true,
        bsp: i === 0,
        signature: cpu.signature ?? info.signature ?? 0,
        features: cpu.features ?? info.featureFlags ?? 0,
      })),
      buses: [{ id: 0, type: "ISA" }],
      ioApics: hasIoapic
        ? [{ id: ioapicId, version: 0x11, enabled: true, address: IOAPIC_BASE }]
        : [],
      ioInterrupts,
      localInterrupts: [
        {
          type: "ExtINT",
          polarity: "conforms",
          trigger: "conforms",
          busId: 0,
          busIrq: 0,
          apicId: 0xff,
          lint: 0,
        },
        {
          type: "NMI",
          polarity: "conforms",
          trigger: "conforms",
          busId: 0,
          busIrq: 0,
          apicId: 0xff,
          lint: 1,
        },
      ],
    };
  } else if (config.mptable?.imcr !== undefined || config.mptable?.extint_pin !== undefined) {
    throw new BoardError(
      config.mptable?.imcr !== undefined ? "machine.mptable.imcr" : "machine.mptable.extint_pin",
      "The MP table is not present (mptable.present is false or the board has no APICs)",
    );
  }

  const ns = config.timing?.ns_per_instruction ?? 10;
  if (!(Number.isInteger(ns) && ns >= 1)) {
    throw new BoardError("machine.timing.ns_per_instruction", `Must be a positive integer: ${ns}`);
  }
  const quantum = config.timing?.quantum ?? 1000;
  if (!(Number.isInteger(quantum) && quantum >= 1)) {
    throw new BoardError("machine.timing.quantum", `Must be a positive integer: ${quantum}`);
  }

  return {
    config,
    board: b.name,
    cpu: { factory: cpu.factory, info },
    apicIds,
    memoryMap,
    localApic: lapic,
    ioapic: hasIoapic ? { id: ioapicId, pins: ioapicPins, base: IOAPIC_BASE } : undefined,
    imcr: hasImcr,
    elcr: b.elcr,
    picOutput,
    extintPin,
    mp,
    nsPerInstruction: ns,
    quantum,
  };
}

/**
 * Build a machine from a scenario's `machine:` section: validate (throwing
 * {@linkcode BoardError} with the config path), create memory, buses, devices and CPUs, wire the
 * interrupts and leave everything as the BIOS would (see `hw/firmware.ts`).
 *
 * @example
 * ```ts ignore
 * import { buildMachine } from "./platforms.ts";
 * import { x86CpuFactory } from "../arch/x86/cpu.ts";
 * const machine = buildMachine({ board: "pc-ioapic" }, { cpu: x86CpuFactory("pentium4-xeon") });
 * machine.cpus.length; // 2
 * ```
 */
export function buildMachine(config: MachineConfig, options: BuildMachineOptions): Machine {
  return new Machine(planMachine(config, options), { trace: options.trace });
}
