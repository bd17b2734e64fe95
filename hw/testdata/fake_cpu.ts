// Test support for hw/ unit tests only (machine_test.ts, platforms_test.ts): the x86 CPU model
// facts and two CpuCore test doubles, so the machine and the boards can be tested without arch/.

import type {
  CpuCore,
  CpuEnvironment,
  CpuFactory,
  CpuModelInfo,
  CpuRunState,
  CpuStopReason,
} from "../cpu.ts";
import type { Snapshot } from "../fields.ts";
import type { BuildMachineOptions } from "../platforms.ts";

/**
 * The `info` of every model in arch/x86/models.ts, copied because hw/ tests must not import
 * arch/. arch/x86/models_test.ts checks that this copy still equals x86Models[name].info.
 */
export const X86_MODEL_INFO: Readonly<Record<string, CpuModelInfo>> = {
  i386: {
    name: "i386",
    arch: "x86",
    maxPhysAddr: 32,
    longMode: false,
    hasLocalApic: false,
    threadsPerPackage: 1,
    signature: 0x0308,
    featureFlags: 0,
  },
  i486: {
    name: "i486",
    arch: "x86",
    maxPhysAddr: 32,
    longMode: false,
    hasLocalApic: false,
    threadsPerPackage: 1,
    signature: 0x0402,
    featureFlags: 0x1,
  },
  pentium: {
    name: "pentium",
    arch: "x86",
    maxPhysAddr: 32,
    longMode: false,
    hasLocalApic: true,
    lapicVersion: 0x00030010,
    apicIdBits: 4,
    threadsPerPackage: 1,
    signature: 0x0525,
    featureFlags: 0x3bf,
  },
  "pentium4-xeon": {
    name: "pentium4-xeon",
    arch: "x86",
    maxPhysAddr: 36,
    longMode: false,
    hasLocalApic: true,
    lapicVersion: 0x00050014,
    apicIdBits: 8,
    threadsPerPackage: 2,
    signature: 0x0f27,
    featureFlags: 0x3febfbff,
  },
  "xeon-nocona": {
    name: "xeon-nocona",
    arch: "x86",
    maxPhysAddr: 36,
    longMode: true,
    hasLocalApic: true,
    lapicVersion: 0x00050014,
    apicIdBits: 8,
    threadsPerPackage: 2,
    signature: 0x0f41,
    featureFlags: 0xbfebfbff,
  },
  opteron: {
    name: "opteron",
    arch: "x86",
    maxPhysAddr: 40,
    longMode: true,
    hasLocalApic: true,
    lapicVersion: 0x00040010,
    apicIdBits: 8,
    threadsPerPackage: 1,
    signature: 0x0f51,
    featureFlags: 0x078bfbff,
  },
};

/**
 * buildMachine options that resolve every model of {@linkcode X86_MODEL_INFO} to `factory`
 * (unknown names resolve to nothing, so the board code reports them).
 */
export function fakeCpuOptions(factory: CpuFactory): BuildMachineOptions {
  return {
    cpu: (model) => {
      const info = X86_MODEL_INFO[model];
      return info === undefined ? undefined : { factory, info };
    },
    models: Object.keys(X86_MODEL_INFO),
  };
}

/** A CPU that never runs (validation and firmware tests only). */
export function idleCpu(env: CpuEnvironment): CpuCore {
  return {
    index: env.index,
    runState: env.index === 0 ? "halted" : "wait-for-sipi",
    retired: 0,
    lastStop: "halted",
    run: () => 0,
    requestExit() {},
    setIntr() {},
    nmi() {},
    init() {},
    sipi() {},
    snapshot: () => ({}),
  };
}

/** One scripted "instruction" of {@linkcode FakeCpu}. */
export type Op = (cpu: FakeCpu) => void;

/**
 * Test double for CpuCore (unit tests of the machine only): runs a list of JS operations, one per
 * instruction, takes interrupts when INTR is high and `ifFlag` is set (recording the vectors), and
 * models HLT / wait-for-SIPI / shutdown states. `retired` counts live, like a real core.
 */
export class FakeCpu implements CpuCore {
  readonly index: number;
  runState: CpuRunState;
  retired = 0;
  lastStop: CpuStopReason = "budget";
  ifFlag = true;
  intr = false;
  pc = 0;
  readonly vectors: number[] = [];
  readonly nmis: number[] = [];
  sipiVector = -1;
  #exit = false;
  readonly env: CpuEnvironment;
  program: Op[];

  constructor(env: CpuEnvironment, program: Op[]) {
    this.env = env;
    this.index = env.index;
    this.program = program;
    this.runState = env.index === 0 ? "running" : "wait-for-sipi";
  }

  run(budget: number): number {
    this.#exit = false;
    if (this.runState === "halted" && this.intr && this.ifFlag) this.runState = "running";
    if (this.runState !== "running") return 0;
    let n = 0;
    while (n < budget) {
      if (this.intr && this.ifFlag) this.vectors.push(this.env.pins.acknowledge());
      if (this.pc >= this.program.length) {
        this.runState = "stopped";
        break;
      }
      this.program[this.pc++](this);
      n++;
      this.retired++;
      if (this.runState !== "running" || this.#exit) break;
    }
    this.lastStop = this.runState === "running"
      ? (this.#exit ? "exit-requested" : "budget")
      : "halted";
    return n;
  }
  requestExit(): void {
    this.#exit = true;
  }
  setIntr(level: boolean): void {
    this.intr = level;
  }
  nmi(): void {
    this.nmis.push(this.retired);
  }
  init(): void {
    this.pc = 0;
    this.runState = this.index === 0 ? "running" : "wait-for-sipi";
  }
  sipi(vector: number): void {
    if (this.runState !== "wait-for-sipi") return;
    this.sipiVector = vector;
    this.runState = "running";
  }
  snapshot(): Snapshot {
    return { state: this.runState, pc: this.pc, retired: this.retired };
  }
}
