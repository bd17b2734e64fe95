/**
 * Intel 8254 programmable interval timer (ports 0x40-0x43) and the PC/AT system control port B
 * (port 0x61: channel 2 gate, speaker enable, refresh toggle, OUT2).
 *
 * Time base: the counters' CLK input runs at {@linkcode PIT_INPUT_HZ} = 1 193 182 Hz on virtual
 * time. Input pulse k happens at `ceil(k * 1e9 / 1193182)` ns and the number of pulses up to time
 * t ns is `floor(t * 1193182 / 1e9)` (t taken as whole nanoseconds), computed exactly in integer
 * arithmetic split at whole seconds, so nothing drifts however long the run is (the real crystal
 * is 14.31818 MHz / 12 = 1 193 181.8 Hz: 0.15 ppm away). Counter values are derived from the
 * pulse count on demand; only channel 0, whose OUT drives IRQ0, schedules its output edges on the
 * {@linkcode VirtualClock}. Port 0x61 bit 4 toggles every 18 input pulses (15.0857 µs), the AT
 * DRAM refresh period.
 *
 * Modes follow the 8254 datasheet (order 231164): 0 interrupt on terminal count, 1 retriggerable
 * one-shot, 2 rate generator, 3 square wave, 4 software strobe, 5 hardware strobe; BCD counting;
 * counter latch and read-back commands; the gate input (tied high on channels 0 and 1, port 0x61
 * bit 0 on channel 2).
 *
 * @module
 */

import type { EventHandle, VirtualClock } from "./clock.ts";
import { formatHex, type Snapshot } from "./fields.ts";
import type { IoBus, IoDevice, IoSize } from "./io_bus.ts";
import type { Trace } from "./trace.ts";

// ---- Register map -----------------------------------------------------------------------------

/** Counter 0 data port (IRQ0). */
export const PIT_COUNTER0 = 0x40;
/** Counter 1 data port (DRAM refresh on the AT). */
export const PIT_COUNTER1 = 0x41;
/** Counter 2 data port (speaker, gate from port 0x61). */
export const PIT_COUNTER2 = 0x42;
/** Control word register (write only). */
export const PIT_CONTROL = 0x43;
/** System control port B. */
export const PORT_B = 0x61;
/** Port 0x61 bit 0: timer 2 gate. */
export const PORT_B_GATE2 = 0x01;
/** Port 0x61 bit 1: speaker data enable. */
export const PORT_B_SPEAKER = 0x02;
/** Port 0x61 bit 4: refresh toggle (read only). */
export const PORT_B_REFRESH = 0x10;
/** Port 0x61 bit 5: timer 2 OUT (read only). */
export const PORT_B_OUT2 = 0x20;

/** Control word: select counter (bits 7:6; 3 = read-back). */
export const PIT_SC_SHIFT = 6;
/** Control word: read/write mode (bits 5:4; 0 = counter latch command). */
export const PIT_RW_SHIFT = 4;
/** Control word: mode (bits 3:1). */
export const PIT_MODE_SHIFT = 1;
/** Control word: BCD counting (bit 0). */
export const PIT_BCD = 0x01;
/** Read-back: do not latch count (bit 5, active low). */
export const PIT_RB_NO_COUNT = 0x20;
/** Read-back: do not latch status (bit 4, active low). */
export const PIT_RB_NO_STATUS = 0x10;

/** Counter input clock in Hz. */
export const PIT_INPUT_HZ = 1193182;
/** Input pulses per refresh toggle of port 0x61 bit 4 (18 / 1.193182 MHz = 15.0857 µs). */
export const REFRESH_TICKS = 18;

const NS_PER_S = 1_000_000_000;

function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q--;
  else if ((q + 1) * b <= a) q++;
  return q;
}

/**
 * Number of PIT input pulses in `[0, ns]`: `floor(floor(ns) * 1193182 / 1e9)`, exact.
 *
 * @example
 * ```ts
 * import { pitTicksAt } from "./pit.ts";
 * pitTicksAt(1_000_000_000); // 1193182
 * ```
 */
export function pitTicksAt(ns: number): number {
  const t = Math.floor(ns);
  const s = Math.floor(t / NS_PER_S);
  const r = t - s * NS_PER_S;
  return s * PIT_INPUT_HZ + floorDiv(r * PIT_INPUT_HZ, NS_PER_S);
}

