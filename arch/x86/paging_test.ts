import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createX86Cpu, type X86Cpu } from "./cpu.ts";
import { createTestEnv, enterFlat32, enterLong64, type TestEnv } from "./test_env.ts";
import { assemble } from "./asm.ts";

/** A flat 32-bit CPU with an IDT whose #PF/#GP handlers report (vector, error code, CR2). */
function machine(model: string, body: string, bits: 32 | 64 = 32) {
  const env = createTestEnv();
  const cpu = createX86Cpu(env, { model });
  if (bits === 32) enterFlat32(cpu, env);
  else enterLong64(cpu, env);
  const handlers = bits === 32
    ? `
pf: push dword 14
    jmp report
gp: push dword 13
report:
    pop eax
    out 0x90, eax
    pop eax
    out 0x84, eax
    mov eax, cr2
    out 0x88, eax
    cli
    hlt`
    : `
pf: push qword 14
    jmp report
gp: push qword 13
report:
    pop rax
    out 0x90, eax
    pop rax
    out 0x84, eax
    mov rax, cr2
    out 0x88, eax
    cli
    hlt`;
  const prog = assemble(`bits ${bits}\n${body}\n${handlers}`, { bits, org: 0x1000 });
  env.bus.memory.writeBytes(0x1000, prog.bytes);
  // IDT at 0x8000 with gates for 13 and 14.
  const idt = 0x8000;
  for (const [v, label] of [[13, "gp"], [14, "pf"]] as const) {
    const off = Number(prog.labels.get(label)!);
    const e = idt + v * (bits === 64 ? 16 : 8);
    env.bus.memory.write16(e, off & 0xffff);
    env.bus.memory.write16(e + 2, 8);
    env.bus.memory.write16(e + 4, 0x8e00);
    env.bus.memory.write16(e + 6, off >>> 16);
  }
  cpu.setIdtr({ base: idt, limit: bits === 64 ? 256 * 16 - 1 : 256 * 8 - 1 });
  cpu.setGpr(4, 0x7000);
  cpu.setRip(0x1000);
  return { env, cpu };
}

const port = (env: TestEnv, p: number) => env.outs.filter(([q]) => q === p).map(([, , v]) => v);
const fault = (env: TestEnv) => [port(env, 0x90)[0], port(env, 0x84)[0], port(env, 0x88)[0]];

/** 2-level tables: PD at 0x20000, PT at 0x21000 identity-mapping 0-4 MiB (U/S, R/W set). */
function twoLevel(cpu: X86Cpu, env: TestEnv, cr4 = 0) {
  const m = env.bus.memory;
  m.write32(0x20000, 0x21007);
  for (let i = 0; i < 1024; i++) m.write32(0x21000 + i * 4, (i << 12) | 7);
  cpu.setCr(4, cr4);
  cpu.setCr(3, 0x20000);
  cpu.setCr(0, 0xe0000011);
}

Deno.test("x86 paging: A and D bits are set by the walk (2-level)", () => {
  const { env, cpu } = machine("pentium", "mov eax, [0x300000]\nmov [0x301000], eax\nhlt");
  twoLevel(cpu, env);
  cpu.run(100);
  const m = env.bus.memory;
  assertEquals(m.read32(0x20000) & 0x60, 0x20); // PDE: A
  assertEquals(m.read32(0x21000 + 0x300 * 4) & 0x60, 0x20); // read page: A, not D
  assertEquals(m.read32(0x21000 + 0x301 * 4) & 0x60, 0x60); // written page: A and D
});

Deno.test("x86 paging: CR0.WP makes read-only pages fault for supervisor writes", () => {
  for (const wp of [0, 1]) {
    const { env, cpu } = machine("i486", "mov dword [0x302000], 5\nmov al, 1\nout 0x80, al\nhlt");
    twoLevel(cpu, env);
    env.bus.memory.write32(0x21000 + 0x302 * 4, 0x302005); // present, user, read-only
    cpu.setCr(0, wp ? 0xe0010011 : 0xe0000011);
    cpu.run(100);
    if (wp) assertEquals(fault(env), [14, 3, 0x302000]); // P | W
    else assertEquals(port(env, 0x80), [1]);
  }
});

Deno.test("x86 paging: PSE 4 MiB pages and PSE-36 high bits", () => {
  const { env, cpu } = machine("pentium4-xeon", "mov eax, [0x400010]\nout 0x80, eax\nhlt");
  const m = env.bus.memory;
  m.write32(0x20000, 0x000083); // 0-4 MiB identity, 4 MiB page
  m.write32(0x20004, 0x800083); // 4-8 MiB -> 8 MiB
  m.write32(0x800010, 0xcafe);
  cpu.setCr(4, 0x10);
  cpu.setCr(3, 0x20000);
  cpu.setCr(0, 0xe0000011);
  cpu.run(100);
  assertEquals(port(env, 0x80), [0xcafe]);
  // PSE-36: PDE bits 13..16 are physical bits 32..35; bit 17 is above MAXPHYADDR 36 -> RSVD.
  const b = machine("pentium4-xeon", "mov eax, [0x400010]\nout 0x80, eax\nhlt");
  b.env.bus.memory.write32(0x20000, 0x000083);
  b.env.bus.memory.write32(0x20004, 0x000083 | (1 << 17));
  b.cpu.setCr(4, 0x10);
  b.cpu.setCr(3, 0x20000);
  b.cpu.setCr(0, 0xe0000011);
  b.cpu.run(100);
  assertEquals(fault(b.env), [14, 9, 0x400010]);
});

