/**
 * The PC/AT pair of Intel 8259A programmable interrupt controllers, plus the PIIX/EISA-style
 * edge/level control register (ELCR).
 *
 * Wiring (reference/hardware.md §1.1): master at ports 0x20/0x21, slave at 0xA0/0xA1, the slave's
 * INT output drives the master's IR2, the master's INT is the pair's output ({@linkcode
 * I8259Pair.intOutput}). ISA IRQ n is master IRn (n < 8) or slave IR(n-8). The ELCR (0x4D0 master,
 * 0x4D1 slave) is a chipset register beside the 8259s: bit n = 1 makes that input level-sensitive.
 *
 * Behaviour follows the 8259A datasheet (order 231468). The model of one input ("priority cell"):
 * an edge-sense latch is set by a low-to-high transition of IRn and cleared when ISRn is set by an
 * acknowledge and by ICW1; IRRn = IRn AND (edge latch OR level mode). So an edge-triggered request
 * must stay high until it is acknowledged: if it drops earlier the request is gone and an
 * acknowledge already under way gets the default IR7 (datasheet "IR triggering timing").
 * Where QEMU, Bochs or v86 differ, a one-line comment says so.
 *
 * @module
 */

import { type FieldTable, formatHex, RegisterValue, type Snapshot } from "./fields.ts";
import type { IoBus, IoDevice, IoSize } from "./io_bus.ts";
import type { Trace } from "./trace.ts";

// ---- Register map -----------------------------------------------------------------------------

/** Master command port (A0 = 0): ICW1, OCW2, OCW3; reads IRR/ISR/poll. */
export const PIC_MASTER_COMMAND = 0x20;
/** Master data port (A0 = 1): ICW2..ICW4, OCW1 (IMR); reads IMR/poll. */
export const PIC_MASTER_DATA = 0x21;
/** Slave command port. */
export const PIC_SLAVE_COMMAND = 0xa0;
/** Slave data port. */
export const PIC_SLAVE_DATA = 0xa1;
/** ELCR for IRQ0-7. */
export const ELCR_MASTER = 0x4d0;
/** ELCR for IRQ8-15. */
export const ELCR_SLAVE = 0x4d1;
/** Writable ELCR bits (IRQ0, 1, 2, 8 and 13 are always edge): 0x4D1 << 8 | 0x4D0. */
export const ELCR_WRITABLE = 0xdef8;
/** Master input the slave's INT is wired to on the PC/AT. */
export const PIC_CASCADE_IR = 2;

/** ICW1 bits (command port, D4 = 1). */
export const ICW1_IC4 = 0x01;
/** ICW1: single chip, no ICW3. */
export const ICW1_SNGL = 0x02;
/** ICW1: call address interval 4 (MCS-80/85 only). */
export const ICW1_ADI = 0x04;
/** ICW1: level-triggered mode for all inputs. */
export const ICW1_LTIM = 0x08;
/** ICW1 marker bit (D4). */
export const ICW1_INIT = 0x10;
/** ICW4: 8086/88 mode (µPM). */
export const ICW4_UPM = 0x01;
/** ICW4: automatic EOI. */
export const ICW4_AEOI = 0x02;
/** ICW4: master (buffered mode only). */
export const ICW4_MS = 0x04;
/** ICW4: buffered mode. */
export const ICW4_BUF = 0x08;
/** ICW4: special fully nested mode. */
export const ICW4_SFNM = 0x10;
/** OCW3 bits (command port, D4:D3 = 01). */
export const OCW3_RIS = 0x01;
/** OCW3: act on RIS. */
export const OCW3_RR = 0x02;
/** OCW3: poll command. */
export const OCW3_P = 0x04;
/** OCW3 marker bit (D3). */
export const OCW3_MARK = 0x08;
/** OCW3: special mask mode value. */
export const OCW3_SMM = 0x20;
/** OCW3: enable loading SMM. */
export const OCW3_ESMM = 0x40;

