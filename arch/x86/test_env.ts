/**
 * A minimal machine environment for CPU tests and benchmarks: sparse memory with RAM declared
 * over the low addresses and the BIOS area at the top of 4 GiB, an I/O bus with a recording
 * port device, a trace, a virtual clock and an interrupt line driven by the test.
 *
 * @example
 * ```ts
 * import { createTestEnv } from "./test_env.ts";
 * const env = createTestEnv();
 * env.bus.memory.write8(0x7c00, 0xf4);
 * env.vectors.push(0x20); // next INTA returns 0x20
 * ```
 *
 * @module
 */

import type { CpuEnvironment } from "../../hw/cpu.ts";
import { PhysicalMemory } from "../../hw/memory.ts";
import { MmioBus } from "../../hw/mmio_bus.ts";
import { IoBus } from "../../hw/io_bus.ts";
import { Trace } from "../../hw/trace.ts";
import { VirtualClock } from "../../hw/clock.ts";

/** A test environment: the CPU environment plus handles to drive and observe it. */
export interface TestEnv extends CpuEnvironment {
  /** Vectors returned by successive INTA cycles (0xFF when empty, like a spurious IRQ7 + 8). */
  readonly vectors: number[];
  /** Port writes seen by the recording device: [port, size, value]. */
  readonly outs: [number, number, number][];
  /** Values returned by port reads (per port; default 0). */
  readonly ins: Map<number, number>;
  /** Values written to IA32_APIC_BASE through the pin callback. */
  readonly apicBaseWrites: bigint[];
  /** Called on every port write after it is recorded (tests hook device behaviour here). */
  onOut?: (port: number, size: number, value: number) => void;
}

/** Options for {@linkcode createTestEnv}. */
export interface TestEnvOptions {
  /** Bytes of RAM from address 0 (default 64 MiB). */
  ramSize?: number;
  /** Physical address space (default 2^40). */
  addressSpace?: number;
  /** CPU index (default 0). */
  index?: number;
  /** Share buses and memory with another test environment (for multi-CPU tests). */
  shareWith?: TestEnv;
  /** Keep every trace event (default true). */
  fullTrace?: boolean;
}

/**
 * Build a test environment. RAM covers `[0, ramSize)` and the top 64 KiB below 4 GiB (reset
 * vector area, a copy of nothing until the test writes it); ports 0x00-0xFFFF are recorded.
 */
export function createTestEnv(options: TestEnvOptions = {}): TestEnv {
  const shared = options.shareWith;
  const trace = shared?.trace ?? new Trace({ ring: 256, full: options.fullTrace ?? true });
  const clock = shared?.clock ?? new VirtualClock();
  let bus: MmioBus, io: IoBus;
  const hooks: { env?: TestEnv } = shared
    ? (shared as unknown as { hooks: { env?: TestEnv } }).hooks ?? {}
    : {};
  const outs: [number, number, number][] = shared?.outs ?? [];
  const ins: Map<number, number> = shared?.ins ?? new Map();
  if (shared) {
    bus = shared.bus;
    io = shared.io;
  } else {
    const memory = new PhysicalMemory({ addressSpace: options.addressSpace ?? 2 ** 40 });
    bus = new MmioBus({ memory, trace });
    bus.addMemory(0, options.ramSize ?? 64 * 1024 * 1024);
    bus.addMemory(0xffff0000, 0x10000);
    io = new IoBus({ trace });
    io.register(0, 0x10000, {
      name: "test-ports",
      ioRead: (port) => ins.get(port) ?? 0,
      ioWrite: (port, size, value) => {
        outs.push([port, size, value]);
        hooks.env?.onOut?.(port, size, value);
      },
    });
  }
  const vectors: number[] = [];
  const apicBaseWrites: bigint[] = [];
  const env: TestEnv = {
    index: options.index ?? 0,
    bus,
    io,
    trace,
    clock,
    pins: {
      acknowledge: () => vectors.shift() ?? 0xff,
      apicBaseWritten: (v) => {
        apicBaseWrites.push(v);
      },
    },
    vectors,
    outs,
    ins,
    apicBaseWrites,
  };
  if (!shared) hooks.env = env;
  Object.defineProperty(env, "hooks", { value: hooks, enumerable: false });
  return env;
}

/** The state-setting part of the CPU that {@linkcode enterFlat32} / {@linkcode enterLong64} use. */
export interface SettableX86 {
  setSegment(
    reg: "es" | "cs" | "ss" | "ds" | "fs" | "gs",
    v: { selector: number; base: number; limit: number; attributes: number },
  ): void;
  setCr(n: 0 | 2 | 3 | 4, value: number): void;
  setEfer(value: number): void;
  setRip(value: number): void;
  setGdtr(value: { base: number; limit: number }): void;
}

/** Write a GDT at 0x500 (null, code 0x08, data 0x10) and load GDTR. */
function writeGdt(cpu: SettableX86, env: CpuEnvironment, code: bigint): void {
  const m = env.bus.memory;
  m.write64(0x500, 0n);
  m.write64(0x508, code);
  m.write64(0x510, 0x00cf92000000ffffn);
  cpu.setGdtr({ base: 0x500, limit: 23 });
}

/**
 * Put a CPU in flat 32-bit protected mode, paging off (CS 0x08, data 0x10); with `env`, also
 * write a matching GDT at 0x500 (needed by interrupt delivery and far transfers).
 */
export function enterFlat32(cpu: SettableX86, env?: CpuEnvironment): void {
  if (env) writeGdt(cpu, env, 0x00cf9a000000ffffn);
  cpu.setCr(0, 0x60000011);
  cpu.setSegment("cs", { selector: 8, base: 0, limit: 0xffffffff, attributes: 0xc09b });
  for (const s of ["ds", "es", "ss", "fs", "gs"] as const) {
    cpu.setSegment(s, { selector: 0x10, base: 0, limit: 0xffffffff, attributes: 0xc093 });
  }
}

/**
 * Put a CPU in 64-bit mode with the first 1 GiB identity-mapped by 2 MiB pages; the page
 * tables are written at `tables` (default 0x3f0000: PML4, PDPT, PD).
 */
export function enterLong64(cpu: SettableX86, env: CpuEnvironment, tables = 0x3f0000): void {
  writeGdt(cpu, env, 0x00af9a000000ffffn);
  const m = env.bus.memory;
  m.fill(tables, 0x3000);
  m.write32(tables, tables + 0x1003);
  m.write32(tables + 0x1000, tables + 0x2003);
  for (let i = 0; i < 512; i++) m.write32(tables + 0x2000 + i * 8, (i << 21) | 0x83);
  cpu.setCr(4, 0x20);
  cpu.setCr(3, tables);
  cpu.setEfer(0x500);
  cpu.setCr(0, 0xe0000011);
  cpu.setSegment("cs", { selector: 8, base: 0, limit: 0xffffffff, attributes: 0xa09b });
  for (const s of ["ds", "es", "ss", "fs", "gs"] as const) {
    cpu.setSegment(s, { selector: 0x10, base: 0, limit: 0xffffffff, attributes: 0xc093 });
  }
}
