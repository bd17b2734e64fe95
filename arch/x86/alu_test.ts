import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createX86Cpu, type X86Cpu } from "./cpu.ts";
import { createTestEnv, enterFlat32, enterLong64, type TestEnv } from "./test_env.ts";
import { ALU_VECTORS } from "./alu_vectors.ts";

const CODE = 0x1000;

function machine(bits: 32 | 64): { env: TestEnv; cpu: X86Cpu } {
  const env = createTestEnv();
  const cpu = createX86Cpu(env, { model: "opteron" });
  if (bits === 32) enterFlat32(cpu);
  else enterLong64(cpu, env);
  return { env, cpu };
}

const hex = (v: bigint, w: number) => "0x" + v.toString(16).padStart(w / 4, "0");

Deno.test("x86 ALU: Unicorn vectors (registers and defined flags)", () => {
  const m32 = machine(32), m64 = machine(64);
  const failures: string[] = [];
  for (const v of ALU_VECTORS) {
    const { env, cpu } = v.bits === 32 ? m32 : m64;
    const code = new Uint8Array(v.code.match(/../g)!.map((h) => parseInt(h, 16)));
    env.bus.memory.writeBytes(CODE, code);
    v.in.forEach((x, i) => cpu.setGpr([0, 3, 1, 2][i], BigInt(x)));
    cpu.setFlags(BigInt(v.flags));
    cpu.setRip(CODE);
    cpu.setRunState("running");
    cpu.run(1);
    const regs = [0, 3, 1, 2].map((r) => cpu.getGpr(r));
    const w = v.bits;
    const got = regs.map((r) => hex(w === 32 ? r & 0xffffffffn : r, w));
    const want = v.out.map((x) => hex(BigInt(x), w));
    const mask = Number(v.mask);
    const gotF = Number(cpu.getFlags()) & mask;
    const wantF = Number(v.oflags) & mask;
    const ripOk = cpu.getRip() === BigInt(CODE + code.length);
    if (got.join() !== want.join() || gotF !== wantF || !ripOk) {
      failures.push(
        `${v.asm} (${v.bits}) in=${v.in.join(",")} flags=${v.flags}: got ${got.join(",")} ` +
          `f=${gotF.toString(16)} want ${want.join(",")} f=${wantF.toString(16)}` +
          (ripOk ? "" : ` rip=${cpu.getRip().toString(16)} state=${cpu.runState}`),
      );
    }
  }
  assertEquals(failures.slice(0, 20), [], `${failures.length} of ${ALU_VECTORS.length} failed`);
  // 2920 vectors when generated; a truncated or empty vector file must not pass.
  assert(ALU_VECTORS.length >= 2900, `only ${ALU_VECTORS.length} ALU vectors`);
});