/** ICW1 named fields. */
export const ICW1_FIELDS: FieldTable = {
  ic4: { lsb: 0, width: 1, doc: "ICW4 will follow" },
  sngl: { lsb: 1, width: 1, doc: "single 8259A, no ICW3" },
  adi: { lsb: 2, width: 1, doc: "call address interval 4 (MCS-80/85)" },
  ltim: { lsb: 3, width: 1, doc: "level-triggered mode for all inputs" },
  a7_a5: { lsb: 5, width: 3, doc: "MCS-80/85 vector address bits A7-A5" },
};

/** ICW4 named fields. */
export const ICW4_FIELDS: FieldTable = {
  upm: { lsb: 0, width: 1, doc: "1 = 8086/88 mode, 0 = MCS-80/85 mode" },
  aeoi: { lsb: 1, width: 1, doc: "automatic end of interrupt" },
  ms: { lsb: 2, width: 1, doc: "buffered mode: 1 = master, 0 = slave" },
  buf: { lsb: 3, width: 1, doc: "buffered mode" },
  sfnm: { lsb: 4, width: 1, doc: "special fully nested mode" },
};

/** Fields of an 8-bit IRR/ISR/IMR value: `ir0`..`ir7`. */
export const IR_FIELDS: FieldTable = Object.fromEntries(
  Array.from({ length: 8 }, (_, i) => [`ir${i}`, { lsb: i, width: 1 }]),
);

/** Fields of the 16-bit ELCR: `irq0`..`irq15` (1 = level-triggered). */
export const ELCR_FIELDS: FieldTable = Object.fromEntries(
  Array.from({ length: 16 }, (_, i) => [`irq${i}`, { lsb: i, width: 1 }]),
);

/** Initialization sequence state of one 8259A. */
export type I8259InitState = "uninitialized" | "icw2" | "icw3" | "icw4" | "ready";

/** Options for {@linkcode I8259Pair}. */
export interface I8259PairOptions {
  /** Trace for register accesses and interrupt acknowledges. */
  trace: Trace;
  /** Whether the board has the ELCR at 0x4D0/0x4D1 (default true; false on ISA-only boards). */
  elcr?: boolean;
}

const OCW2_NAMES = [
  "clear rotate-in-AEOI",
  "non-specific EOI",
  "no operation",
  "specific EOI",
  "set rotate-in-AEOI",
  "rotate on non-specific EOI",
  "set priority",
  "rotate on specific EOI",
];

/** Result of the first INTA pulse (or a poll) on one chip. */
interface Selection {
  level: number;
  spurious: boolean;
}

/** One 8259A. Private to this module: the pair is the device. */
class Chip {
  readonly name: string;
  /** Hard-wired role (SP/EN pin): the master drives CAS0-2, the slave listens. */
  readonly isMaster: boolean;
  readonly #trace: Trace;

  // Datasheet registers.
  irr = 0;
  isr = 0;
  imr = 0xff;
  icw1 = 0;
  icw2 = 0;
  icw3 = 7;
  icw4 = 0;
  initState: I8259InitState = "uninitialized";
  /** Lowest-priority level (7 = fixed priority IR0 highest). */
  lowest = 7;
  rotateAeoi = false;
  specialMask = false;
  poll = false;
  readIsr = false;

  // Inputs.
  /** IR pin levels (driven from outside, survive reset). */
  lines = 0;
  /** Edge-sense latches. */
  edge = 0;
  /** ELCR bits for this chip's inputs (1 = level). */
  elcr = 0;

  constructor(name: string, isMaster: boolean, trace: Trace) {
    this.name = name;
    this.isMaster = isMaster;
    this.#trace = trace;
  }

  get ltim(): boolean {
    return (this.icw1 & ICW1_LTIM) !== 0;
  }
  get single(): boolean {
    return (this.icw1 & ICW1_SNGL) !== 0;
  }
  get aeoi(): boolean {
    return (this.icw4 & ICW4_AEOI) !== 0;
  }
  get sfnm(): boolean {
    return (this.icw4 & ICW4_SFNM) !== 0;
  }
  get mode8086(): boolean {
    return (this.icw4 & ICW4_UPM) !== 0;
  }
  get vectorBase(): number {
    // T7-T3 only; v86 keeps all eight ICW2 bits and ORs the level in.
    return this.icw2 & 0xf8;
  }
  /** Inputs with a slave behind them (master in cascade mode only). */
  get cascadeInputs(): number {
    return this.isMaster && !this.single ? this.icw3 : 0;
  }
  /** Inputs currently level-sensitive: LTIM applies to all eight, ELCR per input. */
  get levelMask(): number {
    return this.ltim ? 0xff : this.elcr;
  }