/**
 * Virtual time (ns) of input pulse `k`: the first whole nanosecond where
 * {@linkcode pitTicksAt} reaches `k`, i.e. `ceil(k * 1e9 / 1193182)`.
 *
 * @example
 * ```ts
 * import { pitTickTime } from "./pit.ts";
 * pitTickTime(1); // 839
 * ```
 */
export function pitTickTime(k: number): number {
  const s = Math.floor(k / PIT_INPUT_HZ);
  const r = k - s * PIT_INPUT_HZ;
  return s * NS_PER_S - floorDiv(-r * NS_PER_S, PIT_INPUT_HZ);
}

/** Access mode of a counter as programmed by RW1:RW0. */
export type PitAccess = "latch" | "lsb" | "msb" | "lsb-msb";
const ACCESS_NAMES: PitAccess[] = ["latch", "lsb", "msb", "lsb-msb"];

function toBcd(v: number): number {
  return (v % 10) | (Math.floor(v / 10) % 10) << 4 | (Math.floor(v / 100) % 10) << 8 |
    (Math.floor(v / 1000) % 10) << 12;
}

function fromBcd(raw: number): number {
  // Nibbles above 9 are undefined on the chip; they are weighted as if they were digits.
  return (raw & 15) + ((raw >> 4) & 15) * 10 + ((raw >> 8) & 15) * 100 + ((raw >> 12) & 15) * 1000;
}

function mod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}

/** One 8254 counter. Times are input pulse numbers (`p` = pulses so far). */
class Counter {
  readonly index: number;
  readonly #trace: Trace;
  gate: boolean;
  programmed = false;
  /** Control bits 5:0 as last written (RW, M, BCD) for the status byte. */
  control = 0;
  mode = 0;
  access = 3;
  bcd = false;
  /** Count register as written (raw, BCD-encoded in BCD mode). */
  crRaw = 0;
  #lowByte = 0;
  writeMsbNext = false;
  readMsbNext = false;
  latched: number | undefined = undefined;
  latchMsbNext = false;
  status: number | undefined = undefined;
  nullCount = true;
  hasCount = false;

  // Counting element.
  loaded = false;
  n = 0;
  start = 0;
  running = false;
  counted = 0;
  runFrom = 0;
  frozen = 0;
  staticOut = false;
  loadAt = -1;
  switchAt = -1;
  switchFalling = false;

  constructor(index: number, gate: boolean, trace: Trace) {
    this.index = index;
    this.gate = gate;
    this.#trace = trace;
  }

  get modulus(): number {
    return this.bcd ? 10000 : 65536;
  }

  /** Initial count N from the count register (0 means the full modulus). */
  get initial(): number {
    const v = this.bcd ? fromBcd(this.crRaw) : this.crRaw;
    return v === 0 ? this.modulus : v;
  }

  reset(gate: boolean): void {
    this.gate = gate;
    this.programmed = false;
    this.control = 0;
    this.mode = 0;
    this.access = 3;
    this.bcd = false;
    this.crRaw = 0;
    this.#lowByte = 0;
    this.writeMsbNext = false;
    this.readMsbNext = false;
    this.latched = undefined;
    this.latchMsbNext = false;
    this.status = undefined;
    this.nullCount = true;
    this.hasCount = false;
    this.loaded = false;
    this.n = 0;
    this.start = 0;
    this.running = false;
    this.counted = 0;
    this.runFrom = 0;
    this.frozen = 0;
    this.staticOut = false;
    this.loadAt = -1;
    this.switchAt = -1;
  }

  /** Apply the transitions due at or before pulse `p`. */
  sync(p: number): void {
    if (this.loadAt >= 0 && p >= this.loadAt) this.#load(this.loadAt);
    if (this.switchAt >= 0 && p >= this.switchAt) {
      const b = this.switchAt;
      const n = this.initial;
      this.switchAt = -1;
      this.nullCount = false;
      this.n = n;
      // Mode 3: a count that takes over at a falling boundary starts in its low half.
      this.start = this.switchFalling ? b - ((n + 1) >> 1) : b;
    }
  }

