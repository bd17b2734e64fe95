import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { createX86Cpu, type X86Cpu, x86CpuFactory } from "./cpu.ts";
import { createTestEnv, enterFlat32, enterLong64, type TestEnv } from "./test_env.ts";
import { assemble } from "./asm.ts";

/** Assemble `src` (starting in 16-bit real mode at 0x7c00) and start a CPU there. */
function boot(model: string, src: string, env: TestEnv = createTestEnv()) {
  const prog = assemble(src, { bits: 16, org: 0x7c00 });
  env.bus.memory.writeBytes(0x7c00, prog.bytes);
  const cpu = createX86Cpu(env, { model });
  cpu.setSegment("cs", { selector: 0, base: 0, limit: 0xffff, attributes: 0x9b });
  cpu.setRip(0x7c00);
  return { env, cpu, labels: prog.labels };
}

const outs = (env: TestEnv, port = 0x80) =>
  env.outs.filter(([p]) => p === port).map(([, , v]) => v);

/** GDT: null, 32-bit code 0x08, data 0x10, 64-bit code 0x18, 32-bit code 0x20, 16-bit code 0x28. */
const GDT = `
align 8
gdt: dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
  dq 0x00af9a000000ffff
  dq 0x00cf9a000000ffff
  dq 0x00009a000000ffff
gdt_end:
gdtr: dw gdt_end - gdt - 1
  dd gdt
`;

const TO_PM32 = `
bits 16
org 0x7c00
  cli
  lgdt [gdtr]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp 0x08:pm32
bits 32
pm32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x9000
`;

Deno.test("x86: reset state per hardware.md 5.4", () => {
  const env = createTestEnv();
  const cpu = createX86Cpu(env, { model: "xeon-nocona" });
  const s = cpu.snapshot();
  assertEquals(s.mode, "real");
  assertEquals(String(s.edx), "0x00000f41");
  assertEquals(String(s.eip), "0x0000fff0");
  assertEquals(String(s.cr0), "0x60000010");
  assertEquals(String(s.eflags), "0x00000002");
  assertEquals(cpu.getSegment("cs"), {
    selector: 0xf000,
    base: 0xffff0000,
    limit: 0xffff,
    attributes: 0x9b,
  });
  assertEquals(cpu.readMsr(0x1b), 0xfee00900n);
  assertEquals(cpu.runState, "running");
  const ap = createX86Cpu(createTestEnv({ index: 1, shareWith: env }), { model: "xeon-nocona" });
  assertEquals(ap.runState, "wait-for-sipi");
  assertEquals(ap.readMsr(0x1b), 0xfee00800n);
  assertEquals(ap.run(100), 0);
  assertEquals(ap.lastStop, "wait-for-sipi");
});

Deno.test("x86: reset vector fetch from the top of 4 GiB", () => {
  const env = createTestEnv();
  const prog = assemble("bits 16\nmov al, 0x5a\nout 0x80, al\nhlt", { bits: 16 });
  env.bus.memory.writeBytes(0xfffffff0, prog.bytes);
  const cpu = createX86Cpu(env, { model: "i386" });
  assertEquals(cpu.run(10), 3);
  assertEquals(outs(env), [0x5a]);
  assertEquals(cpu.runState, "stopped");
});

for (const model of ["xeon-nocona", "opteron"]) {
  Deno.test(`x86 ${model}: real -> protected -> long -> compat -> 32-bit paging off`, () => {
    const { env, cpu } = boot(
      model,
      TO_PM32 + `
  mov edi, 0x10000
  xor eax, eax
  mov ecx, 3*1024
  rep stosd
  mov dword [0x10000], 0x11003
  mov dword [0x11000], 0x12003
  mov dword [0x12000], 0x000083
  mov eax, cr4
  or eax, 0x20
  mov cr4, eax
  mov eax, 0x10000
  mov cr3, eax
  mov ecx, 0xC0000080
  rdmsr
  or eax, 0x100
  wrmsr
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  jmp 0x18:lm64
bits 64
lm64:
  mov rax, 0x123456789abcdef0
  mov [rel saved], rax
  mov rbx, [rel saved]
  mov rcx, rbx
  shr rcx, 32
  mov eax, ecx
  out 0x80, eax
  lea rcx, [rel compat]
  push 0x20
  push rcx
  retfq
bits 32
compat:
  mov eax, cr0
  and eax, 0x7fffffff
  mov cr0, eax
  mov ecx, 0xC0000080
  rdmsr
  and eax, ~0x100
  wrmsr
  mov eax, 0x55
  out 0x80, eax
  hlt
align 8
saved: dq 0
` + GDT,
    );
    const modes: string[] = [];
    for (let i = 0; i < 200 && cpu.runState === "running"; i++) {
      cpu.run(1);
      const m = cpu.snapshot().mode as string;
      if (modes[modes.length - 1] !== m) modes.push(m);
    }
    // CR0.PG with EFER.LME activates long mode in compatibility mode (CS still 32-bit) until
    // the far jump loads a 64-bit code segment.
    assertEquals(modes, [
      "real",
      "protected16",
      "protected32",
      "compat",
      "long64",
      "compat",
      "protected32",
    ]);
    assertEquals(outs(env), [0x12345678, 0x55]);
    assertEquals(cpu.runState, "stopped");
    assertEquals(cpu.getGpr(3), 0x123456789abcdef0n);
    assertEquals(cpu.getEfer(), 0n);
    assertEquals(cpu.getCr(0), 0x60000011n);
  });
}