  /** Power-on state: see {@linkcode I8259Pair.reset}. */
  reset(): void {
    this.isr = 0;
    this.imr = 0xff;
    this.icw1 = 0;
    this.icw2 = 0;
    this.icw3 = this.isMaster ? 0 : 7; // master: no cascade inputs until ICW3; slave ID 7
    this.icw4 = 0;
    this.initState = "uninitialized";
    this.lowest = 7;
    this.rotateAeoi = false;
    this.specialMask = false;
    this.poll = false;
    this.readIsr = false;
    this.edge = 0;
    this.updateIrr();
  }

  updateIrr(): void {
    // Edge: IRR = line AND latch. QEMU keeps an edge request in IRR after the line falls (until
    // INTA); Bochs clears IRR when the line falls in both modes; v86 clears it only in level mode.
    const level = this.levelMask;
    this.irr = (this.lines & level) | (this.lines & this.edge & ~level & 0xff);
  }

  setLine(ir: number, high: boolean): void {
    const bit = 1 << ir;
    const was = (this.lines & bit) !== 0;
    if (high === was) return;
    if (high) {
      this.lines |= bit;
      this.edge |= bit; // low-to-high transition sets the edge-sense latch
    } else {
      this.lines &= ~bit;
    }
    this.updateIrr();
  }

  /** Priority rank of a level: 0 = highest. */
  rank(level: number): number {
    return (level - this.lowest - 1) & 7;
  }

  /** Highest-priority level set in `mask`, or -1. */
  highest(mask: number): number {
    if ((mask & 0xff) === 0) return -1;
    for (let i = 0; i < 8; i++) {
      const level = (this.lowest + 1 + i) & 7;
      if (mask & (1 << level)) return level;
    }
    return -1;
  }

  /** The request the priority resolver presents on INT, or -1 (reference §1.8). */
  pending(): number {
    const request = this.highest(this.irr & ~this.imr);
    if (request < 0) return -1;
    // Special mask mode: masked levels' ISR bits do not inhibit other levels.
    const isr = this.specialMask ? this.isr & ~this.imr : this.isr;
    const inService = this.highest(isr);
    if (inService < 0 || this.rank(request) < this.rank(inService)) return request;
    // SFNM: a slave in service is not locked out, so a new request on its own (cascade) level is
    // presented; lower levels stay blocked. QEMU instead drops ISR2 entirely, letting lower
    // master levels through as well.
    if (
      this.sfnm && request === inService && (this.cascadeInputs & (1 << request)) !== 0
    ) return request;
    return -1;
  }

  get int(): boolean {
    return this.pending() >= 0;
  }

  /** First INTA pulse (or poll read): freeze the winner, set its ISR bit, clear its edge latch. */
  select(): Selection {
    const level = this.pending();
    if (level < 0) {
      // Default IR7: respond as IR7 without setting ISR7 (datasheet; QEMU/Bochs agree, v86 never
      // produces a spurious vector).
      return { level: 7, spurious: true };
    }
    const bit = 1 << level;
    this.isr |= bit;
    this.edge &= ~bit;
    this.updateIrr();
    return { level, spurious: false };
  }

  /** End of the last INTA pulse: automatic EOI (and rotation) if programmed. */
  finish(sel: Selection): void {
    if (sel.spurious || !this.aeoi) return;
    if (!this.mode8086) {
      // MCS-80/85 mode performs AEOI at the third INTA pulse, which an x86 never issues.
      return;
    }
    // AEOI is a non-specific EOI at the end of the last INTA pulse; the level just acknowledged
    // is always the highest-priority (unmasked) ISR bit at that point, so clear exactly it.
    this.isr &= ~(1 << sel.level);
    if (this.rotateAeoi) this.lowest = sel.level;
  }

