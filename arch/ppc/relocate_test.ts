import assert from "node:assert/strict";
import { assemble } from "./asm.ts";
import { createPpcCpu, MSR } from "./cpu.ts";
import { createPpcTestEnv } from "./test_env.ts";
import { E, put } from "./testdata/enc.ts";

// The 2.6.13 arch/ppc relocate_new_kernel as shared/reference/kexec-kernel.md §6.3 describes it
// step by step (written for this test from that description).
const RELOCATE = `
relocate_new_kernel:
	li	0, 0
	li	8, 0x1002
	mtspr	27, 8
	addi	8, 4, phys - relocate_new_kernel
	mtspr	26, 8
	sync
	rfi
phys:
	addi	1, 4, 4096 - 8
	stw	0, 0(1)
	li	6, 0
	mr	0, 3
	b	test
next:
	lwzu	0, 4(3)
test:
	rlwinm.	7, 0, 0, 31, 31
	beq	not_dest
	rlwinm	8, 0, 0, 0, 19
	b	next
not_dest:
	rlwinm.	7, 0, 0, 30, 30
	beq	not_ind
	rlwinm	3, 0, 0, 0, 19
	subi	3, 3, 4
	b	next
not_ind:
	rlwinm.	7, 0, 0, 29, 29
	beq	not_done
	b	done
not_done:
	rlwinm.	7, 0, 0, 28, 28
	beq	next
	rlwinm	9, 0, 0, 0, 19
	li	7, 1024
	mtctr	7
	subi	9, 9, 4
	subi	8, 8, 4
copy:
	lwzu	0, 4(9)
	xor	6, 6, 0
	stwu	0, 4(8)
	dcbst	0, 8
	sync
	icbi	0, 8
	bdnz	copy
	addi	9, 9, 4
	addi	8, 8, 4
	b	next
done:
	isync
	sync
	mtlr	5
	blrl
self:
	b	self
`;

Deno.test("ppc relocate_new_kernel (2.6.13 shape): MMU off by rfi, pages copied, new kernel runs", () => {
  const env = createPpcTestEnv();
  const m = env.bus.memory;
  const cpu = createPpcCpu(env, { model: "gekko" });
  const control = 0x00800000, ind = 0x00900000, src = 0x00a00000, dest = 0x00100000;
  const { bytes, labels } = assemble(RELOCATE, { org: 0x80000000 + control });
  m.writeBytes(control, bytes);
  // Source pages: the new kernel's first page starts with code, the rest is a pattern.
  let sum = 0;
  for (let i = 0; i < 2048; i++) {
    const w = (Math.imul(i + 1, 0x9e3779b1) ^ 0x5a5a5a5a) >>> 0;
    m.write32be(src + 4 * i, w);
  }
  put(m, src, [E.li(3, 0x77), E.b(0)]);
  for (let i = 0; i < 2048; i++) sum ^= m.read32be(src + 4 * i);
  put(m, ind, [dest | 1, src | 8, (src + 0x1000) | 8, 4]);
  m.fill(dest, 0x2000, 0xee);
  // State at the jump into the stub: translation on with the GameCube BATs, EE off.
  cpu.setSpr(528, 0x80001fff);
  cpu.setSpr(529, 0x00000002);
  cpu.setSpr(536, 0x80001fff);
  cpu.setSpr(537, 0x00000002);
  cpu.setMsr(MSR.IR | MSR.DR | MSR.ME | MSR.RI);
  cpu.setPc(0x80000000 + control);
  cpu.setGpr(3, ind | 2);
  cpu.setGpr(4, control);
  cpu.setGpr(5, dest);
  cpu.run(20_000);
  assert.equal(cpu.getMsr(), 0x1002);
  assert.equal(cpu.getPc(), dest + 4, "the new kernel's b . loop");
  assert.equal(cpu.getGpr(3), 0x77, "the new kernel ran");
  assert.deepEqual(m.readBytes(dest, 0x2000), m.readBytes(src, 0x2000));
  assert.equal(cpu.getGpr(6), sum >>> 0, "XOR checksum");
  assert.equal(cpu.getGpr(7), 4);
  assert.equal(cpu.getGpr(8), dest + 0x2000);
  assert.equal(cpu.getGpr(9), src + 0x2000);
  assert.equal(cpu.getSpr(9), 0);
  const self = Number(labels.get("self")!) - 0x80000000;
  assert.equal(cpu.getSpr(8), self, "LR = physical address of the stub's self loop");
  assert.equal(m.read32be(control + 0xff8), 0);
});
