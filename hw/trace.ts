/**
 * The machine trace: device register accesses, interrupts, mode switches, exceptions and kexec
 * steps, each stamped with the virtual time. The last events are kept in a ring for failure
 * messages; a full log can be collected when the user asks for `--trace`.
 *
 * @module
 */

/** What a trace event is about. */
export type TraceCategory =
  | "io"
  | "mmio"
  | "irq"
  | "mode"
  | "exception"
  | "cpu"
  | "kexec"
  | "kernel"
  | "step"
  | "console"
  | "unclaimed";

/** One trace event. */
export interface TraceEvent {
  /** Virtual time in nanoseconds when the event happened. */
  readonly time: number;
  /** Instructions retired machine-wide when the event happened. */
  readonly instructions: number;
  /** CPU index that caused it, or -1 for none (device timer, kernel model outside a CPU). */
  readonly cpu: number;
  /** Event category. */
  readonly category: TraceCategory;
  /** Human-readable description, e.g. `out 0x21 <- 0xff (pic.master OCW1 imr=0xff)`. */
  readonly message: string;
}

/** Options for {@linkcode Trace}. */
export interface TraceOptions {
  /** How many recent events to keep for failure messages (default 64). */
  ring?: number;
  /** Keep every event (for `--trace <file>`); default false. */
  full?: boolean;
}

/**
 * Event log shared by the machine, its devices, CPUs and the kernel model.
 *
 * @example
 * ```ts
 * import { Trace } from "./trace.ts";
 * const trace = new Trace({ ring: 8 });
 * trace.emit("io", "out 0x21 <- 0xff");
 * trace.recent().length; // 1
 * ```
 */
export class Trace {
  /** Source of the current virtual time (set by the machine). */
  now: () => number = () => 0;
  /** Source of the machine-wide retired instruction count (set by the machine). */
  instructions: () => number = () => 0;
  /** CPU index currently executing (set by the machine's run loop), -1 outside CPUs. */
  currentCpu: number = -1;
  readonly #ring: (TraceEvent | undefined)[];
  #next = 0;
  #count = 0;
  readonly #all: TraceEvent[] | undefined;

  /** Create a trace; see {@linkcode TraceOptions}. */
  constructor(options: TraceOptions = {}) {
    this.#ring = new Array(Math.max(1, options.ring ?? 64));
    this.#all = options.full ? [] : undefined;
  }

  /** Record an event at the current virtual time. */
  emit(category: TraceCategory, message: string, cpu: number = this.currentCpu): void {
    const event: TraceEvent = {
      time: this.now(),
      instructions: this.instructions(),
      cpu,
      category,
      message,
    };
    this.#ring[this.#next] = event;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#count++;
    this.#all?.push(event);
  }

  /** Total number of events emitted. */
  get count(): number {
    return this.#count;
  }

  /** The most recent events, oldest first (at most the ring size, or `limit`). */
  recent(limit: number = this.#ring.length): TraceEvent[] {
    const out: TraceEvent[] = [];
    const n = Math.min(limit, this.#count, this.#ring.length);
    for (let i = n; i > 0; i--) {
      const idx = (this.#next - i + this.#ring.length * 2) % this.#ring.length;
      const e = this.#ring[idx];
      if (e) out.push(e);
    }
    return out;
  }

  /** Every event, when constructed with `full: true`; otherwise the recent ones. */
  all(): readonly TraceEvent[] {
    return this.#all ?? this.recent();
  }
}

/**
 * Format a trace event as one line: `[t=1234ns i=567 cpu0] io: out 0x21 <- 0xff`.
 *
 * @example
 * ```ts
 * import { formatTraceEvent } from "./trace.ts";
 * formatTraceEvent({ time: 10, instructions: 3, cpu: 0, category: "io", message: "in 0x21" });
 * ```
 */
export function formatTraceEvent(e: TraceEvent): string {
  const who = e.cpu >= 0 ? `cpu${e.cpu}` : "----";
  return `[t=${e.time}ns i=${e.instructions} ${who}] ${e.category}: ${e.message}`;
}