  /** The byte this chip drives on the second INTA pulse for `level`. */
  vectorFor(level: number): number {
    if (this.mode8086) return this.vectorBase | level;
    // MCS-80/85 mode: the second INTA pulse carries the low byte of the CALL address.
    if (this.icw1 & ICW1_ADI) return (this.icw1 & 0xe0) | (level << 2);
    return (this.icw1 & 0xc0) | (level << 3);
  }

  // ---- Port access --------------------------------------------------------------------------

  write(a0: number, value: number, port: number): void {
    const head = `out ${formatHex(port, 16)} <- ${formatHex(value, 8)}: ${this.name}`;
    if (a0 === 0) {
      if (value & ICW1_INIT) this.#icw1(value, head);
      else if (value & OCW3_MARK) this.#ocw3(value, head);
      else this.#ocw2(value, head);
      return;
    }
    switch (this.initState) {
      case "icw2":
        this.icw2 = value;
        this.initState = this.single ? (this.icw1 & ICW1_IC4 ? "icw4" : "ready") : "icw3";
        this.#trace.emit(
          "io",
          `${head} ICW2 vector_base=${formatHex(this.vectorBase, 8)}${
            this.initState === "ready" ? " (init done)" : ""
          }`,
        );
        return;
      case "icw3": {
        // QEMU and v86 ignore ICW3 (the slave always answers IR2); Bochs panics unless 0x04/2.
        this.icw3 = value;
        this.initState = this.icw1 & ICW1_IC4 ? "icw4" : "ready";
        let note = "";
        if (this.isMaster) {
          if ((value & (1 << PIC_CASCADE_IR)) === 0) {
            note = " (IR2 not marked as cascade: the wired slave will never be addressed)";
          }
        } else if ((value & 7) !== PIC_CASCADE_IR || (value & 0xf8) !== 0) {
          note = ` (slave ID ${value & 7}: the slave is wired to master IR2)`;
        }
        this.#trace.emit(
          "io",
          `${head} ICW3 ${this.isMaster ? "cascade inputs" : "slave id"}=${
            formatHex(this.isMaster ? value : value & 7, 8)
          }${note}${this.initState === "ready" ? " (init done)" : ""}`,
        );
        return;
      }
      case "icw4": {
        this.icw4 = value;
        this.initState = "ready";
        const notes: string[] = [];
        if (!(value & ICW4_UPM)) notes.push("MCS-80/85 mode: x86 INTA cycles read CALL bytes");
        if (value & 0xe0) notes.push("reserved bits 7:5 set");
        if ((value & ICW4_BUF) && ((value & ICW4_MS) !== 0) !== this.isMaster) {
          notes.push("buffered M/S disagrees with the board wiring; wiring kept");
        }
        this.#trace.emit(
          "io",
          `${head} ICW4 upm=${value & 1} aeoi=${(value >> 1) & 1} buf=${(value >> 3) & 1} ms=${
            (value >> 2) & 1
          } sfnm=${(value >> 4) & 1} (init done)${notes.length ? ` [${notes.join("; ")}]` : ""}`,
        );
        return;
      }
      default:
        this.imr = value;
        this.#trace.emit("io", `${head} OCW1 imr=${formatHex(value, 8)}`);
    }
  }

  #icw1(value: number, head: string): void {
    // Datasheet ICW1 effects: edge-sense circuit reset, IMR cleared, IR7 lowest priority,
    // slave-mode address 7, special mask mode cleared, status read = IRR, ICW4 functions zeroed
    // when IC4 = 0. Clearing ISR is not in that list (searched again: still UNCONFIRMED); QEMU,
    // Bochs and v86 all clear it, and so do we. Poll and rotate-in-AEOI are cleared as in QEMU.
    this.icw1 = value;
    this.edge = 0;
    this.imr = 0;
    this.isr = 0;
    this.lowest = 7;
    this.icw3 = 7;
    this.specialMask = false;
    this.readIsr = false;
    this.poll = false;
    this.rotateAeoi = false;
    // QEMU also clears AEOI/SFNM when IC4 = 1 and sets IRR &= ELCR and base = 0; Bochs keeps the
    // read select and special mask; v86 forces AEOI on (kept when there is no ICW4).
    if (!(value & ICW1_IC4)) this.icw4 = 0;
    this.initState = "icw2";
    this.updateIrr();
    const notes: string[] = [];
    if (!(value & ICW1_IC4)) notes.push("no ICW4: MCS-80/85 mode, no AEOI");
    if (value & ICW1_LTIM) notes.push("level-triggered"); // Bochs panics on LTIM, v86 asserts
    this.#trace.emit(
      "io",
      `${head} ICW1 ic4=${value & 1} sngl=${(value >> 1) & 1} ltim=${(value >> 3) & 1}${
        notes.length ? ` (${notes.join("; ")})` : ""
      }`,
    );
  }

  #ocw2(value: number, head: string): void {
    // All eight R/SL/EOI commands (QEMU too); Bochs accepts only the exact bytes and panics on
    // others, v86 implements only 0x20 and 0x60+L.
    const cmd = value >> 5;
    const level = value & 7;
    let effect = "";
    switch (cmd) {
      case 0: // R SL EOI = 000
        this.rotateAeoi = false;
        break;
      case 4: // 100
        this.rotateAeoi = true;
        break;
      case 2: // 010: no operation
        break;
      case 1: // 001 non-specific EOI (v86 clears the lowest-numbered ISR bit instead)
      case 5: { // 101 rotate on non-specific EOI (v86 has no rotation at all)
        // In special mask mode a non-specific EOI does not clear a masked ISR bit (datasheet;
        // QEMU clears the highest ISR bit regardless, see hw/testdata/i8259_qemu.json).
        const target = this.highest(this.specialMask ? this.isr & ~this.imr : this.isr);
        if (target < 0) {
          effect = " (no ISR bit set)";
          break;
        }
        this.isr &= ~(1 << target);
        if (cmd === 5) this.lowest = target;
        effect = ` cleared IR${target}`;
        break;
      }
      case 3: // 011 specific EOI
        this.isr &= ~(1 << level);
        effect = ` IR${level}`;
        break;
      case 7: // 111 rotate on specific EOI
        this.isr &= ~(1 << level);
        this.lowest = level;
        effect = ` IR${level}`;
        break;
      case 6: // 110 set priority (Bochs does not re-evaluate INT here)
        this.lowest = level;
        effect = ` lowest=IR${level}`;
        break;
    }
    this.#trace.emit("io", `${head} OCW2 ${OCW2_NAMES[cmd]}${effect}`);
  }

  #ocw3(value: number, head: string): void {
    const parts: string[] = [];
    if (value & OCW3_ESMM) {
      this.specialMask = (value & OCW3_SMM) !== 0;
      parts.push(`special_mask=${this.specialMask ? 1 : 0}`);
    }
    if (value & OCW3_P) {
      // "Polling overrides status read when P = 1, RR = 1": the read-register bits are ignored
      // (as Bochs; QEMU applies both).
      this.poll = true;
      parts.push("poll");
    } else if (value & OCW3_RR) {
      this.readIsr = (value & OCW3_RIS) !== 0;
      parts.push(`read ${this.readIsr ? "ISR" : "IRR"}`);
    }
    if (value & 0x80) parts.push("reserved bit 7 set");
    this.#trace.emit("io", `${head} OCW3 ${parts.length ? parts.join(" ") : "no action"}`);
  }

  /** Poll read: an acknowledge without INTA (datasheet §poll command). */
  pollRead(): number {
    // Bochs returns the level without bit 7 and clears the highest ISR bit; v86 has no poll.
    this.poll = false;
    // The master does not address a slave on a poll (CAS lines are only driven on INTA).
    const level = this.pending();
    if (level < 0) return 0;
    const sel = this.select();
    // AEOI on a poll: not stated by the datasheet (searched again, still UNCONFIRMED); as QEMU, yes.
    this.finish(sel);
    return 0x80 | sel.level;
  }

  read(a0: number, port: number): number {
    let value: number;
    let what: string;
    if (this.poll) {
      value = this.pollRead();
      what = value & 0x80 ? `poll IR${value & 7}` : "poll (no request)";
    } else if (a0 === 1) {
      value = this.imr;
      what = "IMR";
    } else {
      value = this.readIsr ? this.isr : this.irr;
      what = this.readIsr ? "ISR" : "IRR";
    }
    this.#trace.emit(
      "io",
      `in ${formatHex(port, 16)} -> ${formatHex(value, 8)}: ${this.name} ${what}`,
    );
    return value;
  }

  snapshot(): Snapshot {
    return {
      irr: new RegisterValue(this.irr, 8, IR_FIELDS),
      isr: new RegisterValue(this.isr, 8, IR_FIELDS),
      imr: new RegisterValue(this.imr, 8, IR_FIELDS),
      vector_base: this.vectorBase,
      init_state: this.initState,
      icw1: new RegisterValue(this.icw1, 8, ICW1_FIELDS),
      icw2: new RegisterValue(this.icw2, 8),
      icw3: new RegisterValue(this.icw3, 8),
      icw4: new RegisterValue(this.icw4, 8, ICW4_FIELDS),
      ltim: this.ltim,
      aeoi: this.aeoi,
      sfnm: this.sfnm,
      special_mask: this.specialMask,
      poll: this.poll,
      read_register: this.readIsr ? "isr" : "irr",
      rotate_aeoi: this.rotateAeoi,
      priority: this.lowest,
      int: this.int,
      inputs: new RegisterValue(this.lines, 8, IR_FIELDS),
    };
  }
}

