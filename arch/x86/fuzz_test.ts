import { ok as assert } from "node:assert/strict";
import { createX86Cpu } from "./cpu.ts";
import { createTestEnv, enterFlat32, enterLong64 } from "./test_env.ts";
import { mulberry32 } from "../../testing/prng.ts";

/** Uniform floats in [0, 1) from the shared seeded PRNG. */
function prng(seed: number): () => number {
  const u32 = mulberry32(seed);
  return () => u32() / 4294967296;
}

const PROGRAMS = 10_000;
const CODE = 0x8000;

for (const mode of ["real", "protected32", "long64"] as const) {
  Deno.test(`x86 fuzz: ${PROGRAMS} random programs in ${mode} mode never throw`, () => {
    const rnd = prng(mode === "real" ? 1 : mode === "protected32" ? 2 : 3);
    const env = createTestEnv({ ramSize: 16 * 1024 * 1024, fullTrace: false });
    const cpu = createX86Cpu(env, { model: mode === "long64" ? "opteron" : "pentium4-xeon" });
    const mem = env.bus.memory;
    const bytes = new Uint8Array(64);
    let retired = 0;
    for (let p = 0; p < PROGRAMS; p++) {
      cpu.reset();
      if (mode === "real") {
        cpu.setSegment("cs", { selector: 0x800, base: CODE, limit: 0xffff, attributes: 0x9b });
        cpu.setRip(0);
      } else if (mode === "protected32") {
        enterFlat32(cpu);
        cpu.setRip(CODE);
      } else {
        enterLong64(cpu, env);
        cpu.setRip(CODE);
      }
      for (let i = 0; i < 16; i++) cpu.setGpr(i, Math.floor(rnd() * 2 ** 32));
      cpu.setGpr(4, 0x7000);
      cpu.setFlags(Math.floor(rnd() * 0x1000) & 0xcd5);
      // Bias towards interesting first bytes: prefixes and 0F.
      for (let i = 0; i < bytes.length; i++) {
        const r = rnd();
        bytes[i] = r < 0.08
          ? 0x0f
          : r < 0.14
          ? [0x66, 0x67, 0xf3, 0xf0, 0x48, 0x2e][i % 6]
          : Math.floor(rnd() * 256);
      }
      mem.writeBytes(CODE, bytes);
      try {
        retired += cpu.run(40);
      } catch (e) {
        const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
        throw new Error(`program ${p} (${mode}) threw: ${e}\n${hex}`);
      }
    }
    assert(retired > PROGRAMS, `retired ${retired}`);
  });
}