  #load(s: number): void {
    this.loadAt = -1;
    this.loaded = true;
    this.nullCount = false;
    this.n = this.initial;
    this.start = s;
    this.counted = 0;
    this.runFrom = s;
    this.running = this.mode === 1 || this.mode === 5 ? true : this.gate;
    if (!this.running) this.frozen = this.n % this.modulus;
  }

  #countedAt(p: number): number {
    return this.counted + (this.running ? p - this.runFrom : 0);
  }

  /** Counting element value (binary, 0..modulus-1) at pulse `p` (after sync). */
  ce(p: number): number {
    if (!this.loaded) return this.frozen;
    const m = this.modulus;
    switch (this.mode) {
      case 0:
      case 4:
        return mod(this.n - this.#countedAt(p), m);
      case 1:
      case 5:
        return mod(this.n - (p - this.start), m);
      case 2: {
        if (!this.running) return this.frozen;
        return (this.n - mod(p - this.start, this.n)) % m;
      }
      default: { // 3
        if (!this.running) return this.frozen;
        const n = this.n;
        const d = mod(p - this.start, n);
        if ((n & 1) === 0) return (n - 2 * (d % (n >> 1))) % m;
        const hi = (n + 1) >> 1;
        return (n - 1 - 2 * (d < hi ? d : d - hi)) % m;
      }
    }
  }

  /** OUT level at pulse `p` (after sync). */
  out(p: number): boolean {
    if (!this.loaded) return this.staticOut;
    switch (this.mode) {
      case 0:
        return this.#countedAt(p) >= this.n;
      case 4:
        return this.#countedAt(p) !== this.n;
      case 1:
        return p - this.start >= this.n;
      case 5:
        return p - this.start !== this.n;
      case 2:
        return !this.running || mod(p - this.start, this.n) !== this.n - 1;
      default: // 3
        return !this.running || mod(p - this.start, this.n) < ((this.n + 1) >> 1);
    }
  }

  /** First pulse after `p` where OUT or the counter state may change, or Infinity. */
  nextChange(p: number): number {
    let best = Infinity;
    if (this.loadAt > p) best = this.loadAt;
    if (this.switchAt > p && this.switchAt < best) best = this.switchAt;
    if (!this.loaded) return best;
    let cand = Infinity;
    const n = this.n;
    switch (this.mode) {
      case 0:
      case 4: {
        if (!this.running) break;
        const c = this.#countedAt(p);
        if (c < n) cand = p + (n - c);
        else if (c === n && this.mode === 4) cand = p + 1;
        break;
      }
      case 1:
      case 5: {
        const e = p - this.start;
        if (e < n) cand = this.start + n;
        else if (e === n && this.mode === 5) cand = p + 1;
        break;
      }
      case 2: {
        if (!this.running || n === 1) break;
        const d = mod(p - this.start, n);
        cand = d < n - 1 ? p + (n - 1 - d) : p + 1;
        break;
      }
      default: {
        if (!this.running || n === 1) break;
        const d = mod(p - this.start, n);
        const hi = (n + 1) >> 1;
        cand = d < hi ? p + (hi - d) : p + (n - d);
      }
    }
    return cand < best ? cand : best;
  }

  encoded(p: number): number {
    const v = this.ce(p);
    return this.bcd ? toBcd(v) : v;
  }

  writeControl(p: number, value: number): string {
    this.sync(p);
    this.frozen = this.ce(p);
    this.control = value & 0x3f;
    this.access = (value >> PIT_RW_SHIFT) & 3;
    let mode = (value >> PIT_MODE_SHIFT) & 7;
    if (mode >= 6) mode -= 4; // x10 = mode 2, x11 = mode 3
    this.mode = mode;
    this.bcd = (value & PIT_BCD) !== 0;
    this.programmed = true;
    this.hasCount = false;
    this.loaded = false;
    this.running = false;
    this.loadAt = -1;
    this.switchAt = -1;
    this.staticOut = mode !== 0; // mode 0: OUT low after the control word; others high
    this.nullCount = true;
    this.writeMsbNext = false;
    this.readMsbNext = false;
    // "All control logic is reset": pending latches are dropped too (QEMU keeps a count latch).
    this.latched = undefined;
    this.status = undefined;
    if (this.frozen >= this.modulus) this.frozen %= this.modulus;
    return `ch${this.index} ${ACCESS_NAMES[this.access]} mode ${mode} ${
      this.bcd ? "bcd" : "binary"
    }`;
  }

  latchCount(p: number): void {
    if (this.latched !== undefined) return; // a second latch before reading is ignored
    this.sync(p);
    this.latched = this.encoded(p);
    this.latchMsbNext = false;
  }

  latchStatus(p: number): void {
    if (this.status !== undefined) return;
    this.sync(p);
    this.status = (this.out(p) ? 0x80 : 0) | (this.nullCount ? 0x40 : 0) | this.control;
  }

  readByte(p: number): [number, string] {
    if (this.status !== undefined) {
      const v = this.status;
      this.status = undefined;
      return [v, "status"];
    }
    if (this.latched !== undefined) {
      const v = this.latched;
      if (this.access === 1) {
        this.latched = undefined;
        return [v & 0xff, "latched lsb"];
      }
      if (this.access === 2) {
        this.latched = undefined;
        return [v >> 8, "latched msb"];
      }
      if (!this.latchMsbNext) {
        this.latchMsbNext = true;
        return [v & 0xff, "latched lsb"];
      }
      this.latched = undefined;
      this.latchMsbNext = false;
      return [v >> 8, "latched msb"];
    }
    this.sync(p);
    const v = this.encoded(p);
    if (this.access === 1) return [v & 0xff, "lsb"];
    if (this.access === 2) return [v >> 8, "msb"];
    this.readMsbNext = !this.readMsbNext;
    return this.readMsbNext ? [v & 0xff, "lsb"] : [v >> 8, "msb"];
  }

  writeByte(p: number, value: number): string {
    this.sync(p);
    if (this.access === 1) this.crRaw = value;
    else if (this.access === 2) this.crRaw = value << 8;
    else if (!this.writeMsbNext) {
      this.#lowByte = value;
      this.writeMsbNext = true;
      if (this.mode === 0) {
        // Mode 0: writing the first byte of a two-byte count disables counting; OUT goes low.
        this.frozen = this.ce(p);
        this.loaded = false;
        this.loadAt = -1;
        this.staticOut = false;
      }
      return `ch${this.index} count lsb ${formatHex(value, 8)}`;
    } else {
      this.crRaw = this.#lowByte | (value << 8);
      this.writeMsbNext = false;
    }
    this.#countWritten(p);
    return `ch${this.index} count=${formatHex(this.crRaw, 16)} (${this.initial}${
      this.bcd ? " bcd" : ""
    })`;
  }

  #countWritten(p: number): void {
    this.nullCount = true;
    this.hasCount = true;
    switch (this.mode) {
      case 0:
        if (this.loaded) this.frozen = this.ce(p);
        this.loaded = false;
        this.staticOut = false;
        this.loadAt = p + 1;
        break;
      case 4:
        this.loadAt = p + 1;
        break;
      case 1:
      case 5:
        break; // loaded by the next gate trigger
      default: // 2, 3
        if (!this.loaded) this.loadAt = p + 1;
        else if (this.running) this.#scheduleSwitch(p);
        // loaded but gated off: the new count is loaded when the gate rises
    }
  }

  /** Modes 2/3: a new count takes effect at the end of the current period / half-cycle. */
  #scheduleSwitch(p: number): void {
    const n = this.n;
    const d = mod(p - this.start, n);
    const periodStart = p - d;
    if (this.mode === 2) {
      this.switchAt = periodStart + n;
      this.switchFalling = false;
      return;
    }
    const hi = (n + 1) >> 1;
    if (d < hi) {
      this.switchAt = periodStart + hi;
      this.switchFalling = true;
    } else {
      this.switchAt = periodStart + n;
      this.switchFalling = false;
    }
  }

  setGate(p: number, level: boolean): void {
    this.sync(p);
    if (level === this.gate) return;
    this.gate = level;
    if (level) {
      switch (this.mode) {
        case 1:
        case 5:
          if (this.hasCount) this.loadAt = p + 1; // trigger: (re)load on the next pulse
          break;
        case 2:
        case 3:
          if (this.hasCount) this.loadAt = p + 1; // rising gate reloads the counter
          this.switchAt = -1;
          break;
        default:
          if (this.loaded && !this.running) {
            this.running = true;
            this.runFrom = p;
          }
      }
      return;
    }
    switch (this.mode) {
      case 0:
      case 4:
        if (this.loaded && this.running) {
          this.counted += p - this.runFrom;
          this.running = false;
        }
        break;
      case 2:
      case 3:
        if (this.loaded && this.running) {
          this.frozen = this.ce(p);
          this.running = false; // OUT goes high immediately
          this.switchAt = -1;
        }
        break;
    }
  }

  snapshot(p: number): Snapshot {
    this.sync(p);
    return {
      programmed: this.programmed,
      mode: this.mode,
      access: ACCESS_NAMES[this.access],
      bcd: this.bcd,
      count: this.crRaw,
      value: this.encoded(p),
      latched: this.latched ?? null,
      status_latched: this.status ?? null,
      null_count: this.nullCount,
      output: this.out(p),
      gate: this.gate,
    };
  }
}