/**
 * The master/slave 8259A pair of a PC/AT with the ELCR.
 *
 * Inputs: {@linkcode I8259Pair.setIrq} (ISA lines), {@linkcode I8259Pair.acknowledge} (the CPU's
 * or local APIC's INTA cycle) and port I/O. Output: {@linkcode I8259Pair.intOutput}, reported
 * through {@linkcode I8259Pair.onOutputChange}.
 *
 * @example
 * ```ts
 * import { I8259Pair } from "./i8259.ts";
 * import { IoBus } from "./io_bus.ts";
 * import { Trace } from "./trace.ts";
 * const trace = new Trace();
 * const io = new IoBus({ trace });
 * const pic = new I8259Pair({ trace });
 * pic.attach(io);
 * for (const [port, v] of [[0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01]]) io.write(port, 1, v);
 * io.write(0x21, 1, 0xfe); // only IRQ0 unmasked
 * pic.setIrq(0, true);
 * pic.intOutput; // true
 * pic.acknowledge(); // 0x30
 * ```
 */
export class I8259Pair implements IoDevice {
  /** Name shown in traces. */
  readonly name = "pic";
  readonly #trace: Trace;
  readonly #hasElcr: boolean;
  readonly #master: Chip;
  readonly #slave: Chip;
  #elcr = 0;
  #int = false;
  #inta: Selection | undefined = undefined;
  readonly #listeners: ((level: boolean) => void)[] = [];

