/**
 * Intel 82093AA I/O APIC: 24 interrupt input pins, each with a 64-bit redirection entry that turns
 * pin activity into an APIC bus message [82093AA-DS], `reference/hardware.md` §4.
 *
 * Registers are reached indirectly: IOREGSEL (base + 0x00) selects, IOWIN (base + 0x10) is the
 * 32-bit data window. Behaviour follows the datasheet:
 * - edge: an active edge on an unmasked pin sends one message; edges on a masked pin are lost;
 * - level: while the pin is active, unmasked and Remote IRR is clear, a message is sent; Remote IRR
 *   is set when a local APIC accepts it and cleared by an EOI message with a matching vector, after
 *   which a still-active pin is delivered again; a masked active level pin waits for the unmask;
 * - a level interrupt no local APIC accepted stays "send pending" (delivery status 1) and is
 *   retried when a local APIC becomes able to accept, the entry is rewritten or the pin changes;
 * - writing the trigger bit to edge clears Remote IRR (the 82093AA has no EOI register; Linux's
 *   trigger-toggle workaround relies on this);
 * - SMI, NMI, INIT and ExtINT entries are sent edge-triggered whatever the trigger bit says; ExtINT
 *   makes the destination local APIC raise INTR and run the 8259 INTA on acknowledge.
 *
 * The destination field is sent as 8 bits in both modes (the datasheet limits physical mode to
 * bits 59:56 on its 4-bit APIC bus; the local APIC masks by its own ID width).
 *
 * @module
 */

import type { ApicBus, ApicBusIoApic, ApicDeliveryMode } from "./apic_bus.ts";
import { type FieldTable, formatHex, RegisterValue, type Snapshot } from "./fields.ts";
import type { MmioDevice, MmioSize } from "./mmio_bus.ts";
import type { Trace } from "./trace.ts";

/** Direct (memory-mapped) registers, offsets from the I/O APIC base. */
export const IOAPIC_MMIO = {
  /** Register select (bits 7:0). */
  IOREGSEL: 0x00,
  /** Data window for the selected register. */
  IOWIN: 0x10,
} as const;

/**
 * Indirect register indices (written to IOREGSEL).
 *
 * @example
 * ```ts
 * import { IOAPIC_REGISTERS } from "./ioapic.ts";
 * const lowOfPin2 = IOAPIC_REGISTERS.REDTBL0 + 2 * 2; // 0x14
 * ```
 */
export const IOAPIC_REGISTERS = {
  /** IOAPICID: bits 27:24 ID. */
  ID: 0x00,
  /** IOAPICVER (RO): 0x00170011 on a 24-pin 82093AA. */
  VERSION: 0x01,
  /** IOAPICARB (RO): bits 27:24 arbitration ID. */
  ARB: 0x02,
  /** IOREDTBL[n] low dword at 0x10 + 2n, high dword at 0x11 + 2n. */
  REDTBL0: 0x10,
} as const;

/** Version value of the 82093AA (bits 7:0). */
export const IOAPIC_VERSION_82093AA = 0x11;

/**
 * Named fields of a 64-bit redirection table entry [82093AA-DS §3.2.4]; `raw` is the whole entry.
 *
 * @example
 * ```ts
 * import { RegisterValue } from "./fields.ts";
 * import { REDIRECTION_FIELDS } from "./ioapic.ts";
 * new RegisterValue(0x0000000000010000n, 64, REDIRECTION_FIELDS).field("masked"); // 1n
 * ```
 */
