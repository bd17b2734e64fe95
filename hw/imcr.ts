/**
 * The Interrupt Mode Configuration Register of the MultiProcessor Specification v1.4 §3.6.2.1.
 *
 * Port 0x22 selects a register, port 0x23 reads/writes it. Register 0x70 is the IMCR: bit 0 = 0
 * is PIC mode (the 8259 INTR and NMI go straight to the BSP's pins, bypassing the local APIC),
 * bit 0 = 1 is APIC mode (INTR and NMI go through the local APIC's LINTIN0/LINTIN1). The spec
 * allows the two ports to be read/write or write-only; this model makes them readable by default
 * ({@linkcode ImcrOptions.readable}). None of QEMU, Bochs or v86 implement these ports.
 *
 * @module
 */

import { formatHex, type Snapshot } from "./fields.ts";
import type { IoBus, IoDevice, IoSize } from "./io_bus.ts";
import type { Trace } from "./trace.ts";

/** Address (select) port. */
export const IMCR_ADDRESS_PORT = 0x22;
/** Data port. */
export const IMCR_DATA_PORT = 0x23;
/** Select value of the IMCR. */
export const IMCR_SELECT = 0x70;
/** IMCR bit 0: 1 = APIC mode (through the local APIC), 0 = PIC mode. */
export const IMCR_APIC_MODE = 0x01;

/** Options for {@linkcode Imcr}. */
export interface ImcrOptions {
  /** Trace for port accesses and mode switches. */
  trace: Trace;
  /**
   * Whether ports 0x22/0x23 can be read back (default true). MP spec: "read/writable or
   * write-only"; when false both ports read 0xFF.
   */
  readable?: boolean;
}

/**
 * The IMCR: a one-bit mux between PIC mode and APIC (symmetric I/O / virtual wire) mode.
 *
 * @example
 * ```ts
 * import { Imcr } from "./imcr.ts";
 * import { IoBus } from "./io_bus.ts";
 * import { Trace } from "./trace.ts";
 * const trace = new Trace();
 * const io = new IoBus({ trace });
 * const imcr = new Imcr({ trace });
 * imcr.attach(io);
 * io.write(0x22, 1, 0x70);
 * io.write(0x23, 1, 0x01); // Linux imcr_pic_to_apic
 * imcr.picMode; // false
 * ```
 */
export class Imcr implements IoDevice {
  /** Name shown in traces. */
  readonly name = "imcr";
  readonly #trace: Trace;
  readonly #readable: boolean;
  #select = 0;
  #value = 0;
  readonly #listeners: ((picMode: boolean) => void)[] = [];

  /** Create the IMCR in its power-on state (PIC mode). */
  constructor(options: ImcrOptions) {
    this.#trace = options.trace;
    this.#readable = options.readable ?? true;
  }

  /** Register ports 0x22 and 0x23 on `io`. */
  attach(io: IoBus): void {
    io.register(IMCR_ADDRESS_PORT, 2, this);
  }

  /** True in PIC mode (IMCR bit 0 = 0), false in APIC mode. */
  get picMode(): boolean {
    return (this.#value & IMCR_APIC_MODE) === 0;
  }

  /** Call `cb(picMode)` whenever the mode changes. */
  onChange(cb: (picMode: boolean) => void): void {
    this.#listeners.push(cb);
  }

  /**
   * System RESET/INIT: "the IMCR must be cleared after a system-wide INIT or RESET" (PIC mode);
   * the select register is cleared too. Listeners are told if the mode changes; they survive.
   */
  reset(): void {
    this.#select = 0;
    this.#set(0);
  }

  /** `{ mode: "pic" | "apic", select, value }`. */
  snapshot(): Snapshot {
    return { mode: this.picMode ? "pic" : "apic", select: this.#select, value: this.#value };
  }

  /** Port read (8-bit ports; a wider access is split into bytes). */
  ioRead(port: number, size: IoSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.#readByte((port + i) & 0xffff) << (8 * i);
    return v >>> 0;
  }

  /** Port write (8-bit ports; a wider access is split into bytes). */
  ioWrite(port: number, size: IoSize, value: number): void {
    for (let i = 0; i < size; i++) this.#writeByte((port + i) & 0xffff, (value >>> (8 * i)) & 0xff);
  }

  #readByte(port: number): number {
    let v = 0xff;
    let what = "write-only";
    if (port !== IMCR_ADDRESS_PORT && port !== IMCR_DATA_PORT) {
      what = "not an imcr port";
    } else if (this.#readable) {
      if (port === IMCR_ADDRESS_PORT) {
        v = this.#select;
        what = "select";
      } else if (this.#select === IMCR_SELECT) {
        v = this.#value;
        what = `IMCR (${this.picMode ? "PIC" : "APIC"} mode)`;
      } else {
        what = `no register ${formatHex(this.#select, 8)}`;
      }
    }
    this.#trace.emit("io", `in ${formatHex(port, 16)} -> ${formatHex(v, 8)}: imcr ${what}`);
    return v;
  }

  #writeByte(port: number, value: number): void {
    const head = `out ${formatHex(port, 16)} <- ${formatHex(value, 8)}: imcr`;
    if (port === IMCR_ADDRESS_PORT) {
      this.#select = value;
      this.#trace.emit(
        "io",
        `${head} select ${value === IMCR_SELECT ? "IMCR" : "other register (ignored)"}`,
      );
    } else if (port === IMCR_DATA_PORT && this.#select === IMCR_SELECT) {
      this.#trace.emit("io", `${head} IMCR ${value & IMCR_APIC_MODE ? "APIC" : "PIC"} mode`);
      this.#set(value & IMCR_APIC_MODE);
    } else {
      this.#trace.emit("io", `${head} data for select ${formatHex(this.#select, 8)}: ignored`);
    }
  }

  #set(value: number): void {
    const was = this.picMode;
    this.#value = value;
    if (this.picMode === was) return;
    this.#trace.emit("mode", `imcr: ${this.picMode ? "PIC" : "APIC"} mode`);
    for (const cb of this.#listeners) cb(this.picMode);
  }
}