  /** Create the pair in its power-on state (see {@linkcode I8259Pair.reset}). */
  constructor(options: I8259PairOptions) {
    this.#trace = options.trace;
    this.#hasElcr = options.elcr ?? true;
    this.#master = new Chip("pic.master", true, this.#trace);
    this.#slave = new Chip("pic.slave", false, this.#trace);
    this.reset();
  }

  /** Register ports 0x20-0x21, 0xA0-0xA1 and (with ELCR) 0x4D0-0x4D1 on `io`. */
  attach(io: IoBus): void {
    io.register(PIC_MASTER_COMMAND, 2, this);
    io.register(PIC_SLAVE_COMMAND, 2, this);
    if (this.#hasElcr) io.register(ELCR_MASTER, 2, this);
  }

  /**
   * Power-on reset. Real 8259A contents are undefined after power-up; this model starts every
   * chip uninitialized with IMR = 0xFF (nothing can interrupt until software initializes it, as
   * Bochs; QEMU resets IMR to 0), ISR = 0, edge latches clear, fixed priority, vector base 0,
   * ICW4 functions 0 (so MCS-80/85 mode until an ICW4 says otherwise), no cascade inputs on the
   * master, slave ID 7, and the ELCR 0. What survives: the input line levels (driven by
   * devices), the output listeners and the bus attachment.
   */
  reset(): void {
    this.#master.reset();
    this.#slave.reset();
    this.#setElcr(0);
    this.#inta = undefined;
    this.#update();
  }

  /**
   * Drive ISA IRQ line `irq` (0-15) to `level` (true = asserted). Edge detection happens inside:
   * an edge-triggered input requests on a low-to-high transition and must stay high until
   * acknowledged. IRQ2 is the cascade input on the AT (ISA IRQ2 devices appear on IRQ9): it is
   * traced and ignored. Level-triggered ELCR inputs take the asserted level as true (the PIIX
   * inverts the active-low PCI level before the 8259).
   */
  setIrq(irq: number, level: boolean): void {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15) {
      throw new RangeError(`Invalid ISA IRQ number: ${irq} (expected 0-15)`);
    }
    if (irq === PIC_CASCADE_IR) {
      this.#trace.emit("irq", `pic: IRQ2 ${level ? "raised" : "lowered"} ignored (cascade input)`);
      return;
    }
    if (irq < 8) this.#master.setLine(irq, level);
    else this.#slave.setLine(irq - 8, level);
    this.#update();
  }