Deno.test("x86 paging: INVLPG and MOV CR3 flush; PGE keeps global pages across CR3 writes", () => {
  const body = `
    mov eax, [0x300000]     ; fill the TLB (old mapping: page 0x300)
    out 0x80, eax
    mov dword [0x21000 + 0x300*4], 0x310007   ; remap to page 0x310 without flushing
    mov eax, [0x300000]
    out 0x80, eax           ; stale TLB entry: still the old value
    mov eax, cr3
    mov cr3, eax
    mov eax, [0x300000]
    out 0x80, eax           ; global page survives CR3 (PGE) / flushed without PGE
    invlpg [0x300000]
    mov eax, [0x300000]
    out 0x80, eax
    hlt`;
  for (const pge of [0, 1]) {
    const { env, cpu } = machine("pentium4-xeon", body);
    twoLevel(cpu, env, pge ? 0x80 : 0);
    env.bus.memory.write32(0x21000 + 0x300 * 4, 0x300107); // global
    env.bus.memory.write32(0x300000, 0xaaaa);
    env.bus.memory.write32(0x310000, 0xbbbb);
    cpu.run(100);
    assertEquals(port(env, 0x80), [0xaaaa, 0xaaaa, pge ? 0xaaaa : 0xbbbb, 0xbbbb]);
  }
});

Deno.test("x86 paging: PAE PDPTE with reserved bits -> #GP(0) on MOV CR3", () => {
  const { env, cpu } = machine(
    "pentium4-xeon",
    `
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov eax, 0x30000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax          ; loads the PDPTEs: the second has reserved bit 1 set
    hlt`,
  );
  env.bus.memory.write32(0x30000, 0x31001);
  env.bus.memory.write32(0x30008, 0x32003);
  env.bus.memory.write32(0x31000, 0x83);
  cpu.run(100);
  assertEquals(fault(env)[0], 13);
  assertEquals(cpu.getCr(0) & 0x80000000n, 0n);
});

Deno.test("x86 paging: 4-level #PF error codes (not present, user, write) and CR2 in long mode", () => {
  const { env, cpu } = machine("opteron", "mov rax, 0x40000000\nmov byte [rax+5], 1\nhlt", 64);
  cpu.run(100);
  assertEquals(fault(env), [14, 2, 0x40000005]); // not present (PDPT entry 1), write
  // Non-canonical address: #GP(0).
  const b = machine("opteron", "mov rax, 0x0000900000000000\nmov eax, [rax]\nhlt", 64);
  b.cpu.run(100);
  assertEquals(fault(b.env).slice(0, 2), [13, 0]);
});

Deno.test("x86 long mode: 64-bit IDT delivery, IRETQ and an RSP-aligned frame", () => {
  const env = createTestEnv();
  const cpu = createX86Cpu(env, { model: "xeon-nocona" });
  enterLong64(cpu, env);
  const prog = assemble(
    `bits 64
    mov rsp, 0x7008          ; misaligned: the CPU aligns the frame to 16
    mov rbx, rsp
    sti
    hlt
    cli
    mov rax, rsp
    out 0x80, eax
    hlt
handler:
    mov rax, [rsp+24]        ; saved RSP
    out 0x84, eax
    mov rax, rsp
    out 0x88, eax
    iretq`,
    { bits: 64, org: 0x1000 },
  );
  env.bus.memory.writeBytes(0x1000, prog.bytes);
  const off = Number(prog.labels.get("handler")!);
  env.bus.memory.write16(0x8000 + 0x40 * 16, off);
  env.bus.memory.write16(0x8000 + 0x40 * 16 + 2, 8);
  env.bus.memory.write16(0x8000 + 0x40 * 16 + 4, 0x8e00);
  cpu.setIdtr({ base: 0x8000, limit: 4095 });
  cpu.setRip(0x1000);
  cpu.run(100);
  assertEquals(cpu.runState, "halted");
  env.vectors.push(0x40);
  cpu.setIntr(true);
  cpu.run(1);
  cpu.setIntr(false);
  cpu.run(100);
  assertEquals(port(env, 0x84), [0x7008]);
  assertEquals(port(env, 0x88), [0x7000 - 40]); // SS, RSP, RFLAGS, CS, RIP below 0x7000
  assertEquals(port(env, 0x80), [0x7008]);
});
