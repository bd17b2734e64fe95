import assert from "node:assert/strict";
import { createPpcCpu } from "./cpu.ts";
import { createPpcTestEnv } from "./test_env.ts";
import { PPC_SEQ_VECTORS } from "./seq_vectors.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => Uint8Array.from(s.match(/../g)!, (x) => parseInt(x, 16));

Deno.test("ppc load/store sequences: every Unicorn golden case (750CL) matches", () => {
  assert.ok(PPC_SEQ_VECTORS.length >= 600, "the vector table is complete");
  const env = createPpcTestEnv({ fullTrace: false });
  const cpu = createPpcCpu(env, { model: "750cl" });
  const m = env.bus.memory;
  const failures: string[] = [];
  PPC_SEQ_VECTORS.forEach(([code, regsIn, dataIn, regsOut, dataOut], n) => {
    m.fill(0x1fc0, 0xc0);
    m.writeBytes(0x2000, unhex(dataIn));
    code.forEach((w, i) => m.write32be(0x1000 + 4 * i, w));
    cpu.setMsr(0);
    cpu.setPc(0x1000);
    regsIn.forEach((v, i) => cpu.setGpr(i, v));
    cpu.setXer(regsIn[30]);
    cpu.setCr(regsIn[31]);
    cpu.reservation = -1;
    cpu.run(code.length);
    const got = Array.from({ length: 32 }, (_, i) => cpu.getGpr(i));
    got[30] = cpu.getXer();
    got[31] = cpu.getCr();
    const where = `case ${n} [${code.map((w) => w.toString(16)).join(" ")}]`;
    if (cpu.getPc() !== 0x1000 + 4 * code.length) failures.push(`${where}: exception`);
    for (let i = 0; i < 32; i++) {
      if (got[i] !== regsOut[i]) {
        failures.push(`${where}: r${i} = ${got[i].toString(16)}, want ${regsOut[i].toString(16)}`);
      }
    }
    if (hex(m.readBytes(0x2000, 64)) !== dataOut) failures.push(`${where}: data differs`);
    if (!m.isZero(0x1fc0, 0x40) || !m.isZero(0x2040, 0x40)) {
      failures.push(`${where}: wrote outside`);
    }
  });
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} mismatches`);
});