Deno.test("x86: 386 raises #UD on MOV CR4 (trace names the bytes), pentium executes it", () => {
  const src = `
bits 16
org 0x7c00
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [6*4], ud_handler
  mov word [6*4+2], 0
bad:
  mov eax, cr4
  mov al, 1
  out 0x80, al
  hlt
ud_handler:
  mov al, 6
  out 0x80, al
  hlt
`;
  const a = boot("i386", src);
  a.cpu.run(100);
  assertEquals(outs(a.env), [6]);
  const ev = a.env.trace.all().find((e) =>
    e.category === "exception" && e.message.startsWith("#UD")
  );
  assertEquals(a.labels.get("bad"), 0x7c15n);
  assertEquals(ev?.message, "#UD at 0x00007c15: 0f 20 e0 (not on i386)");
  const b = boot("pentium", src);
  b.cpu.run(100);
  assertEquals(outs(b.env), [1]);
  // With a disassembler the message names the instruction.
  const env = createTestEnv();
  const prog = assemble(src, { bits: 16, org: 0x7c00 });
  env.bus.memory.writeBytes(0x7c00, prog.bytes);
  const c = createX86Cpu(env, {
    model: "i386",
    disassemble: (bytes, _addr, bits) => `mov eax, cr4 [${bytes.length} bytes, ${bits}-bit]`,
  });
  c.setSegment("cs", { selector: 0, base: 0, limit: 0xffff, attributes: 0x9b });
  c.setRip(0x7c00);
  c.run(100);
  assert(
    env.trace.all().some((e) =>
      e.message === "#UD at 0x00007c15: mov eax, cr4 [3 bytes, 16-bit] (not on i386)"
    ),
  );
});

Deno.test("x86: model gates (386 CPUID/BSWAP/INVLPG/WBINVD/XADD/CMPXCHG/RDTSC; 486 RDMSR)", () => {
  const cases: [string, string, boolean][] = [
    ["i386", "cpuid", false],
    ["i386", "bswap eax", false],
    ["i386", "invlpg [0]", false],
    ["i386", "wbinvd", false],
    ["i386", "xadd eax, ebx", false],
    ["i386", "cmpxchg ebx, ecx", false],
    ["i386", "rdtsc", false],
    ["i486", "bswap eax", true],
    ["i486", "wbinvd", true],
    ["i486", "rdmsr", false],
    ["i486", "cpuid", false],
    ["pentium", "cpuid", true],
    ["pentium", "rdtsc", true],
    ["pentium", "cmovz eax, ebx", false],
    ["pentium4-xeon", "cmovz eax, ebx", true],
  ];
  for (const [model, insn, okExpected] of cases) {
    const { env, cpu } = boot(
      model,
      `bits 16\norg 0x7c00\nxor ax, ax\nmov ds, ax\nmov ss, ax\nmov sp, 0x7000\n` +
        `mov word [6*4], ud\nmov word [6*4+2], 0\nxor eax, eax\n${insn}\nmov al, 1\nout 0x80, al\nhlt\n` +
        `ud: mov al, 6\nout 0x80, al\nhlt\n`,
    );
    cpu.run(100);
    assertEquals(outs(env), [okExpected ? 1 : 6], `${model}: ${insn}`);
  }
});

/** 32-bit helpers: set_gate (eax = handler, ebx = vector), the IDT and its IDTR. */
const IDT32 = `
set_gate:
  mov [idt+ebx*8], ax
  mov word [idt+ebx*8+2], 0x08
  mov word [idt+ebx*8+4], 0x8e00
  shr eax, 16
  mov [idt+ebx*8+6], ax
  ret
align 8
idtr: dw 256*8-1
  dd idt
align 8
idt: times 256 dq 0
`;

/** Page-fault handler: out 0x84 <- error code, out 0x88 <- CR2, then stop. */
const PF_HANDLER = `
pf_handler:
  pop eax
  out 0x84, eax
  mov eax, cr2
  out 0x88, eax
  cli
  hlt
`;

