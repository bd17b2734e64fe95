// Test double for runner unit tests only: a "machine" whose behaviour is scripted by the
// scenario's board name, so the runner's steps, expectations and reports can be tested without
// the real hw/ and arch/ models. Never used by bundled scenarios.

import { RegisterValue, type Snapshot } from "../../hw/fields.ts";
import { PhysicalMemory } from "../../hw/memory.ts";
import type { Trace } from "../../hw/trace.ts";
import type { MachineLike, MachineProvider, RunResult, RunUntil } from "../steps.ts";

export const CR0_FIELDS = {
  pe: { lsb: 0, width: 1 },
  pg: { lsb: 31, width: 1 },
};
export const LVT_FIELDS = {
  vector: { lsb: 0, width: 8 },
  delivery: { lsb: 8, width: 3, values: { Fixed: 0, SMI: 2, NMI: 4, INIT: 5, ExtINT: 7 } },
  masked: { lsb: 16, width: 1 },
};

export class FakeMachine implements MachineLike {
  readonly memory = new PhysicalMemory({ addressSpace: 2 ** 32 });
  readonly endianness: "little" | "big";
  console = "";
  readonly trace: Trace;
  readonly board: string;
  state = "running";
  eip = 0x7c00;
  retired = 0;

  constructor(board: string, trace: Trace, endianness: "little" | "big" = "little") {
    this.board = board;
    this.trace = trace;
    this.endianness = endianness;
  }

  loadBootsector(bytes: Uint8Array): void {
    this.memory.writeBytes(0x7c00, bytes);
    this.trace.emit("cpu", "fake: boot sector loaded at 0x7c00");
  }

  run(options: { until: RunUntil; maxInstructions: number }): RunResult {
    if (this.board === "fake-spin") {
      this.retired += options.maxInstructions;
      return { reason: "budget", instructions: options.maxInstructions, time: this.retired * 10 };
    }
    // "Execute": copy the boot sector's text up to the first zero byte to the console.
    const bytes = this.memory.readBytes(0x7c00, 512);
    const end = bytes.indexOf(0);
    this.console += new TextDecoder().decode(bytes.subarray(0, end < 0 ? 512 : end));
    this.memory.write32(0x7000, 0x12345678);
    this.memory.write64(0x7008, 0xfedcba9876543210n);
    this.state = "halted";
    this.eip = 0x7c00 + (end < 0 ? 512 : end);
    this.retired += 7;
    this.trace.emit("cpu", "fake: halted");
    return { reason: "halted", instructions: 7, time: 70 };
  }

  snapshot(): Snapshot {
    return {
      cpu: {
        0: {
          state: this.state,
          eip: new RegisterValue(this.eip, 32),
          cr0: new RegisterValue(0x11, 32, CR0_FIELDS),
          retired: this.retired,
          halted: this.state === "halted",
        },
      },
      lapic: { 0: { lvt0: new RegisterValue(0x10700, 32, LVT_FIELDS) } },
      pic: { master: { imr: new RegisterValue(0xfe, 8) } },
      list: [1n, 2n],
    };
  }
}

/** A fake assembler: bytes are the UTF-8 of the source; the token `bad` is an error. */
export function fakeAssemble(
  source: string,
  options: { lineOffset?: number; columnOffset?: number },
): { bytes: Uint8Array } {
  const lines = source.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const col = lines[i].indexOf("bad");
    if (col >= 0) {
      throw Object.assign(new SyntaxError("Unknown instruction: bad"), {
        line: i + 1 + (options.lineOffset ?? 0),
        column: col + 1 + (options.columnOffset ?? 0),
        detail: "Unknown instruction: bad",
      });
    }
  }
  return { bytes: new TextEncoder().encode(source) };
}

export const fakeProvider: MachineProvider = {
  build(config, { trace }) {
    if (config.board === "fake-impossible") {
      throw Object.assign(new RangeError("2 CPUs need local APICs"), { path: "machine.cpu.count" });
    }
    return new FakeMachine(config.board, trace, config.board === "fake-be" ? "big" : "little");
  },
  assemble: fakeAssemble,
};