  /** Level of the master's INT output pin. */
  get intOutput(): boolean {
    return this.#int;
  }

  /** Call `cb` whenever the INT output changes level (called with the new level). */
  onOutputChange(cb: (level: boolean) => void): void {
    this.#listeners.push(cb);
  }

  /**
   * A full 8086-mode INTA cycle (both pulses, with the cascade): returns the vector byte. Same as
   * {@linkcode I8259Pair.inta1} followed by {@linkcode I8259Pair.inta2}.
   *
   * The master selects its highest presentable request (or the default IR7 without touching ISR
   * when none is valid). If that input has a slave (master ICW3 bit, cascade mode), the master
   * sets its ISR bit and puts the input number on CAS0-2; the slave whose ICW3 ID matches
   * selects and supplies the vector (a default IR7 there gives slave_base + 7 with the slave's
   * ISR untouched while the master's ISR2 stays set). If no slave answers, nothing drives the
   * data bus and the CPU reads 0xFF. AEOI (and rotate-in-AEOI) is applied at the end. A chip in
   * MCS-80/85 mode answers with the CALL address low byte (traced; the third pulse never comes).
   */
  acknowledge(): number {
    this.inta1();
    return this.inta2();
  }

  /**
   * First INTA pulse: the master freezes its highest presentable request (or the default IR7),
   * sets its ISR bit and clears its edge latch, and drives the cascade address if the input has
   * a slave. Inputs that change before {@linkcode I8259Pair.inta2} model the propagation race
   * of real hardware: the addressed slave resolves its request when it is enabled onto the bus,
   * so a slave request that went away in between gives the slave's default IR7 (spurious IRQ15).
   */
  inta1(): void {
    if (this.#inta !== undefined) {
      this.#trace.emit("irq", "pic: INTA first pulse while a cycle is open: ignored");
      return;
    }
    this.#inta = this.#master.select();
    // INT is not re-evaluated between the pulses (the IRR is frozen during the cycle).
  }

  /** Second INTA pulse: returns the vector byte and completes the cycle (see `acknowledge`). */
  inta2(): number {
    if (this.#inta === undefined) {
      this.#trace.emit("irq", "pic: INTA second pulse without a first: running a full cycle");
      this.#inta = this.#master.select();
    }
    const m = this.#master;
    const s = this.#slave;
    const msel = this.#inta;
    this.#inta = undefined;
    let vector: number;
    let what: string;
    if (m.cascadeInputs & (1 << msel.level)) {
      const responds = !s.single && (s.icw3 & 7) === msel.level;
      if (responds) {
        const ssel = s.select();
        vector = s.vectorFor(ssel.level);
        s.finish(ssel);
        what = ssel.spurious
          ? `spurious IRQ15 (slave default IR7, slave ISR untouched; master ISR2 ${
            msel.spurious ? "untouched" : "set"
          })`
          : `IRQ${8 + ssel.level}`;
        if (!s.mode8086) what += " [slave in MCS-80/85 mode: CALL address low byte]";
      } else {
        vector = 0xff;
        what = `IR${msel.level} cascade address ${msel.level}: no slave answered, bus floats`;
      }
    } else {
      vector = m.vectorFor(msel.level);
      what = msel.spurious
        ? "spurious IRQ7 (master default IR7, ISR untouched)"
        : `IRQ${msel.level}`;
      if (!m.mode8086) what += " [master in MCS-80/85 mode: CALL address low byte]";
    }
    m.finish(msel);
    this.#update();
    this.#trace.emit("irq", `pic: INTA -> vector ${formatHex(vector, 8)} (${what})`);
    return vector;
  }