const PAE_RSVD = TO_PM32 + `
  lidt [idtr]
  mov eax, pf_handler
  mov ebx, 14
  call set_gate
  mov edi, 0x20000
  xor eax, eax
  mov ecx, 3*1024
  rep stosd
  mov dword [0x20000], 0x21001
  mov dword [0x21000], 0x000083
  mov dword [0x21008], 0x22003
  mov dword [0x22000], 0x00300003
  mov dword [0x22004], 0x20        ; physical bit 37
  mov eax, cr4
  or eax, 0x20
  mov cr4, eax
  mov eax, 0x20000
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  mov eax, [0x200000]
  out 0x80, eax
  hlt
` + PF_HANDLER + IDT32 + GDT;

Deno.test("x86: PTE with physical bit 37: RSVD #PF on xeon-nocona (36 bits), not on opteron (40)", () => {
  const a = boot("xeon-nocona", PAE_RSVD);
  a.cpu.run(1000);
  assertEquals(outs(a.env, 0x84), [0x9]); // P | RSVD, supervisor read
  assertEquals(outs(a.env, 0x88), [0x200000]);
  const b = boot("opteron", PAE_RSVD);
  b.cpu.run(1000);
  assertEquals(outs(b.env, 0x84), []);
  assertEquals(outs(b.env), [0xffffffff]); // physical 0x2000300000: nothing there, all ones
});

Deno.test("x86: XD bit is reserved without NXE; EFER.NXE and LME #GP on pentium4-xeon", () => {
  // XD (bit 63) with NXE=0 -> RSVD page fault on a PAE model.
  const src = PAE_RSVD.replace(
    "mov dword [0x22004], 0x20        ; physical bit 37",
    "mov dword [0x22004], 0x80000000",
  );
  const a = boot("pentium4-xeon", src);
  a.cpu.run(1000);
  assertEquals(outs(a.env, 0x84), [0x9]);
  // WRMSR EFER does not exist on the 32-bit Xeon: #GP.
  const b = boot(
    "pentium4-xeon",
    TO_PM32 + `
  lidt [idtr]
  mov eax, gp_handler
  mov ebx, 13
  call set_gate
  mov ecx, 0xC0000080
  xor edx, edx
  mov eax, 0x100
  wrmsr
  mov al, 1
  out 0x80, al
  hlt
gp_handler:
  pop eax
  out 0x84, eax
  mov al, 13
  out 0x80, al
  hlt
` + IDT32 + GDT,
  );
  b.cpu.run(1000);
  assertEquals(outs(b.env), [13]);
  assertEquals(outs(b.env, 0x84), [0]);
  throws(() => b.cpu.writeMsr(0xc0000080, 0x800n), RangeError);
  // A 32-bit-only model with EFER (none here) aside, xeon-nocona accepts LME and NXE.
  const c = createX86Cpu(createTestEnv(), { model: "xeon-nocona" });
  c.writeMsr(0xc0000080, 0x900n);
  assertEquals(c.readMsr(0xc0000080), 0x900n);
  throws(() => c.writeMsr(0xc0000080, 0x1000n), RangeError); // SVME is AMD-only
});

Deno.test("x86: NX page fault with I/D on xeon-nocona when EFER.NXE=1", () => {
  const src = PAE_RSVD
    .replace(
      "mov dword [0x22004], 0x20        ; physical bit 37",
      "mov dword [0x22004], 0x80000000",
    )
    .replace(
      "mov dword [0x22000], 0x00300003",
      "mov dword [0x22000], 0x00300003\n  mov ecx, 0xC0000080\n  rdmsr\n  or eax, 0x800\n  wrmsr",
    )
    .replace(
      "mov eax, [0x200000]\n  out 0x80, eax",
      "mov eax, [0x200000]\n  out 0x80, eax\n  call 0x200000",
    );
  const a = boot("xeon-nocona", src);
  a.env.bus.memory.write32(0x300000, 0x11223344);
  a.cpu.run(1000);
  assertEquals(outs(a.env), [0x11223344]); // readable
  assertEquals(outs(a.env, 0x84), [0x11]); // P | I/D: instruction fetch from an XD page
  assertEquals(outs(a.env, 0x88), [0x200000]);
});

Deno.test("x86: triple fault -> shutdown with the fault chain", () => {
  const { cpu, env } = boot(
    "pentium",
    TO_PM32 + `
  lidt [bad_idtr]
  xor ecx, ecx
  div ecx
  hlt
bad_idtr: dw 0
  dd 0
` + GDT,
  );
  cpu.run(1000);
  assertEquals(cpu.runState, "shutdown");
  const s = cpu.snapshot();
  assert(
    String(s.shutdown_reason).startsWith("triple fault: #DE at 0008:"),
    String(s.shutdown_reason),
  );
  assert(String(s.shutdown_reason).includes("#DF"));
  assertEquals(cpu.run(10), 0);
  assertEquals(cpu.lastStop, "shutdown");
  assert(env.trace.all().some((e) => e.message.startsWith("shutdown: triple fault")));
});

