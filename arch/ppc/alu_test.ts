import assert from "node:assert/strict";
import { createPpcCpu } from "./cpu.ts";
import { createPpcTestEnv } from "./test_env.ts";
import { PPC_ALU_VECTORS } from "./alu_vectors.ts";

const h = (v: number) => "0x" + (v >>> 0).toString(16).padStart(8, "0");

Deno.test("ppc alu: every Unicorn golden vector (750CL) matches r5, CR and XER", () => {
  assert.ok(PPC_ALU_VECTORS.length >= 2000, "the vector table is complete");
  const env = createPpcTestEnv({ fullTrace: false });
  const cpu = createPpcCpu(env, { model: "750cl" });
  const failures: string[] = [];
  for (const [w, a, b, xer, cr, r5, crOut, xerOut] of PPC_ALU_VECTORS) {
    env.bus.memory.write32be(0x1000, w);
    cpu.setMsr(0);
    cpu.setPc(0x1000);
    cpu.setGpr(3, a);
    cpu.setGpr(4, b);
    cpu.setGpr(5, 0x5555aaaa);
    cpu.setXer(xer);
    cpu.setCr(cr);
    assert.equal(cpu.run(1), 1);
    const got = [cpu.getGpr(5), cpu.getCr(), cpu.getXer()];
    if (got[0] !== r5 || got[1] !== crOut || got[2] !== xerOut) {
      failures.push(
        `${h(w)} r3=${h(a)} r4=${h(b)} xer=${h(xer)} cr=${h(cr)}: got r5=${h(got[0])} cr=${
          h(got[1])
        } xer=${h(got[2])}, want r5=${h(r5)} cr=${h(crOut)} xer=${h(xerOut)}`,
      );
    }
    assert.equal(cpu.getPc(), 0x1004, `no exception for ${h(w)}`);
  }
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} mismatches`);
});
