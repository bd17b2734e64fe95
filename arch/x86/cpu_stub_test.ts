import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createX86Cpu } from "./cpu.ts";
import { createTestEnv, enterFlat32, enterLong64 } from "./test_env.ts";
import { assemble } from "./asm.ts";
import { relocateKernel64Source } from "./relocate_kernel_64.ts";
import { relocateKernel32Source } from "./relocate_kernel_32.ts";

// The kernel helper's relocation stubs, assembled by our assembler and run on the interpreter:
// the indirection list copies three source pages to 0x100000 and the stub jumps there.

const NEW_KERNEL = (bits: 32 | 64) =>
  assemble(`bits ${bits}\nmov al, 0x77\nout 0x80, al\ncli\nhlt\n`, { bits }).bytes;

Deno.test("x86 opteron: relocate_new_kernel (x86_64, kexec3) copies pages and enters the new kernel", () => {
  const env = createTestEnv();
  const m = env.bus.memory;
  const cpu = createX86Cpu(env, { model: "opteron" });
  enterLong64(cpu, env); // identity map of the first GiB at 0x3f0000
  const stub = assemble(relocateKernel64Source("kexec3"), { bits: 64, org: 0x10000 });
  m.writeBytes(0x10000, stub.bytes);
  // Source pages with distinct contents; the first starts with the new kernel.
  for (let p = 0; p < 3; p++) m.fill(0x200000 + p * 4096, 4096, 0x10 + p);
  m.writeBytes(0x200000, NEW_KERNEL(64));
  const list = [0x100000 | 1, 0x200000 | 8, 0x201000 | 8, 0x202000 | 8, 4];
  list.forEach((e, i) => m.write64(0x20000 + i * 8, BigInt(e)));
  cpu.setGpr(7, 0x20000); // rdi: indirection page 0
  cpu.setGpr(6, 0x10000); // rsi: control page
  cpu.setGpr(2, 0x100000); // rdx: start address
  cpu.setGpr(1, 0x3f0000); // rcx: PML4
  cpu.setGpr(10, 0x1234n);
  cpu.setGpr(4, 0x9000);
  cpu.setRip(0x10000);
  cpu.run(10000);
  assertEquals(cpu.runState, "stopped");
  assertEquals(env.outs.map(([p, , v]) => [p, v]), [[0x80, 0x77]]);
  assertEquals(m.read8(0x101000), 0x11);
  assertEquals(m.read8(0x102fff), 0x12);
  assertEquals(m.read8(0x100000 + 100), 0x10);
  assertEquals(cpu.getGpr(9), 0x1234n); // the XOR R9, R10 quirk
  assertEquals(cpu.getCr(4), 0x20n);
  assertEquals(cpu.snapshot().mode, "long64");
});

Deno.test("x86 i386: relocate_new_kernel (i386, kexec3) runs on a 386 (guarded CR4 write)", () => {
  const env = createTestEnv();
  const m = env.bus.memory;
  const cpu = createX86Cpu(env, { model: "i386" });
  enterFlat32(cpu);
  const src = relocateKernel32Source("kexec3");
  const stub = assemble(src, { bits: 32, org: 0x10000 });
  m.writeBytes(0x10000, stub.bytes);
  for (let p = 0; p < 3; p++) m.fill(0x200000 + p * 4096, 4096, 0x20 + p);
  m.writeBytes(0x200000, NEW_KERNEL(32));
  const list = [0x100000 | 1, 0x200000 | 8, 0x201000 | 8, 0x202000 | 8, 4];
  list.forEach((e, i) => m.write32(0x20000 + i * 4, e));
  // i386 calling convention: stack arguments (list, control page, start address, has_pae).
  const sp = 0x9000 - 20;
  [0xdeadbeef, 0x20000, 0x10000, 0x100000, 0].forEach((v, i) => m.write32(sp + i * 4, v));
  cpu.setGpr(4, sp);
  cpu.setRip(0x10000);
  cpu.run(20000);
  const trace = env.trace.all().filter((e) => e.category === "exception").map((e) => e.message);
  assertEquals(trace, []);
  assertEquals(cpu.runState, "stopped");
  assertEquals(env.outs.map(([p, , v]) => [p, v]), [[0x80, 0x77]]);
  assertEquals(m.read8(0x102fff), 0x22);
});
