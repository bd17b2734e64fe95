import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createX86Cpu } from "./cpu.ts";
import { createTestEnv, enterFlat32, enterLong64 } from "./test_env.ts";
import { SEQ_VECTORS } from "./seq_vectors.ts";

const hexBytes = (h: string) => new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16)));

Deno.test("x86: random instruction sequences match Unicorn (registers, flags, memory)", () => {
  const failures: string[] = [];
  for (const [n, v] of SEQ_VECTORS.entries()) {
    const env = createTestEnv({ fullTrace: false });
    const cpu = createX86Cpu(env, { model: v.bits === 64 ? "opteron" : "pentium4-xeon" });
    if (v.bits === 16) {
      cpu.setSegment("cs", { selector: 0, base: 0, limit: 0xffff, attributes: 0x9b });
    } else if (v.bits === 32) enterFlat32(cpu, env);
    else enterLong64(cpu, env);
    const m = env.bus.memory;
    m.writeBytes(0x8000, hexBytes(v.code));
    m.writeBytes(0x2000, hexBytes(v.data));
    v.regs.forEach((r, i) => cpu.setGpr(i, BigInt(r)));
    cpu.setFlags(BigInt(v.flags));
    cpu.setRip(0x8000);
    cpu.run(5000);
    const mask = v.bits === 64 ? 0xffffffffffffffffn : 0xffffffffn;
    const got = v.regs.map((_, i) => "0x" + (cpu.getGpr(i) & mask).toString(16));
    const want = v.out.map((x) => "0x" + BigInt(x).toString(16));
    const gotF = cpu.getFlags() & 0x8d5;
    const data = Array.from(m.readBytes(0x2000, 0x400), (b) => b.toString(16).padStart(2, "0"))
      .join("");
    const problems: string[] = [];
    if (cpu.runState !== "stopped") problems.push(`state ${cpu.runState} ${cpu.lastException}`);
    got.forEach((g, i) => {
      if (g !== want[i]) problems.push(`reg${i} ${g} != ${want[i]}`);
    });
    if (gotF !== Number(v.oflags)) problems.push(`flags ${gotF.toString(16)} != ${v.oflags}`);
    if (data !== v.odata) {
      const k = [...data].findIndex((c, i) => c !== v.odata[i]);
      problems.push(`data differs at byte ${Math.floor(k / 2)}`);
    }
    if (problems.length) failures.push(`#${n} (${v.bits}): ${problems.join("; ")}\n${v.src}`);
  }
  assertEquals(failures.slice(0, 3), [], `${failures.length} of ${SEQ_VECTORS.length} differ`);
  // 600 sequences when generated; a truncated or empty vector file must not pass.
  assert(SEQ_VECTORS.length >= 600, `only ${SEQ_VECTORS.length} sequences`);
});