/** Options for {@linkcode Pit8254}. */
export interface Pit8254Options {
  /** Trace for port accesses and IRQ0 edges. */
  trace: Trace;
  /** Virtual time source; channel 0 output edges are scheduled on it. */
  clock: VirtualClock;
  /** Called with channel 0's OUT level whenever it changes (the ISA IRQ0 line). */
  irq0: (level: boolean) => void;
}

/**
 * The 8254 PIT with the PC wiring: counter 0 OUT -> IRQ0, counters 0/1 gated high, counter 2
 * gated by port 0x61 bit 0 with OUT2 readable at port 0x61 bit 5.
 *
 * @example
 * ```ts
 * import { Pit8254 } from "./pit.ts";
 * import { IoBus } from "./io_bus.ts";
 * import { VirtualClock } from "./clock.ts";
 * import { Trace } from "./trace.ts";
 * const trace = new Trace();
 * const clock = new VirtualClock();
 * const io = new IoBus({ trace });
 * const edges: [number, boolean][] = [];
 * const pit = new Pit8254({ trace, clock, irq0: (l) => edges.push([clock.now(), l]) });
 * pit.attach(io);
 * io.write(0x43, 1, 0x34); // counter 0, lsb/msb, mode 2
 * io.write(0x40, 1, 0x9c);
 * io.write(0x40, 1, 0x2e); // 11932 pulses = 10 ms
 * clock.advanceTo(25_000_000);
 * edges.length; // 5: OUT high at the control word, then two one-pulse lows (10 ms, 20 ms)
 * ```
 */