const IVT_PROG = `
bits 16
org 0x7c00
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [0x20*4], irq
  mov word [0x20*4+2], 0
  mov ax, 0
  sti
  mov ax, 1
  mov ax, 2
  hlt
  mov ax, 3
  out 0x82, ax
  cli
  hlt
irq:
  out 0x80, ax
  iret
`;

Deno.test("x86: IVT delivery honours IF and the one-instruction STI shadow", () => {
  const { cpu, env } = boot("i386", IVT_PROG);
  env.vectors.push(0x20);
  cpu.setIntr(true); // raised from the start, while IF=0
  for (let i = 0; i < 100 && outs(env).length === 0; i++) cpu.run(1);
  cpu.setIntr(false);
  cpu.run(100);
  assertEquals(outs(env), [1]); // taken after the instruction following STI
  assertEquals(cpu.runState, "halted");
  assertEquals(cpu.getGpr(0) & 0xffffn, 2n);
});

Deno.test("x86: HLT wakes on an interrupt; NMI wakes a stopped CPU and is blocked until IRET", () => {
  const { cpu, env } = boot(
    "pentium",
    `
bits 16
org 0x7c00
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [0x20*4], irq
  mov word [0x20*4+2], 0
  mov word [2*4], nmi
  mov word [2*4+2], 0
  sti
again:
  hlt
  jmp again
irq:
  mov al, 0x20
  out 0x80, al
  iret
nmi:
  mov al, 2
  out 0x80, al
  cli
  hlt
`,
  );
  cpu.run(100);
  assertEquals(cpu.runState, "halted");
  assertEquals(cpu.run(100), 0);
  env.vectors.push(0x20);
  cpu.setIntr(true);
  cpu.run(4); // delivery + handler (3 instructions)
  cpu.setIntr(false);
  cpu.run(100);
  assertEquals(outs(env), [0x20]);
  assertEquals(cpu.runState, "halted");
  cpu.nmi();
  cpu.run(100);
  assertEquals(outs(env), [0x20, 2]);
  assertEquals(cpu.runState, "stopped");
  assertEquals(cpu.lastStop, "stopped");
  cpu.nmi(); // blocked: no IRET since the first NMI
  assertEquals(cpu.run(100), 0);
  assertEquals(outs(env), [0x20, 2]);
});

Deno.test("x86: 32-bit IDT delivery and IRETD", () => {
  const { cpu, env } = boot(
    "pentium",
    TO_PM32 + `
  lidt [idtr]
  mov eax, handler
  mov ebx, 0x30
  call set_gate
  mov eax, bp_handler
  mov ebx, 3
  call set_gate
  mov ecx, 5
  sti
wait_loop:
  hlt
  loop wait_loop
  int3
  int 0x30
  mov eax, [count]
  out 0x80, eax
  cli
  hlt
handler:
  inc dword [count]
  iretd
bp_handler:
  add dword [count], 100
  iretd
count: dd 0
` + IDT32 + GDT,
  );
  for (let i = 0; i < 5; i++) {
    cpu.run(1000);
    assertEquals(cpu.runState, "halted");
    env.vectors.push(0x30);
    cpu.setIntr(true);
    cpu.run(1);
    cpu.setIntr(false);
  }
  cpu.run(1000);
  assertEquals(outs(env), [106]);
});

Deno.test("x86: INIT puts an AP in wait-for-sipi; SIPI starts it at vector << 12", () => {
  const bsp = createTestEnv();
  const apEnv = createTestEnv({ index: 1, shareWith: bsp });
  const { factory } = x86CpuFactory("pentium4-xeon");
  const ap = factory(apEnv) as X86Cpu;
  const code = assemble("bits 16\nmov al, 0x42\nout 0x80, al\ncli\nhlt", { bits: 16 });
  bsp.bus.memory.writeBytes(0x9000, code.bytes);
  assertEquals(ap.runState, "wait-for-sipi");
  ap.sipi(0x09);
  assertEquals(ap.getSegment("cs").selector, 0x0900);
  ap.run(100);
  assertEquals(outs(bsp), [0x42]);
  assertEquals(ap.runState, "stopped");
  ap.sipi(0x09); // ignored unless waiting for SIPI
  assertEquals(ap.run(100), 0);
  ap.init();
  assertEquals(ap.runState, "wait-for-sipi");
  assertEquals(ap.snapshot().mode, "real");
  ap.sipi(0x09);
  ap.run(100);
  assertEquals(outs(bsp), [0x42, 0x42]);
});

