import assert from "node:assert/strict";
import { createPpcCpu } from "./cpu.ts";
import { createPpcTestEnv } from "./test_env.ts";
import { PPC_ALU_VECTORS } from "./alu_vectors.ts";
import { PPC_BRANCH_VECTORS } from "./branch_vectors.ts";

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

Deno.test("ppc branches: every Unicorn golden vector (750CL) matches PC, CTR and LR", () => {
  assert.ok(PPC_BRANCH_VECTORS.length >= 800, "the vector table is complete");
  const env = createPpcTestEnv({ fullTrace: false });
  const cpu = createPpcCpu(env, { model: "750cl" });
  const failures: string[] = [];
  for (const [w, cr, ctr, lr, pc, ctrOut, lrOut] of PPC_BRANCH_VECTORS) {
    env.bus.memory.write32be(0x8004, w);
    cpu.setMsr(0);
    cpu.setPc(0x8004);
    cpu.setCr(cr);
    cpu.setSpr(9, ctr);
    cpu.setSpr(8, lr);
    cpu.run(1);
    const got = [cpu.getPc(), cpu.getSpr(9), cpu.getSpr(8)];
    if (got[0] !== pc || got[1] !== ctrOut || got[2] !== lrOut) {
      failures.push(
        `${h(w)} cr=${h(cr)} ctr=${h(ctr)} lr=${h(lr)}: got pc=${h(got[0])} ctr=${h(got[1])} lr=${
          h(got[2])
        }, want pc=${h(pc)} ctr=${h(ctrOut)} lr=${h(lrOut)}`,
      );
    }
  }
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} mismatches`);
});
