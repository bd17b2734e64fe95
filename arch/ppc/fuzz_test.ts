import assert from "node:assert/strict";
import { createPpcCpu, MSR } from "./cpu.ts";
import { createPpcTestEnv } from "./test_env.ts";
import { mulberry32 } from "../../testing/prng.ts";
import { INTEGER_PRIMARY_OPCODES } from "./testdata/enc.ts";

// Primary opcodes weighted towards the implemented ones, so that programs get past their first
// word; extended opcodes are drawn at random.
const PRIMARY = INTEGER_PRIMARY_OPCODES.filter((op) => op <= 29);
const MORE = [
  31,
  31,
  31,
  31,
  32,
  33,
  34,
  35,
  36,
  37,
  38,
  39,
  40,
  41,
  42,
  43,
  44,
  45,
  46,
  47,
  48,
  4,
];

Deno.test("ppc fuzz: 10,000 random programs raise no JavaScript exception", () => {
  const rnd = mulberry32(0x750);
  const env = createPpcTestEnv({ ramSize: 1 << 20, fullTrace: false });
  const cpu = createPpcCpu(env, { model: "gekko" });
  const m = env.bus.memory;
  const all = [...PRIMARY, ...MORE];
  let retired = 0;
  for (let n = 0; n < 10_000; n++) {
    cpu.reset();
    const base = 0x1000 + (rnd() & 0x3f) * 0x100;
    for (let i = 0; i < 12; i++) {
      const r = rnd();
      const op = (r & 7) === 0 ? r >>> 26 : all[r % all.length];
      const w = ((op << 26) | (rnd() & 0x03ffffff)) >>> 0;
      m.write32be(base + 4 * i, w);
    }
    // Random registers (some pointing into RAM), random translation/privilege bits and BATs.
    for (let r = 0; r < 32; r++) cpu.setGpr(r, (rnd() & 1) ? rnd() & 0xfffff : rnd());
    const msrBits = [MSR.EE, MSR.PR, MSR.IR, MSR.DR, MSR.IP, MSR.FP, MSR.ME];
    let msr = 0;
    for (const b of msrBits) if ((rnd() & 3) === 0) msr |= b;
    if ((rnd() & 1) === 0) {
      cpu.setSpr(528, 0x00001fff);
      cpu.setSpr(529, 0x00000002);
      cpu.setSpr(536, 0x00001fff);
      cpu.setSpr(537, rnd() & 0x7b);
    }
    if ((rnd() & 3) === 0) cpu.setSpr(25, 0x00080000);
    cpu.setMsr(msr);
    cpu.setPc(base);
    if ((rnd() & 7) === 0) cpu.setIntr(true);
    retired += cpu.run(24);
    cpu.setIntr(false);
    if ((rnd() & 15) === 0) env.clock.advanceTo(env.clock.now() + (rnd() & 0xffff));
  }
  assert.ok(retired > 10_000 * 3, `programs ran (${retired} instructions)`);
});