Deno.test("x86: self-modifying code is seen immediately (decode cache invalidation)", () => {
  const { cpu, env } = boot(
    "pentium",
    `
bits 16
org 0x7c00
  xor ax, ax
  mov ds, ax
  mov cx, 3
again:
patch:
  mov al, 5
  out 0x80, al
  inc byte [patch+1]
  loop again
  hlt
`,
  );
  cpu.run(100);
  assertEquals(outs(env), [5, 6, 7]);
  // The kernel-model path: a bulk write over cached code is seen too.
  env.bus.memory.write8(cpu.getRip() === 0n ? 0 : 0x7c00 + 8, 0x90);
});

Deno.test("x86: REP MOVSD across a not-present page faults with exact ECX/ESI/EDI", () => {
  const { cpu, env } = boot(
    "pentium",
    TO_PM32 + `
  lidt [idtr]
  mov eax, pf_handler2
  mov ebx, 14
  call set_gate
  ; 2-level paging: identity map 0-4 MiB except page 0x101000
  mov edi, 0x20000
  mov eax, 0x3
  mov ecx, 1024
fill:
  stosd
  add eax, 0x1000
  loop fill
  mov dword [0x20000 + 0x101*4], 0
  mov dword [0x30000], 0x20003
  mov eax, 0x30000
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  cld
  mov esi, 0x100000
  mov edi, 0x200000
  mov ecx, 2048
  rep movsd
  hlt
pf_handler2:
  pop eax
  out 0x84, eax
  mov eax, ecx
  out 0x80, eax
  mov eax, esi
  out 0x80, eax
  mov eax, edi
  out 0x80, eax
  cli
  hlt
` + IDT32 + GDT,
  );
  for (let i = 0; i < 1024; i++) env.bus.memory.write32(0x100000 + i * 4, i * 3 + 1);
  cpu.run(100000);
  assertEquals(outs(env, 0x84), [0]); // not present, read, supervisor
  assertEquals(outs(env), [1024, 0x101000, 0x201000]);
  assertEquals(env.bus.memory.read32(0x200000 + 4 * 1023), 1023 * 3 + 1);
  assertEquals(env.bus.memory.read32(0x201000), 0);
});

Deno.test("x86: REP MOVSB/STOSD bulk paths keep element semantics (overlap, DF=1)", () => {
  const { cpu, env } = boot(
    "pentium",
    TO_PM32 + `
  ; pattern replication: movsb with dst = src + 1 copies the first byte forward
  mov byte [0x100000], 0xab
  mov esi, 0x100000
  mov edi, 0x100001
  mov ecx, 10000
  cld
  rep movsb
  ; backward copy of 3 pages
  std
  mov esi, 0x300000 + 3*4096 - 4
  mov edi, 0x400000 + 3*4096 - 4
  mov ecx, 3*1024
  rep movsd
  cld
  ; stosd of a pattern over 2.5 pages
  mov eax, 0x11223344
  mov edi, 0x500002
  mov ecx, 2560
  rep stosd
  mov eax, esi
  out 0x80, eax
  mov eax, edi
  out 0x80, eax
  hlt
` + GDT,
  );
  for (let i = 0; i < 3 * 1024; i++) env.bus.memory.write32(0x300000 + i * 4, i ^ 0x5a5a);
  cpu.run(100000);
  const m = env.bus.memory;
  assertEquals(m.read8(0x100000 + 9999), 0xab);
  assertEquals(m.read8(0x100000 + 10000), 0xab);
  assertEquals(m.read8(0x100000 + 10001), 0);
  for (const i of [0, 1, 1023, 1024, 2047, 3071]) {
    assertEquals(m.read32(0x400000 + i * 4), i ^ 0x5a5a);
  }
  assertEquals(m.read32(0x500002 + 2559 * 4), 0x11223344);
  assertEquals(m.read32(0x500002 + 2560 * 4), 0);
  assertEquals(outs(env), [0x300000 - 4, 0x500002 + 2560 * 4]);
  assertEquals(cpu.getGpr(1), 0n);
});

function run32(model: string, src: string) {
  const env = createTestEnv();
  const cpu = createX86Cpu(env, { model });
  enterFlat32(cpu, env);
  const prog = assemble("bits 32\n" + src, { bits: 32, org: 0x1000 });
  env.bus.memory.writeBytes(0x1000, prog.bytes);
  cpu.setGpr(4, 0x7000);
  cpu.setRip(0x1000);
  cpu.run(1000);
  return { env, cpu };
}

