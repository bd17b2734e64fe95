/**
 * The x86 I/O port bus. Devices claim port ranges; an access to an unclaimed port reads all ones
 * (0xFF per byte, as an ISA bus with nothing driving it) and is recorded in the trace.
 *
 * @module
 */

import { formatHex } from "./fields.ts";
import type { Trace } from "./trace.ts";

/** Access size in bytes. */
export type IoSize = 1 | 2 | 4;

/** A device on the I/O bus. `port` is the absolute port number. */
export interface IoDevice {
  /** Name shown in traces, e.g. `pic.master`. */
  readonly name: string;
  /** Read `size` bytes at `port`; return the value (unsigned). */
  ioRead(port: number, size: IoSize): number;
  /** Write `size` bytes at `port`. */
  ioWrite(port: number, size: IoSize, value: number): void;
}

/**
 * Port dispatch with defined behaviour for unclaimed ports.
 *
 * @example
 * ```ts
 * import { IoBus } from "./io_bus.ts";
 * const bus = new IoBus();
 * bus.read(0x80, 1); // 0xff (unclaimed)
 * ```
 */
export class IoBus {
  readonly #devices: (IoDevice | undefined)[] = new Array(0x10000);
  readonly #trace: Trace | undefined;

  /** Create a bus; unclaimed accesses are traced when a trace is given. */
  constructor(options: { trace?: Trace } = {}) {
    this.#trace = options.trace;
  }

  /** Claim `count` ports starting at `base`; throws `RangeError` if any is already claimed. */
  register(base: number, count: number, device: IoDevice): void {
    for (let p = base; p < base + count; p++) {
      const owner = this.#devices[p];
      if (owner !== undefined) {
        throw new RangeError(
          `I/O port ${
            formatHex(p, 16)
          } is claimed by ${owner.name}, cannot give it to ${device.name}`,
        );
      }
    }
    for (let p = base; p < base + count; p++) this.#devices[p] = device;
  }

  /** The device that owns `port`, if any. */
  deviceAt(port: number): IoDevice | undefined {
    return this.#devices[port & 0xffff];
  }

  /** Read from a port (IN). */
  read(port: number, size: IoSize): number {
    port &= 0xffff;
    const dev = this.#devices[port];
    if (dev === undefined) {
      this.#trace?.emit(
        "unclaimed",
        `in ${formatHex(port, 16)} (size ${size}): no device, reads all ones`,
      );
      return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    }
    return dev.ioRead(port, size);
  }

  /** Write to a port (OUT). */
  write(port: number, size: IoSize, value: number): void {
    port &= 0xffff;
    const dev = this.#devices[port];
    if (dev === undefined) {
      this.#trace?.emit(
        "unclaimed",
        `out ${formatHex(port, 16)} <- ${formatHex(value >>> 0, size * 8)}: no device, dropped`,
      );
      return;
    }
    dev.ioWrite(port, size, size === 4 ? value >>> 0 : value & ((1 << (size * 8)) - 1));
  }
}
