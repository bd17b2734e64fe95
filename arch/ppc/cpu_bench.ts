/**
 * PowerPC CPU benchmark (`deno bench`): MIPS on a relocate_kernel-style copy loop
 * (`lwzu; stwu; bdnz`, 3 instructions per word) over 64 KiB, repeated.
 *
 * Measured on the 2-core shared development VM (Deno 2.9.6, load average ~3): 690-800 µs per
 * 49,160 instructions, i.e. about 62-71 MIPS. Reproduce with `deno bench arch/ppc/cpu_bench.ts`.
 *
 * @module
 */

import { createPpcCpu } from "./cpu.ts";
import { createPpcTestEnv } from "./test_env.ts";
import { E, put } from "./testdata/enc.ts";

const WORDS = 16 * 1024;
const env = createPpcTestEnv({ fullTrace: false });
const cpu = createPpcCpu(env, { model: "gekko" });
put(env.bus.memory, 0x1000, [
  E.lis(9, 0x0010), // src - 4 = 0x000FFFFC
  E.ori(9, 9, 0xfffc),
  E.lis(8, 0x0020), // dst - 4
  E.ori(8, 8, 0xfffc),
  E.lis(3, WORDS >>> 16),
  E.ori(3, 3, WORDS & 0xffff),
  E.mtspr(9, 3),
  E.lwzu(0, 4, 9),
  E.stwu(0, 4, 8),
  E.bc(16, 0, -8),
  E.b(-40),
]);
env.bus.memory.fill(0x100000, WORDS * 4, 0x5a);
const PER_RUN = 3 * WORDS + 8;

Deno.bench(`ppc copy loop lwzu/stwu/bdnz (${PER_RUN} instructions)`, () => {
  cpu.setMsr(0);
  cpu.setPc(0x1000);
  cpu.run(PER_RUN);
});
