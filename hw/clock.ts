/**
 * Virtual time. Nothing in the emulator reads the wall clock: time advances only when the machine
 * retires instructions (a fixed number of nanoseconds each) or skips ahead while every CPU is
 * halted. Devices schedule their timer events here.
 *
 * @module
 */

/** Handle of a scheduled event, for {@linkcode VirtualClock.cancel}. */
export type EventHandle = number;

interface ScheduledEvent {
  at: number;
  seq: number;
  handle: EventHandle;
  callback: () => void;
}

/**
 * A deterministic virtual clock with an ordered event queue. Events at the same time fire in the
 * order they were scheduled.
 *
 * @example
 * ```ts
 * import { VirtualClock } from "./clock.ts";
 * const clock = new VirtualClock();
 * let fired = 0;
 * clock.schedule(100, () => fired++);
 * clock.advanceTo(150);
 * fired; // 1
 * ```
 */
export class VirtualClock {
  #now = 0;
  #seq = 0;
  #events: ScheduledEvent[] = [];

  /** Current virtual time in nanoseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedule `callback` at absolute time `at` (ns); returns a handle for cancel. */
  schedule(at: number, callback: () => void): EventHandle {
    const handle = ++this.#seq;
    const ev: ScheduledEvent = { at: Math.max(at, this.#now), seq: handle, handle, callback };
    // Keep sorted by (at, seq); queues are short (a few timers).
    let i = this.#events.length;
    while (i > 0 && this.#events[i - 1].at > ev.at) i--;
    this.#events.splice(i, 0, ev);
    return handle;
  }

  /** Cancel a scheduled event; unknown handles are ignored. */
  cancel(handle: EventHandle): void {
    const i = this.#events.findIndex((e) => e.handle === handle);
    if (i >= 0) this.#events.splice(i, 1);
  }

  /** Time of the earliest pending event, or `Infinity`. */
  nextEventTime(): number {
    return this.#events.length > 0 ? this.#events[0].at : Infinity;
  }

  /** Advance to `time`, firing every event due at or before it, in order. */
  advanceTo(time: number): void {
    while (this.#events.length > 0 && this.#events[0].at <= time) {
      const ev = this.#events.shift()!;
      if (ev.at > this.#now) this.#now = ev.at;
      ev.callback();
    }
    if (time > this.#now) this.#now = time;
  }
}