  /** State for expectations: both chips with datasheet names, and the ELCR. */
  snapshot(): Snapshot {
    return {
      master: this.#master.snapshot(),
      slave: this.#slave.snapshot(),
      elcr: new RegisterValue(this.#elcr, 16, ELCR_FIELDS),
      int: this.#int,
    };
  }

  /** Port read (8-bit registers; wider accesses are split into bytes at consecutive ports). */
  ioRead(port: number, size: IoSize): number {
    let value = 0;
    for (let i = 0; i < size; i++) value |= this.#readByte((port + i) & 0xffff) << (8 * i);
    return value >>> 0;
  }

  /** Port write (8-bit registers; wider accesses are split into bytes at consecutive ports). */
  ioWrite(port: number, size: IoSize, value: number): void {
    for (let i = 0; i < size; i++) this.#writeByte((port + i) & 0xffff, (value >>> (8 * i)) & 0xff);
  }

  #readByte(port: number): number {
    switch (port) {
      case PIC_MASTER_COMMAND:
      case PIC_MASTER_DATA: {
        const v = this.#master.read(port & 1, port);
        this.#update();
        return v;
      }
      case PIC_SLAVE_COMMAND:
      case PIC_SLAVE_DATA: {
        const v = this.#slave.read(port & 1, port);
        this.#update();
        return v;
      }
      case ELCR_MASTER:
      case ELCR_SLAVE:
        if (this.#hasElcr) {
          const v = port === ELCR_MASTER ? this.#elcr & 0xff : this.#elcr >> 8;
          this.#trace.emit("io", `in ${formatHex(port, 16)} -> ${formatHex(v, 8)}: elcr`);
          return v;
        }
    }
    this.#trace.emit("unclaimed", `in ${formatHex(port, 16)}: not a pic port, reads 0xff`);
    return 0xff;
  }

  #writeByte(port: number, value: number): void {
    switch (port) {
      case PIC_MASTER_COMMAND:
      case PIC_MASTER_DATA:
        this.#master.write(port & 1, value, port);
        this.#update();
        return;
      case PIC_SLAVE_COMMAND:
      case PIC_SLAVE_DATA:
        this.#slave.write(port & 1, value, port);
        this.#update();
        return;
      case ELCR_MASTER:
      case ELCR_SLAVE:
        if (this.#hasElcr) {
          const next = port === ELCR_MASTER
            ? (this.#elcr & 0xff00) | value
            : (this.#elcr & 0xff) | (value << 8);
          this.#setElcr(next);
          this.#trace.emit(
            "io",
            `out ${formatHex(port, 16)} <- ${formatHex(value, 8)}: elcr=${
              formatHex(this.#elcr, 16)
            }`,
          );
          this.#update();
          return;
        }
    }
    this.#trace.emit("unclaimed", `out ${formatHex(port, 16)}: not a pic port, dropped`);
  }

  #setElcr(value: number): void {
    this.#elcr = value & ELCR_WRITABLE;
    this.#master.elcr = this.#elcr & 0xff;
    this.#slave.elcr = this.#elcr >> 8;
    this.#master.updateIrr();
    this.#slave.updateIrr();
  }

  /** Propagate slave INT to master IR2 and report a change of the master INT. */
  #update(): void {
    this.#master.setLine(PIC_CASCADE_IR, this.#slave.int);
    const level = this.#master.int;
    if (level === this.#int) return;
    this.#int = level;
    this.#trace.emit("irq", `pic: INT ${level ? "raised" : "lowered"}`);
    for (const cb of this.#listeners) cb(level);
  }
}