export const REDIRECTION_FIELDS: FieldTable = {
  vector: { lsb: 0, width: 8, doc: "INTVEC (0x10–0xFE)" },
  delivery: {
    lsb: 8,
    width: 3,
    values: { Fixed: 0, LowestPriority: 1, SMI: 2, NMI: 4, INIT: 5, ExtINT: 7 },
    doc: "DELMOD",
  },
  dest_mode: { lsb: 11, width: 1, values: { physical: 0, logical: 1 }, doc: "DESTMOD" },
  status: { lsb: 12, width: 1, values: { idle: 0, pending: 1 }, doc: "DELIVS (RO)" },
  polarity: { lsb: 13, width: 1, values: { high: 0, low: 1 }, doc: "INTPOL" },
  remote_irr: { lsb: 14, width: 1, doc: "Remote IRR (RO)" },
  trigger: { lsb: 15, width: 1, values: { edge: 0, level: 1 }, doc: "TRIGGER" },
  masked: { lsb: 16, width: 1, doc: "MASK" },
  destination: { lsb: 56, width: 8, doc: "DEST" },
  raw: { lsb: 0, width: 64, doc: "the whole entry" },
};

/** Named fields of IOAPICID / IOAPICARB. */
export const IOAPIC_ID_FIELDS: FieldTable = {
  id: { lsb: 24, width: 4, doc: "APIC ID" },
};

const RTE_WRITABLE_LOW = 0x0001afff; // all but DELIVS (12) and Remote IRR (14); 31:17 reserved
const RTE_STATUS = 0x1000;
const RTE_REMOTE_IRR = 0x4000;
const RTE_POLARITY_LOW = 0x2000;
const RTE_LEVEL = 0x8000;
const RTE_MASK = 0x10000;
const DELIVERY: readonly (ApicDeliveryMode | undefined)[] = [
  "fixed",
  "lowest",
  "smi",
  undefined,
  "nmi",
  "init",
  undefined,
  "extint",
];

/** Options for {@linkcode IoApic}. */
export interface IoApicOptions {
  /** Shared trace. */
  trace: Trace;
  /** The APIC bus; the I/O APIC attaches itself to receive EOI broadcasts. */
  bus: ApicBus;
  /** Initial (power-on) APIC ID, 0..15; default 0 (the datasheet reset value). */
  id?: number;
  /** Number of input pins, 1..64; default 24 (the 82093AA). */
  pins?: number;
  /** Name used in traces; default `ioapic`. */
  name?: string;
}

/**
 * An 82093AA I/O APIC.
 *
 * @example
 * ```ts
 * import { ApicBus } from "./apic_bus.ts";
 * import { IoApic, IOAPIC_MMIO } from "./ioapic.ts";
 * import { Trace } from "./trace.ts";
 * const ioapic = new IoApic({ trace: new Trace(), bus: new ApicBus() });
 * ioapic.mmioWrite(IOAPIC_MMIO.IOREGSEL, 4, 0x01);
 * ioapic.mmioRead(IOAPIC_MMIO.IOWIN, 4); // 0x00170011
 * ioapic.mmioWrite(IOAPIC_MMIO.IOREGSEL, 4, 0x10); // IOREDTBL[0] low
 * ioapic.mmioWrite(IOAPIC_MMIO.IOWIN, 4, 0x00000700); // ExtINT, edge, unmasked
 * ioapic.setPin(0, true); // sends an ExtINT message to APIC ID 0
 * ```
 */
export class IoApic implements MmioDevice, ApicBusIoApic {
  /** Name shown in traces. */
  readonly name: string;
  /** Number of input pins. */
  readonly pins: number;

  readonly #trace: Trace;
  readonly #bus: ApicBus;
  readonly #resetId: number;
  #ioregsel = 0;
  #id = 0;
  #arb = 0;
  readonly #low: Uint32Array;
  readonly #high: Uint32Array;
  readonly #level: boolean[];

