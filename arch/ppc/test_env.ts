/**
 * A minimal GameCube-like environment for PowerPC CPU tests and benchmarks: sparse memory with
 * RAM over `[0, ramSize)` (24 MiB by default) and the 1 MiB boot area at 0xFFF00000, an MMIO
 * test device at physical 0x0C003000 (a stand-in for the Processor Interface: a few registers
 * that record writes), a trace and a virtual clock.
 *
 * @example
 * ```ts
 * import { createPpcTestEnv } from "./test_env.ts";
 * const env = createPpcTestEnv();
 * env.bus.memory.write32be(0xfff00100, 0x48000000); // b . at the reset vector
 * env.mmioWrites.length; // 0
 * ```
 *
 * @module
 */

import type { CpuEnvironment } from "../../hw/cpu.ts";
import { PhysicalMemory } from "../../hw/memory.ts";
import { MmioBus, type MmioSize } from "../../hw/mmio_bus.ts";
import { IoBus } from "../../hw/io_bus.ts";
import { Trace } from "../../hw/trace.ts";
import { VirtualClock } from "../../hw/clock.ts";

/** A test environment: the CPU environment plus handles to observe it. */
export interface PpcTestEnv extends CpuEnvironment {
  /** MMIO writes seen by the test device: [offset, size, value]. */
  readonly mmioWrites: [number, number, number][];
  /** Values the test device returns, by offset (default 0). */
  readonly mmioValues: Map<number, number>;
}

/** Options for {@linkcode createPpcTestEnv}. */
export interface PpcTestEnvOptions {
  /** Bytes of RAM from address 0 (default 24 MiB). */
  ramSize?: number;
  /** Keep every trace event (default true). */
  fullTrace?: boolean;
}

/** Physical base of the test MMIO device (the GameCube Processor Interface address). */
export const TEST_MMIO_BASE = 0x0c003000;

/** Build a PowerPC test environment. */
export function createPpcTestEnv(options: PpcTestEnvOptions = {}): PpcTestEnv {
  const trace = new Trace({ ring: 256, full: options.fullTrace ?? true });
  const clock = new VirtualClock();
  const memory = new PhysicalMemory({ addressSpace: 2 ** 32 });
  const bus = new MmioBus({ memory, trace });
  bus.addMemory(0, options.ramSize ?? 24 * 1024 * 1024);
  bus.addMemory(0xfff00000, 0x100000);
  const mmioWrites: [number, number, number][] = [];
  const mmioValues = new Map<number, number>();
  bus.map(TEST_MMIO_BASE, 0x1000, {
    name: "test-pi",
    mmioRead: (offset: number, _size: MmioSize) => mmioValues.get(offset) ?? 0,
    mmioWrite: (offset: number, size: MmioSize, value: number | bigint) => {
      mmioWrites.push([offset, size, Number(value)]);
      mmioValues.set(offset, Number(value));
    },
  });
  return {
    index: 0,
    bus,
    io: new IoBus({ trace }),
    trace,
    clock,
    pins: { acknowledge: () => 0 },
    mmioWrites,
    mmioValues,
  };
}
