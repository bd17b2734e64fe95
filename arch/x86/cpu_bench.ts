/**
 * CPU benchmarks (`deno bench`): interpreter MIPS on an integer loop, the purgatory's
 * rotate-add checksum loop (64-bit), and REP MOVSD bandwidth over whole pages.
 *
 * Measured on the 2-core shared development VM (AMD EPYC, Deno 2.9.6, other jobs running):
 * integer loop ~55-60 MIPS (32-bit) / ~53-62 MIPS (64-bit), checksum loop ~60 MIPS (about
 * 5.5 MB/s checksummed), REP MOVSD 16 MiB in 1.2-2.2 ms (~7-14 GB/s). Reproduce with
 * `deno bench --allow-read arch/x86/cpu_bench.ts`.
 *
 * The MIPS loop (32-bit flat mode, 7 instructions per iteration):
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

function loopCpu(bits: 32 | 64) {
  const env = createTestEnv({ fullTrace: false });
  const cpu = createX86Cpu(env, { model: "opteron" });
  env.bus.memory.fill(0x100000, 4 * ITER, 1); // source data (untouched RAM reads take the slow path)
  if (bits === 32) enterFlat32(cpu);
  else enterLong64(cpu, env);
  const prog = assemble(`bits ${bits}\n` + LOOP, { bits, org: 0x1000 });
  env.bus.memory.writeBytes(0x1000, prog.bytes);
  return cpu;
}

for (const bits of [32, 64] as const) {
  const cpu = loopCpu(bits);
  Deno.bench(`x86 interpreter: ${7 * ITER} instructions of an integer loop (${bits}-bit)`, () => {
    cpu.setRip(0x1000);
    cpu.setGpr(6, 0x100000); // esi
    cpu.setGpr(7, 0x800000); // edi
    cpu.setGpr(1, ITER); // ecx
    cpu.setRunState("running");
    const n = cpu.run(10 * ITER);
    if (n !== 7 * ITER + 1) throw new Error(`retired ${n}`);
  });
}

const PAGES = 4096; // 16 MiB per copy
{
  const env = createTestEnv({ fullTrace: false, ramSize: 128 * 1024 * 1024 });
  const cpu = createX86Cpu(env, { model: "pentium4-xeon" });
  enterFlat32(cpu);
  const prog = assemble("bits 32\ncld\nrep movsd\nhlt", { bits: 32, org: 0x1000 });
  env.bus.memory.writeBytes(0x1000, prog.bytes);
  env.bus.memory.fill(0x1000000, PAGES * 4096, 0x5a);
  env.bus.memory.fill(0x3000000, PAGES * 4096, 0x00);
  Deno.bench(`x86 REP MOVSD: ${PAGES * 4} KiB page-aligned copy`, () => {
    cpu.setRip(0x1000);
    cpu.setGpr(6, 0x1000000);
    cpu.setGpr(7, 0x3000000);
    cpu.setGpr(1, PAGES * 1024);
    cpu.setRunState("running");
    cpu.run(1_000_000);
    if (cpu.getGpr(1) !== 0n) throw new Error("copy incomplete");
  });
}

{
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
  Deno.bench(
    "x86 interpreter: purgatory checksum loop over 1 MiB (64-bit, 11 M instructions)",
    () => {
      cpu.setRip(0x1000);
      cpu.setGpr(6, 0x1000000);
      cpu.setGpr(2, 1 << 20);
      cpu.setRunState("running");
      cpu.run(20_000_000);
      if (cpu.runState !== "stopped") throw new Error("checksum loop did not finish");
    },
  );
}