  /** Create an I/O APIC in its reset state; throws `RangeError` for a bad id or pin count. */
  constructor(options: IoApicOptions) {
    const pins = options.pins ?? 24;
    if (!Number.isInteger(pins) || pins < 1 || pins > 64) {
      throw new RangeError(`I/O APIC pin count must be 1..64: got ${pins}`);
    }
    const id = options.id ?? 0;
    if (!Number.isInteger(id) || id < 0 || id > 15) {
      throw new RangeError(`I/O APIC ID must be 0..15: got ${id}`);
    }
    this.name = options.name ?? "ioapic";
    this.pins = pins;
    this.#trace = options.trace;
    this.#bus = options.bus;
    this.#resetId = id;
    this.#low = new Uint32Array(pins);
    this.#high = new Uint32Array(pins);
    this.#level = new Array(pins).fill(false);
    this.reset();
    this.#bus.addIoApic(this);
  }

  /** IOAPICVER value: bits 23:16 maximum redirection entry, bits 7:0 version 0x11. */
  get version(): number {
    return ((this.pins - 1) << 16) | IOAPIC_VERSION_82093AA;
  }

  /**
   * Reset (RSTI#): ID to its power-on value, ARB 0, IOREGSEL 0, every redirection entry
   * 0x0000000000010000 (masked). Survives: the input pin levels (external wires).
   */
  reset(): void {
    this.#ioregsel = 0;
    this.#id = this.#resetId;
    this.#arb = 0;
    this.#low.fill(RTE_MASK);
    this.#high.fill(0);
  }