export class Pit8254 implements IoDevice {
  /** Name shown in traces. */
  readonly name = "pit";
  readonly #trace: Trace;
  readonly #clock: VirtualClock;
  readonly #irq0: (level: boolean) => void;
  readonly #counters: Counter[];
  #portB = 0;
  #out0 = false;
  #event: EventHandle | undefined = undefined;

  /** Create the timer in its power-on state (see {@linkcode Pit8254.reset}). */
  constructor(options: Pit8254Options) {
    this.#trace = options.trace;
    this.#clock = options.clock;
    this.#irq0 = options.irq0;
    this.#counters = [0, 1, 2].map((i) => new Counter(i, i !== 2, this.#trace));
    this.reset();
  }

  /** Register ports 0x40-0x43 and 0x61 on `io`. */
  attach(io: IoBus): void {
    io.register(PIT_COUNTER0, 4, this);
    io.register(PORT_B, 1, this);
  }

  /**
   * Power-on reset. The 8254's mode, count and output are undefined at power-up; this model
   * leaves every counter unprogrammed and stopped (mode 0, count 0, OUT low, so IRQ0 is low) and
   * clears port 0x61 (gate 2 low, speaker off). QEMU instead starts every counter in mode 3 with
   * count 0x10000. What survives: the irq0 callback and the bus attachment. A pending channel 0
   * event is cancelled; IRQ0 is lowered if it was high.
   */
  reset(): void {
    if (this.#event !== undefined) this.#clock.cancel(this.#event);
    this.#event = undefined;
    this.#portB = 0;
    this.#counters.forEach((c, i) => c.reset(i !== 2));
    this.#refresh0();
  }

  /** `{ channels: [{ mode, count, latched, output, bcd, access, gate, ... }] x3, port61 }`. */
  snapshot(): Snapshot {
    const p = this.#now();
    return {
      channels: this.#counters.map((c) => c.snapshot(p)),
      port61: this.#readPortB(p),
    };
  }

  /** Port read (8-bit ports; a wider access is split into bytes at consecutive ports). */
  ioRead(port: number, size: IoSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.#readByte((port + i) & 0xffff) << (8 * i);
    return v >>> 0;
  }

  /** Port write (8-bit ports; a wider access is split into bytes at consecutive ports). */
  ioWrite(port: number, size: IoSize, value: number): void {
    for (let i = 0; i < size; i++) this.#writeByte((port + i) & 0xffff, (value >>> (8 * i)) & 0xff);
  }

  #now(): number {
    return pitTicksAt(this.#clock.now());
  }

  #readPortB(p: number): number {
    const c2 = this.#counters[2];
    c2.sync(p);
    return (this.#portB & 0x0f) |
      ((Math.floor(p / REFRESH_TICKS) & 1) !== 0 ? PORT_B_REFRESH : 0) |
      (c2.out(p) ? PORT_B_OUT2 : 0);
  }

  #readByte(port: number): number {
    const p = this.#now();
    const hex = (v: number) => `in ${formatHex(port, 16)} -> ${formatHex(v, 8)}`;
    if (port >= PIT_COUNTER0 && port <= PIT_COUNTER2) {
      const [v, what] = this.#counters[port - PIT_COUNTER0].readByte(p);
      this.#trace.emit("io", `${hex(v)}: pit ch${port - PIT_COUNTER0} ${what}`);
      return v;
    }
    if (port === PIT_CONTROL) {
      this.#trace.emit("io", `${hex(0xff)}: pit control word register is write-only`);
      return 0xff;
    }
    if (port === PORT_B) {
      const v = this.#readPortB(p);
      this.#trace.emit(
        "io",
        `${hex(v)}: port B gate2=${v & 1} refresh=${(v >> 4) & 1} out2=${(v >> 5) & 1}`,
      );
      return v;
    }
    this.#trace.emit("unclaimed", `in ${formatHex(port, 16)}: not a pit port, reads 0xff`);
    return 0xff;
  }

  #writeByte(port: number, value: number): void {
    const p = this.#now();
    const head = `out ${formatHex(port, 16)} <- ${formatHex(value, 8)}: pit`;
    if (port >= PIT_COUNTER0 && port <= PIT_COUNTER2) {
      const what = this.#counters[port - PIT_COUNTER0].writeByte(p, value);
      this.#trace.emit("io", `${head} ${what}`);
    } else if (port === PIT_CONTROL) {
      this.#trace.emit("io", `${head} ${this.#control(p, value)}`);
    } else if (port === PORT_B) {
      this.#portB = value & 0x0f;
      this.#counters[2].setGate(p, (value & PORT_B_GATE2) !== 0);
      this.#trace.emit(
        "io",
        `out ${formatHex(port, 16)} <- ${formatHex(value, 8)}: port B gate2=${value & 1} speaker=${
          (value >> 1) & 1
        }`,
      );
      return;
    } else {
      this.#trace.emit("unclaimed", `out ${formatHex(port, 16)}: not a pit port, dropped`);
      return;
    }
    this.#refresh0();
  }

  #control(p: number, value: number): string {
    const sc = value >> PIT_SC_SHIFT;
    if (sc === 3) {
      const count = (value & PIT_RB_NO_COUNT) === 0;
      const status = (value & PIT_RB_NO_STATUS) === 0;
      const chosen: number[] = [];
      for (let i = 0; i < 3; i++) {
        if (!(value & (2 << i))) continue;
        chosen.push(i);
        if (count) this.#counters[i].latchCount(p);
        if (status) this.#counters[i].latchStatus(p);
      }
      return `read-back${count ? " count" : ""}${status ? " status" : ""} ch${
        chosen.join(",ch") || " none"
      }`;
    }
    const c = this.#counters[sc];
    if (((value >> PIT_RW_SHIFT) & 3) === 0) {
      c.latchCount(p);
      return `ch${sc} counter latch`;
    }
    return `control ${c.writeControl(p, value)}`;
  }

  /** Report channel 0's OUT level on IRQ0 if it changed and schedule its next change. */
  #refresh0(): void {
    const p = this.#now();
    const c0 = this.#counters[0];
    c0.sync(p);
    const level = c0.out(p);
    if (level !== this.#out0) {
      this.#out0 = level;
      this.#trace.emit("irq", `pit: OUT0 (IRQ0) ${level ? "high" : "low"}`);
      this.#irq0(level);
    }
    if (this.#event !== undefined) this.#clock.cancel(this.#event);
    this.#event = undefined;
    const next = c0.nextChange(p);
    if (next === Infinity) return;
    this.#event = this.#clock.schedule(pitTickTime(next), () => {
      this.#event = undefined;
      this.#refresh0();
    });
  }
}