Deno.test("x86: CPUID vendor, signature, APIC ID, HTT and extended leaves per model", () => {
  const leaf = (model: string, eax: number, apicId?: number) => {
    const env = createTestEnv();
    const cpu = createX86Cpu(env, { model, apicId });
    enterFlat32(cpu, env);
    env.bus.memory.writeBytes(0x1000, assemble("bits 32\ncpuid\nhlt", { bits: 32 }).bytes);
    cpu.setGpr(0, eax);
    cpu.setRip(0x1000);
    cpu.run(10);
    return [0, 3, 1, 2].map((r) => Number(cpu.getGpr(r)));
  };
  const vendor = (r: number[]) =>
    new TextDecoder().decode(new Uint32Array([r[1], r[3], r[2]]).buffer as ArrayBuffer);
  assertEquals(vendor(leaf("pentium", 0)), "GenuineIntel");
  assertEquals(vendor(leaf("opteron", 0)), "AuthenticAMD");
  assertEquals(leaf("pentium", 1)[0], 0x525);
  const p4 = leaf("pentium4-xeon", 1, 7);
  assertEquals(p4[1] >>> 24, 7); // initial APIC ID
  assertEquals((p4[1] >>> 16) & 0xff, 2); // logical processors per package
  assertEquals((p4[3] >>> 28) & 1, 1); // HTT
  assertEquals((leaf("xeon-nocona", 0x80000001)[3] >>> 29) & 1, 1); // LM
  assertEquals((leaf("opteron", 0x80000001)[3] >>> 20) & 1, 1); // NX
  assertEquals(leaf("opteron", 0x80000008)[0] & 0xff, 40);
  assertEquals(leaf("xeon-nocona", 0x80000008)[0] & 0xff, 36);
  assertEquals(leaf("pentium4-xeon", 0x80000001)[3] >>> 29, 0); // no long mode
});

Deno.test("x86: LOCK is #UD on a register destination, accepted on memory RMW", () => {
  const a = run32("pentium", "lock add [0x2000], eax\nmov al, 1\nout 0x80, al\nhlt");
  assertEquals(outs(a.env), [1]);
  const b = run32("pentium", "lock add eax, ebx\nhlt");
  assert(b.env.trace.all().some((e) => e.message.includes("LOCK prefix not allowed")));
});

Deno.test("x86: RDTSC follows the virtual clock; WRMSR TSC sets it", () => {
  const { env, cpu } = run32("pentium", "hlt");
  env.clock.advanceTo(123456);
  assertEquals(cpu.readMsr(0x10), 123456n);
  cpu.writeMsr(0x10, 1000n);
  env.clock.advanceTo(123556);
  assertEquals(cpu.readMsr(0x10), 1100n);
  const r = run32("pentium", "rdtsc\nhlt");
  assertEquals(r.cpu.getGpr(0), 0n);
});

Deno.test("x86: IA32_APIC_BASE writes reach the pins; snapshot fields per model", () => {
  const { env, cpu } = run32(
    "xeon-nocona",
    "mov ecx, 0x1b\nrdmsr\nand eax, ~0x800\nwrmsr\nhlt",
  );
  assertEquals(env.apicBaseWrites.at(-1), 0xfee00100n);
  assertEquals(cpu.readMsr(0x1b), 0xfee00100n);
  const s = cpu.snapshot();
  for (const k of ["rax", "r15", "rip", "eax", "eip", "cr0", "cr3", "efer", "gdtr", "apic_base"]) {
    assert(k in s, k);
  }
  const p = run32("pentium", "hlt").cpu.snapshot();
  assert(!("rax" in p));
  assertEquals(p.mode, "protected32");
  assertEquals((p.cs as { selector: number }).selector, 8);
});

Deno.test("x86: EFLAGS.AC is fixed on a 386, ID toggles only with CPUID", () => {
  const probe = (model: string) => {
    const { cpu } = run32(
      model,
      "pushfd\npop eax\nor eax, 0x240000\npush eax\npopfd\npushfd\npop eax\nhlt",
    );
    return Number(cpu.getGpr(0)) & 0x240000;
  };
  assertEquals(probe("i386"), 0);
  assertEquals(probe("i486"), 0x40000);
  assertEquals(probe("pentium"), 0x240000);
});

Deno.test("x86: REP MOVSD over already-executed code runs the new code", () => {
  const { env, cpu } = run32(
    "pentium",
    `
    call target          ; run the old code once (decoded and cached)
    mov esi, newcode
    mov edi, target
    mov ecx, 4
    cld
    rep movsd
    call target
    hlt
newcode:
    mov al, 2
    out 0x80, al
    ret
    nop
    nop
    nop
    nop
    nop
    nop
    nop
    nop
    nop
align 4096
target:
    mov al, 1
    out 0x80, al
    ret
`,
  );
  cpu.run(100);
  assertEquals(outs(env), [1, 2]);
});