  #checkPin(pin: number): void {
    if (!Number.isInteger(pin) || pin < 0 || pin >= this.pins) {
      throw new RangeError(`I/O APIC pin must be 0..${this.pins - 1}: got ${pin}`);
    }
  }

  #active(pin: number): boolean {
    return this.#level[pin] !== ((this.#low[pin] & RTE_POLARITY_LOW) !== 0);
  }

  /** Drive input pin `pin` to `level` (the electrical level; the entry's INTPOL applies). */
  setPin(pin: number, level: boolean): void {
    this.#checkPin(pin);
    if (this.#level[pin] === level) return;
    const wasActive = this.#active(pin);
    this.#level[pin] = level;
    const active = this.#active(pin);
    const lo = this.#low[pin];
    if ((lo & RTE_LEVEL) !== 0) {
      if (active) this.#serviceLevel(pin);
    } else if (active && !wasActive) {
      if ((lo & RTE_MASK) !== 0) {
        this.#trace.emit("irq", `${this.name}: pin ${pin} edge lost: masked`);
      } else this.#deliver(pin);
    }
  }

  /** Level entry: deliver if active, unmasked and Remote IRR clear. */
  #serviceLevel(pin: number): void {
    const lo = this.#low[pin];
    if ((lo & (RTE_MASK | RTE_REMOTE_IRR)) !== 0 || !this.#active(pin)) return;
    this.#deliver(pin);
  }

  #deliver(pin: number): void {
    const lo = this.#low[pin];
    const mode = (lo >>> 8) & 7;
    const delivery = DELIVERY[mode];
    if (delivery === undefined) {
      this.#trace.emit("irq", `${this.name}: pin ${pin} reserved delivery mode ${mode}: dropped`);
      return;
    }
    const levelTriggered = (lo & RTE_LEVEL) !== 0 &&
      (delivery === "fixed" || delivery === "lowest");
    const accepted = this.#bus.send({
      vector: lo & 0xff,
      delivery,
      destMode: (lo & 0x800) !== 0 ? "logical" : "physical",
      dest: this.#high[pin] >>> 24,
      trigger: levelTriggered ? "level" : "edge",
      level: true,
    });
    if (levelTriggered) {
      if (accepted > 0) this.#low[pin] = (lo & ~RTE_STATUS) | RTE_REMOTE_IRR;
      else {
        this.#low[pin] = lo | RTE_STATUS;
        this.#trace.emit("irq", `${this.name}: pin ${pin} not accepted: send pending`);
      }
    } else if (accepted === 0) {
      this.#trace.emit("irq", `${this.name}: pin ${pin} ${delivery} not accepted: lost`);
    }
  }

  /** EOI message from a local APIC: clear Remote IRR of level entries with `vector`, redeliver. */
  eoi(vector: number): void {
    for (let pin = 0; pin < this.pins; pin++) {
      const lo = this.#low[pin];
      if ((lo & RTE_REMOTE_IRR) !== 0 && (lo & 0xff) === (vector & 0xff)) {
        this.#low[pin] = lo & ~RTE_REMOTE_IRR;
        this.#trace.emit("irq", `${this.name}: pin ${pin} remote IRR cleared by EOI`);
        if ((lo & RTE_LEVEL) !== 0) this.#serviceLevel(pin);
      }
    }
  }

  /** Retry level interrupts left "send pending" because no local APIC accepted them. */
  retryPending(): void {
    for (let pin = 0; pin < this.pins; pin++) {
      if ((this.#low[pin] & RTE_STATUS) !== 0) {
        this.#low[pin] &= ~RTE_STATUS;
        if ((this.#low[pin] & RTE_LEVEL) !== 0) this.#serviceLevel(pin);
      }
    }
  }

  #readRegister(index: number): number | undefined {
    if (index === IOAPIC_REGISTERS.ID) return (this.#id << 24) >>> 0;
    if (index === IOAPIC_REGISTERS.VERSION) return this.version;
    if (index === IOAPIC_REGISTERS.ARB) return (this.#arb << 24) >>> 0;
    const n = (index - IOAPIC_REGISTERS.REDTBL0) >> 1;
    if (index >= IOAPIC_REGISTERS.REDTBL0 && n < this.pins) {
      return (index & 1) === 0 ? this.#low[n] : this.#high[n];
    }
    return undefined;
  }

  #writeRegister(index: number, value: number): string {
    if (index === IOAPIC_REGISTERS.ID) {
      this.#id = (value >>> 24) & 0xf;
      this.#arb = this.#id; // writing the ID also loads the arbitration ID
      return `id=${this.#id}`;
    }
    if (index === IOAPIC_REGISTERS.VERSION || index === IOAPIC_REGISTERS.ARB) {
      return "read-only, ignored";
    }
    const n = (index - IOAPIC_REGISTERS.REDTBL0) >> 1;
    if (index < IOAPIC_REGISTERS.REDTBL0 || n >= this.pins) return "no such register, ignored";
    if ((index & 1) === 1) {
      this.#high[n] = value & 0xff000000;
      return `pin ${n} dest=${formatHex(this.#high[n] >>> 24, 8)}`;
    }
    const old = this.#low[n];
    let lo = (old & ~RTE_WRITABLE_LOW) | (value & RTE_WRITABLE_LOW);
    if ((lo & RTE_LEVEL) === 0) lo &= ~RTE_REMOTE_IRR; // edge: Remote IRR cleared
    lo >>>= 0;
    this.#low[n] = lo;
    if ((lo & RTE_LEVEL) !== 0) {
      if ((lo & RTE_MASK) !== 0) {
        // masked: nothing is sent; a pending retry waits for the unmask
      } else if ((lo & RTE_STATUS) !== 0) {
        this.#low[n] = lo & ~RTE_STATUS;
        this.#serviceLevel(n);
      } else this.#serviceLevel(n);
    } else this.#low[n] &= ~RTE_STATUS;
    return `pin ${n} ${describeLow(this.#low[n])}`;
  }

  /** MMIO read: IOREGSEL (any size, low byte meaningful) or IOWIN (32-bit); others read 0. */
  mmioRead(offset: number, size: MmioSize = 4): number | bigint {
    let value = 0;
    let what: string;
    if (offset >= IOAPIC_MMIO.IOREGSEL && offset < IOAPIC_MMIO.IOREGSEL + 4) {
      value = this.#ioregsel >>> ((offset & 3) * 8);
      what = "IOREGSEL";
    } else if (offset === IOAPIC_MMIO.IOWIN && size === 4) {
      const r = this.#readRegister(this.#ioregsel);
      value = r ?? 0;
      what = `IOWIN[${formatHex(this.#ioregsel, 8)}]${
        r === undefined ? " (no such register)" : ""
      }`;
    } else {
      what = offset === IOAPIC_MMIO.IOWIN
        ? `IOWIN size ${size} (needs 32-bit access)`
        : "reserved offset";
    }
    value >>>= 0;
    this.#trace.emit(
      "mmio",
      `${this.name}: read ${formatHex(offset, 8)} -> ${formatHex(value, 32)}: ${what}`,
    );
    if (size === 8) return BigInt(value);
    return size === 4 ? value : value & ((1 << (size * 8)) - 1);
  }

  /** MMIO write: IOREGSEL (low byte) or IOWIN (32-bit only); other accesses are dropped. */
  mmioWrite(offset: number, size: MmioSize, value: number | bigint): void {
    const v = Number(BigInt.asUintN(32, BigInt(value)));
    let what: string;
    if (offset === IOAPIC_MMIO.IOREGSEL) {
      this.#ioregsel = v & 0xff;
      what = `IOREGSEL=${formatHex(this.#ioregsel, 8)} (${registerName(this.#ioregsel)})`;
    } else if (offset === IOAPIC_MMIO.IOWIN && size === 4) {
      what = `IOWIN[${formatHex(this.#ioregsel, 8)}] ${this.#writeRegister(this.#ioregsel, v)}`;
    } else {
      what = offset === IOAPIC_MMIO.IOWIN
        ? `IOWIN size ${size} dropped (needs 32-bit access)`
        : "reserved offset, dropped";
    }
    this.#trace.emit(
      "mmio",
      `${this.name}: write ${formatHex(offset, 8)} <- ${formatHex(v, size * 8)}: ${what}`,
    );
  }

  /**
   * Datasheet-named state: `id`, `version`, `arb`, `ioregsel`, `pins` (per pin a 64-bit
   * {@linkcode RegisterValue} with {@linkcode REDIRECTION_FIELDS}: vector, delivery, dest_mode,
   * status, polarity, remote_irr, trigger, masked, destination, raw) and `inputs` (pin levels).
   */
  snapshot(): Snapshot {
    const pins: Record<string, RegisterValue> = {};
    for (let n = 0; n < this.pins; n++) {
      pins[String(n)] = new RegisterValue(
        (BigInt(this.#high[n]) << 32n) | BigInt(this.#low[n]),
        64,
        REDIRECTION_FIELDS,
      );
    }
    return {
      id: this.#id,
      version: new RegisterValue(this.version, 32),
      arb: this.#arb,
      ioregsel: this.#ioregsel,
      pins,
      inputs: [...this.#level],
    };
  }
}

function registerName(index: number): string {
  if (index === 0) return "IOAPICID";
  if (index === 1) return "IOAPICVER";
  if (index === 2) return "IOAPICARB";
  if (index >= 0x10) {
    return `IOREDTBL[${(index - 0x10) >> 1}] ${(index & 1) === 0 ? "low" : "high"}`;
  }
  return "reserved";
}

function describeLow(lo: number): string {
  const names = ["Fixed", "LowestPriority", "SMI", "reserved", "NMI", "INIT", "reserved", "ExtINT"];
  return `vector=${formatHex(lo & 0xff, 8)} ${names[(lo >>> 8) & 7]} ${
    (lo & 0x800) !== 0 ? "logical" : "physical"
  } ${(lo & RTE_POLARITY_LOW) !== 0 ? "active-low" : "active-high"} ${
    (lo & RTE_LEVEL) !== 0 ? "level" : "edge"
  }${(lo & RTE_MASK) !== 0 ? " masked" : ""}${(lo & RTE_REMOTE_IRR) !== 0 ? " remote-irr" : ""}`;
}
