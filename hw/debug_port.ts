/**
 * Emulator debug ports: the Bochs/QEMU debug console at port 0xE9 and QEMU's `isa-debug-exit`
 * device at port 0xF4.
 *
 * A byte written to 0xE9 appends one character (the byte as a code point 0-255, i.e. Latin-1) to
 * {@linkcode DebugPort.output}; reading 0xE9 returns 0xE9 (the Bochs/QEMU "port present" probe).
 * A value written to 0xF4 ends the run with exit code = that value: QEMU's process would exit
 * with status `(value << 1) | 1`, but this model reports the written value itself.
 *
 * @module
 */

import { formatHex, type Snapshot } from "./fields.ts";
import type { IoBus, IoDevice, IoSize } from "./io_bus.ts";
import type { Trace } from "./trace.ts";

/** Debug console port. */
export const DEBUG_CONSOLE_PORT = 0xe9;
/** isa-debug-exit port (QEMU default iobase). */
export const DEBUG_EXIT_PORT = 0xf4;

/** Options for {@linkcode DebugPort}. */
export interface DebugPortOptions {
  /** Trace: each console byte and the exit are recorded. */
  trace: Trace;
  /** Called once per write to port 0xF4 with the written value (the exit code). */
  onExit?: (code: number) => void;
}

/**
 * Debug console (0xE9) and debug exit (0xF4).
 *
 * @example
 * ```ts
 * import { DebugPort } from "./debug_port.ts";
 * import { IoBus } from "./io_bus.ts";
 * import { Trace } from "./trace.ts";
 * const trace = new Trace();
 * const io = new IoBus({ trace });
 * const dbg = new DebugPort({ trace });
 * dbg.attach(io);
 * for (const c of "ok\n") io.write(0xe9, 1, c.charCodeAt(0));
 * io.write(0xf4, 1, 0x10);
 * dbg.output; // "ok\n"
 * dbg.exitCode; // 16 (QEMU itself would exit with (16 << 1) | 1 = 33)
 * ```
 */
export class DebugPort implements IoDevice {
  /** Name shown in traces. */
  readonly name = "debug";
  readonly #trace: Trace;
  readonly #onExit: ((code: number) => void) | undefined;
  #chunks: string[] = [];
  #line = "";
  #exitCode: number | undefined = undefined;

  /** Create the ports with an empty console. */
  constructor(options: DebugPortOptions) {
    this.#trace = options.trace;
    this.#onExit = options.onExit;
  }

  /** Register ports 0xE9 and 0xF4 on `io`. */
  attach(io: IoBus): void {
    io.register(DEBUG_CONSOLE_PORT, 1, this);
    io.register(DEBUG_EXIT_PORT, 1, this);
  }

  /** Everything written to the console port so far. */
  get output(): string {
    if (this.#chunks.length > 1) this.#chunks = [this.#chunks.join("")];
    return this.#chunks[0] ?? "";
  }

  /**
   * The value last written to port 0xF4, or undefined if none. This is the written value `v`,
   * not QEMU's process exit status `(v << 1) | 1`.
   */
  get exitCode(): number | undefined {
    return this.#exitCode;
  }

  /** Clear the console text and the exit code (the onExit callback survives). */
  reset(): void {
    this.#chunks = [];
    this.#line = "";
    this.#exitCode = undefined;
  }

  /** `{ output, exit_code }` (exit_code null when the guest never wrote 0xF4). */
  snapshot(): Snapshot {
    return { output: this.output, exit_code: this.#exitCode ?? null };
  }

  /** Port read: 0xE9 reads 0xE9 (presence probe); 0xF4 reads 0xFF (write-only). */
  ioRead(port: number, size: IoSize): number {
    const byte = port === DEBUG_CONSOLE_PORT ? DEBUG_CONSOLE_PORT : 0xff;
    // Wider reads: the other bytes belong to unclaimed neighbours.
    const value = size === 1 ? byte : (size === 2 ? 0xff00 : 0xffffff00) | byte;
    this.#trace.emit(
      "io",
      `in ${formatHex(port, 16)} -> ${formatHex(value >>> 0, size * 8)}: debug`,
    );
    return value >>> 0;
  }

  /**
   * Port write. 0xE9: the low byte is appended as one character (wider writes send only the
   * byte at 0xE9; the others go to unclaimed ports). 0xF4: the whole written value is the exit
   * code (a 32-bit `outl` gives a 32-bit code, as QEMU's isa-debug-exit with iosize 4).
   */
  ioWrite(port: number, size: IoSize, value: number): void {
    if (port === DEBUG_CONSOLE_PORT) {
      const ch = String.fromCharCode(value & 0xff);
      this.#chunks.push(ch);
      if (ch === "\n") {
        this.#trace.emit("console", `debug console: ${this.#line}`);
        this.#line = "";
      } else {
        this.#line += ch;
      }
      return;
    }
    if (port === DEBUG_EXIT_PORT) {
      const code = size === 4 ? value >>> 0 : value;
      this.#exitCode = code;
      this.#trace.emit(
        "io",
        `out ${formatHex(port, 16)} <- ${formatHex(code, size * 8)}: debug exit, code ${code}`,
      );
      this.#onExit?.(code);
      return;
    }
    this.#trace.emit("unclaimed", `out ${formatHex(port, 16)}: not a debug port, dropped`);
  }
}
