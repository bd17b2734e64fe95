/**
 * The CPU benchmark workloads, shared by `deno bench` (arch/x86/cpu_bench.ts) and the figures
 * summary (bench/figures.ts): each returns a closure that runs the workload once and checks it.
 *
 * The MIPS loop (32- or 64-bit flat mode, 7 instructions per iteration):
 * ```
 * l: mov eax, [esi]
 *    add eax, ebx
 *    mov [edi], eax
 *    add esi, 4
 *    add edi, 4
 *    dec ecx
 *    jnz l
 * ```
 *
 * @module
 */

import { createX86Cpu } from "./cpu.ts";
import { createTestEnv, enterFlat32, enterLong64 } from "./test_env.ts";
import { assemble } from "./asm.ts";

/** A benchmark workload: `run()` executes it once and returns the guest instructions retired. */
export interface Workload {
  /** Name shown by `deno bench`. */
  readonly name: string;
  /** What the figure measures: instructions per second (MIPS) or bytes copied per second. */
  readonly unit: "MIPS" | "GB/s";
  /** Bytes copied per run (for GB/s). */
  readonly bytes?: number;
  /** Run once; returns the instructions retired; throws if the guest did not do what was expected. */
  run(): number;
}

const ITER = 1_000_000;

const LOOP = `
l: mov eax, [esi]
   add eax, ebx
   mov [edi], eax
   add esi, 4
   add edi, 4
   dec ecx
   jnz l
   hlt
`;

/**
 * The integer loop: 7 M instructions in 32- or 64-bit flat mode.
 *
 * @example
 * ```ts ignore
 * import { integerLoop } from "./bench_workloads.ts";
 * integerLoop(32).run();
 * ```
 */
export function integerLoop(bits: 32 | 64): Workload {
  const env = createTestEnv({ fullTrace: false });
  const cpu = createX86Cpu(env, { model: "opteron" });
  env.bus.memory.fill(0x100000, 4 * ITER, 1); // source data (untouched RAM reads take the slow path)
  if (bits === 32) enterFlat32(cpu);
  else enterLong64(cpu, env);
  const prog = assemble(`bits ${bits}\n` + LOOP, { bits, org: 0x1000 });
  env.bus.memory.writeBytes(0x1000, prog.bytes);
  return {
    name: `x86 interpreter: ${7 * ITER} instructions of an integer loop (${bits}-bit)`,
    unit: "MIPS",
    run() {
      cpu.setRip(0x1000);
      cpu.setGpr(6, 0x100000); // esi
      cpu.setGpr(7, 0x800000); // edi
      cpu.setGpr(1, ITER); // ecx
      cpu.setRunState("running");
      const n = cpu.run(10 * ITER);
      if (n !== 7 * ITER + 1) throw new Error(`retired ${n}`);
      return n;
    },
  };
}

const PAGES = 4096; // 16 MiB per copy

/**
 * REP MOVSD over 16 MiB of whole pages.
 *
 * @example
 * ```ts ignore
 * import { repMovsd } from "./bench_workloads.ts";
 * repMovsd().run();
 * ```
 */
export function repMovsd(): Workload {
  const env = createTestEnv({ fullTrace: false, ramSize: 128 * 1024 * 1024 });
  const cpu = createX86Cpu(env, { model: "pentium4-xeon" });
  enterFlat32(cpu);
  const prog = assemble("bits 32\ncld\nrep movsd\nhlt", { bits: 32, org: 0x1000 });
  env.bus.memory.writeBytes(0x1000, prog.bytes);
  env.bus.memory.fill(0x1000000, PAGES * 4096, 0x5a);
  env.bus.memory.fill(0x3000000, PAGES * 4096, 0x00);
  return {
    name: `x86 REP MOVSD: ${PAGES * 4} KiB page-aligned copy`,
    unit: "GB/s",
    bytes: PAGES * 4096,
    run() {
      cpu.setRip(0x1000);
      cpu.setGpr(6, 0x1000000);
      cpu.setGpr(7, 0x3000000);
      cpu.setGpr(1, PAGES * 1024);
      cpu.setRunState("running");
      const n = cpu.run(1_000_000);
      if (cpu.getGpr(1) !== 0n) throw new Error("copy incomplete");
      return n;
    },
  };
}

/**
 * The purgatory's rotate-add checksum loop over 1 MiB in 64-bit mode (11 M instructions).
 *
 * @example
 * ```ts ignore
 * import { checksumLoop } from "./bench_workloads.ts";
 * checksumLoop().run();
 * ```
 */
export function checksumLoop(): Workload {
  const env = createTestEnv({ fullTrace: false });
  const cpu = createX86Cpu(env, { model: "opteron" });
  enterLong64(cpu, env);
  const prog = assemble(
    `bits 64
    xor eax, eax
l:  test rdx, rdx
    jz done
    mov edi, eax
    shl eax, 5
    shr edi, 27
    or eax, edi
    movzx edi, byte [rsi]
    add eax, edi
    add rsi, 1
    sub rdx, 1
    jmp l
done:
    hlt`,
    { bits: 64, org: 0x1000 },
  );
  env.bus.memory.writeBytes(0x1000, prog.bytes);
  env.bus.memory.fill(0x1000000, 1 << 20, 7);
  return {
    name: "x86 interpreter: purgatory checksum loop over 1 MiB (64-bit, 11 M instructions)",
    unit: "MIPS",
    run() {
      cpu.setRip(0x1000);
      cpu.setGpr(6, 0x1000000);
      cpu.setGpr(2, 1 << 20);
      cpu.setRunState("running");
      const n = cpu.run(20_000_000);
      if (cpu.runState !== "stopped") throw new Error("checksum loop did not finish");
      return n;
    },
  };
}

/** Every CPU workload, in report order. */
export function cpuWorkloads(): Workload[] {
  return [integerLoop(32), integerLoop(64), repMovsd(), checksumLoop()];
}