Deno.test("x86: REP STOSD/MOVSD into MMIO go element by element to the device", () => {
  const env = createTestEnv();
  const writes: [number, number, number][] = [];
  env.bus.map(0xfec00000, 0x1000, {
    name: "probe",
    mmioRead: (off) => off,
    mmioWrite: (off, size, value) => {
      writes.push([off, size, Number(value)]);
    },
  });
  const cpu = createX86Cpu(env, { model: "pentium" });
  enterFlat32(cpu, env);
  const prog = assemble(
    "bits 32\ncld\nmov edi, 0xfec00010\nmov eax, 7\nmov ecx, 3\nrep stosd\n" +
      "mov esi, 0xfec00100\nmov edi, 0x2000\nmov ecx, 2\nrep movsd\nhlt",
    { bits: 32, org: 0x1000 },
  );
  env.bus.memory.writeBytes(0x1000, prog.bytes);
  cpu.setRip(0x1000);
  cpu.run(100);
  assertEquals(writes, [[0x10, 4, 7], [0x14, 4, 7], [0x18, 4, 7]]);
  assertEquals([env.bus.memory.read32(0x2000), env.bus.memory.read32(0x2004)], [0x100, 0x104]);
});

Deno.test("x86: MOV SS blocks interrupts for one instruction", () => {
  const { cpu, env } = boot(
    "pentium",
    `
bits 16
org 0x7c00
  xor ax, ax
  mov ds, ax
  mov word [0x20*4], irq
  mov word [0x20*4+2], 0
  mov sp, 0x7000
  sti
  nop
  mov ss, ax
  mov bx, 1
  mov bx, 2
  hlt
irq:
  mov ax, bx
  out 0x80, ax
  iret
`,
  );
  // Run through the MOV SS, then raise INTR: it is taken only after the next instruction.
  cpu.setGpr(3, 0);
  for (let i = 0; i < 8; i++) cpu.run(1);
  env.vectors.push(0x20);
  cpu.setIntr(true);
  for (let i = 0; i < 10 && outs(env).length === 0; i++) cpu.run(1);
  cpu.setIntr(false);
  assertEquals(outs(env), [1]);
});

Deno.test("x86: requestExit from a device callback ends run() at the next boundary", () => {
  const env = createTestEnv();
  const cpu = createX86Cpu(env, { model: "pentium" });
  env.onOut = (port) => {
    if (port === 0x90) cpu.requestExit();
  };
  enterFlat32(cpu, env);
  const prog = assemble("bits 32\nl: inc eax\nout 0x90, al\njmp l", { bits: 32, org: 0x1000 });
  env.bus.memory.writeBytes(0x1000, prog.bytes);
  cpu.setRip(0x1000);
  assertEquals(cpu.run(1000), 2);
  assertEquals(cpu.lastStop, "exit-requested");
  assertEquals(cpu.run(1000), 3);
  assertEquals(cpu.getGpr(0), 2n);
  assertEquals(cpu.run(2), 2); // jmp, inc: the budget ends it before the next OUT
  assertEquals(cpu.lastStop, "budget");
});

Deno.test("x86CpuFactory: model facts for the machine; unknown names suggest the closest", () => {
  const info = (n: string) => x86CpuFactory(n).info;
  assertEquals(info("i386").hasLocalApic, false);
  assertEquals(info("pentium").lapicVersion, 0x00030010);
  assertEquals(info("pentium4-xeon").lapicVersion, 0x00050014);
  assertEquals(info("pentium4-xeon").threadsPerPackage, 2);
  assertEquals(info("xeon-nocona").maxPhysAddr, 36);
  assertEquals(info("xeon-nocona").longMode, true);
  assertEquals(info("opteron").maxPhysAddr, 40);
  assertEquals(info("opteron").apicIdBits, 8);
  throws(
    () => x86CpuFactory("opteorn"),
    (e: Error) => e instanceof RangeError && e.message.includes("did you mean opteron?"),
  );
  throws(
    () => x86CpuFactory("pentium4"),
    (e: Error) => e instanceof RangeError && e.message.includes("pentium4-xeon"),
  );
});

Deno.test("x86: MOV CR0 with PG set keeps CR0 unsigned (64-bit mode and the mode trace)", () => {
  const env = createTestEnv();
  const cpu = createX86Cpu(env, { model: "opteron" });
  enterLong64(cpu, env);
  const prog = assemble("bits 64\nmov rax, cr0\nmov cr0, rax\nhlt\n", { bits: 64, org: 0x1000 });
  env.bus.memory.writeBytes(0x1000, prog.bytes);
  cpu.setRip(0x1000);
  cpu.run(10);
  assertEquals(cpu.getCr(0), 0xe0000011n, "no sign extension into bits 63:32");
  const flat = createTestEnv();
  const c32 = createX86Cpu(flat, { model: "pentium" });
  enterFlat32(c32, flat);
  const pg = assemble(
    "bits 32\nmov eax, 0x3000\nmov cr3, eax\nmov eax, cr0\nor eax, 0x80000000\nmov cr0, eax\nhlt\n",
    { bits: 32, org: 0x1000 },
  );
  flat.bus.memory.writeBytes(0x1000, pg.bytes);
  flat.bus.memory.write32(0x3000, 0x83); // 4 MiB page at 0 (PSE)
  c32.setCr(4, 0x10);
  c32.setRip(0x1000);
  c32.run(10);
  assertEquals(c32.getCr(0), 0xe0000011n);
  const mode = flat.trace.all().find((e) => e.category === "mode" && e.message.startsWith("cr0"));
  assert(mode && !mode.message.includes("0x-"), mode?.message);
});

Deno.test("x86: setCr loads the PAE PDPTEs when paging is already on (CR0.PG set)", () => {
  const env = createTestEnv();
  const cpu = createX86Cpu(env, { model: "pentium4-xeon" });
  enterFlat32(cpu, env);
  const m = env.bus.memory;
  // PDPT at 0x10000 -> page directory at 0x11000 -> 2 MiB page at 0 (PS)
  m.write32(0x10000, 0x11001);
  m.write32(0x11000, 0x83);
  cpu.setCr(4, 0x20);
  cpu.setCr(3, 0x10000);
  cpu.setCr(0, 0xe0000011); // PG and PE set: the PDPTEs must be loaded from CR3 here
  m.writeBytes(
    0x1000,
    assemble("bits 32\nmov eax, [0x2000]\nhlt\n", { bits: 32, org: 0x1000 }).bytes,
  );
  m.write32(0x2000, 0x12345678);
  cpu.setRip(0x1000);
  cpu.run(10);
  assertEquals(cpu.runState, "stopped");
  assertEquals(cpu.getGpr(0) & 0xffffffffn, 0x12345678n, "translated through the loaded PDPTE");
});

Deno.test("x86: ring 3 via IRETD, INT with a TSS stack switch, IRETD back, #GP for IN/OUT at CPL 3", () => {
  const env = createTestEnv();
  const cpu = createX86Cpu(env, { model: "pentium" });
  enterFlat32(cpu, env);
  const prog = assemble(
    `bits 32
start:
  lgdt [gdtr]
  jmp 0x08:reload
reload:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x9000
  lidt [idtr]
  mov ax, 0x28
  ltr ax
  push dword 0x23
  push dword 0x7000
  push dword 0x2
  push dword 0x1b
  push dword user
  iretd
user:
  mov eax, 0x1234
  int 0x80
  out 0x80, al
  hlt
int_handler:
  mov eax, [esp+4]
  out 0x84, eax
  mov eax, [esp+16]
  out 0x84, eax
  mov eax, esp
  out 0x88, eax
  iretd
gp_handler:
  pop eax
  out 0x8c, eax
  mov eax, [esp+4]
  out 0x8c, eax
  cli
  hlt
align 8
gdt: dq 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0x00cffa000000ffff, 0x00cff2000000ffff
tss_desc: dq 0
gdtr: dw 6*8-1
  dd gdt
idtr: dw 256*8-1
  dd idt
align 16
tss: dd 0, 0x8000, 0x10
  times 23 dd 0
align 8
idt: times 256 dq 0
`,
    { bits: 32, org: 0x1000 },
  );
  const m = env.bus.memory;
  m.writeBytes(0x1000, prog.bytes);
  const L = (n: string) => Number(prog.labels.get(n)!);
  const gate = (v: number, handler: number, attr: number) => {
    const e = L("idt") + v * 8;
    m.write16(e, handler & 0xffff);
    m.write16(e + 2, 0x08);
    m.write16(e + 4, attr);
    m.write16(e + 6, handler >>> 16);
  };
  gate(0x80, L("int_handler"), 0xee00); // DPL 3 interrupt gate
  gate(13, L("gp_handler"), 0x8e00);
  const tss = L("tss");
  const d = L("tss_desc");
  m.write16(d, 0x67);
  m.write16(d + 2, tss & 0xffff);
  m.write8(d + 4, (tss >>> 16) & 0xff);
  m.write8(d + 5, 0x89); // present, 32-bit TSS (available)
  m.write8(d + 6, 0);
  m.write8(d + 7, tss >>> 24);
  cpu.setRip(0x1000);
  cpu.run(200);
  assertEquals(outs(env, 0x84), [0x1b, 0x23]); // interrupted at CPL 3: saved CS and SS
  assertEquals(outs(env, 0x88), [0x8000 - 20]); // ESP0 from the TSS, 5 dwords pushed
  assertEquals(outs(env, 0x8c), [0, 0x1b]); // OUT at CPL 3 > IOPL: #GP(0) from user code
  assertEquals(outs(env), []);
  assertEquals(m.read8(d + 5), 0x8b); // LTR marked the TSS busy
  assertEquals(cpu.getGpr(0) & 0xffffn, 0x1bn);
});
