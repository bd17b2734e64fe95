// The purgatory on a CPU: kexec-tools' model places the segments, the kernel model loads them
// with kexec_load and reboots into the relocation stub (real machine code), the stub jumps to
// purgatory, and purgatory (our nasm source) verifies the checksum, loads the registers the
// loader chose and jumps to the new kernel. The new kernel here is a HLT, so the CPU state at
// the kernel's entry can be read back register by register (reference images.md §3.2, §8.2).
//
// kernel/image never imports arch/ or hw/; this test does, to run the code.
import assert from "node:assert/strict";
import { assemble } from "../../arch/x86/asm.ts";
import { type X86Cpu, x86CpuFactory } from "../../arch/x86/cpu.ts";
import { createX86KexecArch } from "../../arch/x86/kexec_port.ts";
import { buildMachine, type MachineConfig } from "../../hw/platforms.ts";
import { KernelModel } from "../model.ts";
import { buildBzImage } from "./bzimage.ts";
import { buildElf, EM_386 } from "./elf.ts";
import {
  type KexecToolsOptions,
  type KexecToolsResult,
  loadWithKexecTools,
} from "./kexec_tools.ts";
import type { MemoryMapEntry } from "./kexec_tools_memory.ts";
import { buildPurgatory } from "./purgatory.ts";

interface RunSpec {
  board: string;
  model: string;
  memory?: bigint;
  arch: "i386" | "x86_64";
  version?: "2.6.8.1-kexec3" | "2.6.13";
  image: Uint8Array;
  loader: Omit<KexecToolsOptions, "memoryMap">;
  /** Change segment bytes after kexec-tools computed the checksum (before kexec_load). */
  corrupt?: (r: KexecToolsResult) => void;
  maxInstructions?: number;
}

function memoryMapOf(m: ReturnType<typeof buildMachine>): MemoryMapEntry[] {
  return m.memoryMap.entries.map((e) => ({
    base: BigInt(e.base),
    size: BigInt(e.size),
    type: e.type,
  }));
}

/** Boot the old kernel, load with kexec-tools' model, kexec, run until the CPU stops. */
function kexecRun(spec: RunSpec) {
  const config: MachineConfig = {
    board: spec.board,
    cpu: { model: spec.model, count: 1 },
    ...(spec.memory ? { memory: spec.memory } : {}),
  };
  const m = buildMachine(config, { cpu: x86CpuFactory(spec.model) });
  const kernel = new KernelModel(m, {
    version: spec.version ?? "2.6.13",
    arch: createX86KexecArch(m, { arch: spec.arch }),
  });
  kernel.boot();
  const r = loadWithKexecTools(spec.image, { memoryMap: memoryMapOf(m), ...spec.loader });
  spec.corrupt?.(r);
  const load = kernel.kexecLoad({
    entry: r.entry,
    flags: r.flags,
    caller: spec.arch === "x86_64" ? 64 : 32,
    segments: r.segments.map((s) => ({ buf: s.buf, bufsz: s.bufsz, mem: s.mem, memsz: s.memsz })),
  });
  assert.equal(load.errno, 0, load.reason);
  assert.equal(kernel.reboot({ cmd: "kexec" }).errno, 0);
  const run = m.run({ until: "halt", maxInstructions: spec.maxInstructions ?? 3_000_000 });
  return { m, r, run, cpu: m.cpus[0] as X86Cpu };
}

const u32 = (x: bigint) => x & 0xffffffffn;

/** A 32-bit kernel at a fixed address: HLT first, then a body the checksum covers. */
function kernel32(load: number): Uint8Array {
  const { bytes } = assemble(`bits 32\norg ${load}\nhlt\njmp $-1\ntimes 0x1800 db 0x5a\n`, {
    bits: 32,
    org: load,
  });
  return bytes;
}

function bzImage32(options: { relocatable?: boolean; setupCode?: Uint8Array } = {}): Uint8Array {
  return buildBzImage({
    version: 0x0206,
    payload: kernel32(0x100000),
    relocatableKernel: options.relocatable ? 1 : 0,
    setupCode: options.setupCode,
  });
}

function assertBootSegments(cpu: X86Cpu) {
  assert.equal(cpu.getSegment("cs").selector, 0x10, "CS = __BOOT_CS");
  for (const s of ["ds", "es", "ss", "fs", "gs"] as const) {
    assert.equal(cpu.getSegment(s).selector, 0x18, `${s} = __BOOT_DS`);
  }
}

for (const version of ["2.6.8.1-kexec3", "2.6.13"] as const) {
  Deno.test(`purgatory 32-bit (${version}): checksum passes, ESI = zero page, CS 0x10 / DS 0x18, kernel entered`, () => {
    const { m, r, run, cpu } = kexecRun({
      board: "pc-imcr",
      model: "pentium",
      arch: "i386",
      version,
      image: bzImage32(),
      loader: { build: "i386", commandLine: "console=ttyS0" },
    });
    assert.equal(run.reason, "halted");
    assert.equal(r.kernel, 0x100000n);
    assert.equal(cpu.getRip(), 0x100001n, "halted on the kernel's first instruction");
    const e = r.registers.entry32!;
    assert.equal(u32(cpu.getGpr(6)), r.parameters, "ESI = boot_params");
    assert.equal(u32(cpu.getGpr(4)), e.esp, "ESP = purgatory stack_end");
    const p = buildPurgatory({ bits: 32 });
    assert.equal(e.esp, r.purgatory! + BigInt(p.symbols.stack_end!));
    for (const i of [0, 1, 2, 3, 5, 7]) assert.equal(u32(cpu.getGpr(i)), 0n, `gpr ${i} = 0`);
    assertBootSegments(cpu);
    assert.equal(cpu.getCr(0) & 0x80000001n, 1n, "protected mode, paging off");
    assert.equal(cpu.getFlags() & 0x200, 0, "interrupts off");
    assert.equal(m.console, "", "no checksum mismatch message");
    // the zero page is where ESI points: the command line is reachable through cmd_line_ptr
    const zp = Number(r.parameters);
    const cmdPtr = m.memory.read32(zp + 0x228);
    assert.equal(new TextDecoder().decode(m.memory.readBytes(cmdPtr, 13)), "console=ttyS0");
    assert.equal(m.memory.read8(zp + 0x210), 0xd0, "type_of_loader = kexec-tools");
  });
}

Deno.test("purgatory 32-bit: a segment changed after the checksum was computed stops in purgatory", () => {
  for (const label of ["kernel", "setup"]) {
    const { m, r, run, cpu } = kexecRun({
      board: "pc-imcr",
      model: "pentium",
      arch: "i386",
      image: bzImage32(),
      loader: { build: "i386" },
      corrupt: (res) => {
        const s = res.segments.find((g) => (g.label ?? "").startsWith(label))!;
        s.buf = s.buf.slice();
        s.buf[0x100] ^= 0x01;
      },
    });
    assert.equal(run.reason, "halted", label);
    assert.equal(m.console, "purgatory: checksum mismatch\n", label);
    const rip = cpu.getRip();
    assert.ok(
      rip >= r.purgatory! && rip < r.purgatory! + 0x2000n,
      `${label}: stopped inside purgatory (rip 0x${rip.toString(16)})`,
    );
    assert.equal(cpu.getFlags() & 0x200, 0, "halted with interrupts off: stays there");
  }
});

Deno.test("purgatory 32-bit: -i (no checks) boots the corrupted image", () => {
  const { m, run, cpu } = kexecRun({
    board: "pc-imcr",
    model: "pentium",
    arch: "i386",
    image: bzImage32(),
    loader: { build: "i386", noChecks: true },
    corrupt: (res) => {
      const s = res.segments.find((g) => g.label === "kernel")!;
      s.buf = s.buf.slice();
      s.buf[0x100] ^= 0x01;
    },
  });
  assert.equal(run.reason, "halted");
  assert.equal(m.console, "");
  assert.equal(cpu.getRip(), 0x100001n);
});

Deno.test("purgatory: the checksum covers the zero-filled tail (memsz > bufsz)", () => {
  // An ELF PT_LOAD with bss: the kernel zero-fills it, purgatory sums the zeros; a stray byte
  // in the bss (written after the kernel cleared it would be a bug) must be caught.
  const code = assemble("bits 32\norg 0x200000\nhlt\n", { bits: 32, org: 0x200000 }).bytes;
  const elf = buildElf({
    elfClass: 32,
    endian: "little",
    machine: EM_386,
    entry: 0x200000n,
    segments: [{ paddr: 0x200000n, data: code, memsz: 0x3000n }],
  });
  const ok = kexecRun({
    board: "pc-imcr",
    model: "pentium",
    arch: "i386",
    image: elf,
    loader: { build: "i386", args: "linux" },
  });
  assert.equal(ok.run.reason, "halted");
  assert.equal(ok.cpu.getRip(), 0x200001n);
  assert.equal(ok.m.console, "");
});

Deno.test("purgatory 32-bit on a 386: no CR4 access; the clear_cr4 (1.95) purgatory triple-faults", () => {
  const good = kexecRun({
    board: "pc-legacy",
    model: "i386",
    arch: "i386",
    image: bzImage32(),
    loader: { build: "i386" },
  });
  assert.equal(good.run.reason, "halted");
  assert.equal(good.cpu.getRip(), 0x100001n);
  const bad = kexecRun({
    board: "pc-legacy",
    model: "i386",
    arch: "i386",
    image: bzImage32(),
    loader: { build: "i386", clearCr4: true },
  });
  // #UD on mov cr4 -> IDT limit 0 -> #GP -> #DF -> shutdown; the machine's halt condition
  // includes a stopped BSP.
  assert.equal(bad.cpu.runState, "shutdown");
  assert.ok(
    bad.cpu.getRip() >= bad.r.purgatory! && bad.cpu.getRip() < bad.r.purgatory! + 0x100n,
    "faulted at purgatory's first instructions",
  );
  // the same clear_cr4 purgatory is harmless on a CPU that has CR4
  const p5 = kexecRun({
    board: "pc-imcr",
    model: "pentium",
    arch: "i386",
    image: bzImage32(),
    loader: { build: "i386", clearCr4: true },
  });
  assert.equal(p5.run.reason, "halted");
  assert.equal(p5.cpu.getRip(), 0x100001n);
  assert.equal(p5.cpu.getCr(4), 0n);
});

Deno.test("purgatory 32-bit: ELF --args-elf (cdecl frame: [esp] = 0, [esp+4] = boot notes) and --args-linux (ESI)", () => {
  const code = assemble("bits 32\norg 0x100000\nhlt\n", { bits: 32, org: 0x100000 }).bytes;
  const elf = buildElf({
    elfClass: 32,
    endian: "little",
    machine: EM_386,
    entry: 0x100000n,
    segments: [{ paddr: 0x100000n, data: code }],
  });
  const a = kexecRun({
    board: "pc-imcr",
    model: "pentium",
    arch: "i386",
    image: elf,
    loader: { build: "i386", args: "elf", commandLine: "root=/dev/hda1" },
  });
  assert.equal(a.run.reason, "halted");
  assert.equal(a.cpu.getRip(), 0x100001n);
  const esp = Number(u32(a.cpu.getGpr(4)));
  assert.equal(a.m.memory.read32(esp), 0, "return address 0");
  const notes = a.m.memory.read32(esp + 4);
  assert.equal(BigInt(notes), a.r.parameters);
  assert.equal(a.m.memory.read32(notes), 0x0e1fb007, "ELF boot notes signature");
  assert.equal(
    new TextDecoder().decode(a.m.memory.readBytes(notes + 0x40, 14)),
    "root=/dev/hda1",
  );
  const l = kexecRun({
    board: "pc-imcr",
    model: "pentium",
    arch: "i386",
    image: elf,
    loader: { build: "i386", args: "linux", commandLine: "quiet" },
  });
  assert.equal(l.run.reason, "halted");
  assert.equal(u32(l.cpu.getGpr(6)), l.r.parameters);
  assert.equal(l.m.memory.read32(Number(l.r.parameters) + 0x202), 0x53726448, "HdrS");
  assertBootSegments(l.cpu);
  const n = kexecRun({
    board: "pc-imcr",
    model: "pentium",
    arch: "i386",
    image: elf,
    loader: { build: "i386", args: "none" },
  });
  assert.equal(n.r.purgatory, undefined);
  assert.equal(n.r.entry, 0x100000n);
  assert.equal(n.run.reason, "halted");
  assert.equal(n.cpu.getRip(), 0x100001n);
  assert.equal(n.cpu.getSegment("cs").selector, 0x60, "straight from the relocation stub");
});

Deno.test("purgatory 32-bit --real-mode: entry16 drops to real mode and jumps to setup_base>>4 + 0x20 : 0", () => {
  // setup code: store CS, DS, SS, SP at 0x600 (physical, via ES = 0) and halt
  const setup = assemble(
    `bits 16
org 0
    xor ax, ax
    mov es, ax
    mov [es:0x600], cs
    mov [es:0x602], ds
    mov [es:0x604], ss
    mov [es:0x606], sp
    mov eax, cr0
    mov [es:0x608], eax
    hlt
`,
    { bits: 16, org: 0 },
  ).bytes;
  const { m, r, run, cpu } = kexecRun({
    board: "pc-imcr",
    model: "pentium",
    arch: "i386",
    image: bzImage32({ setupCode: setup }),
    loader: { build: "i386", realMode: true },
  });
  assert.equal(run.reason, "halted");
  assert.equal(m.console, "");
  const r16 = r.registers.entry16!;
  const seg = Number(r.parameters! >> 4n);
  assert.equal(m.memory.read16(0x600), seg + 0x20, "CS = setup segment + 0x20");
  assert.equal(m.memory.read16(0x602), seg, "DS = setup segment");
  assert.equal(m.memory.read16(0x604), r16.ss);
  assert.equal(m.memory.read16(0x606), 0xfffc);
  assert.equal(m.memory.read32(0x608) & 0x80000001, 0, "PE and PG off");
  assert.equal(cpu.getSegment("cs").selector, seg + 0x20);
  assert.equal(BigInt(cpu.getSegment("cs").base), BigInt((seg + 0x20) * 16));
});

Deno.test("purgatory 64-bit: bzImage64 above 4 GiB entered at +0x200 with RSI = zero page", () => {
  const code = assemble("bits 64\norg 0\ntimes 0x200 db 0x90\nhlt\njmp $-1\n", {
    bits: 64,
    org: 0,
  }).bytes;
  const image = buildBzImage({
    version: 0x020c,
    payload: code,
    xloadflags: 3,
    kernelAlignment: 0x200000,
    initSize: 0x10000,
  });
  const { m, r, run, cpu } = kexecRun({
    board: "opteron",
    model: "opteron",
    memory: 6n * 2n ** 30n,
    arch: "x86_64",
    image,
    loader: { build: "x86_64", commandLine: "console=ttyS0" },
  });
  assert.equal(r.fileType, "bzImage64");
  assert.ok(r.kernel! >= 1n << 32n, `kernel above 4 GiB: 0x${r.kernel!.toString(16)}`);
  assert.equal(run.reason, "halted");
  assert.equal(m.console, "");
  assert.equal(cpu.getRip(), r.kernel! + 0x201n);
  assert.equal(cpu.getGpr(6), r.parameters, "RSI = boot_params");
  assert.equal(cpu.getGpr(4), r.registers.entry64!.rsp);
  assert.equal(cpu.getSegment("cs").selector, 0x10);
  assert.equal(cpu.getSegment("ds").selector, 0x18);
  assert.equal(cpu.getEfer() & 0x400n, 0x400n, "still in long mode");
});

Deno.test("purgatory 64-bit → 32-bit kernel (entry64-32): compatibility mode, paging, LME and CR4 off", () => {
  const { m, r, run, cpu } = kexecRun({
    board: "opteron",
    model: "opteron",
    memory: 1n << 30n,
    arch: "x86_64",
    image: bzImage32(),
    loader: { build: "x86_64", commandLine: "quiet" },
  });
  assert.equal(r.fileType, "bzImage");
  assert.equal(run.reason, "halted");
  assert.equal(m.console, "");
  assert.equal(cpu.getRip(), 0x100001n);
  assert.equal(u32(cpu.getGpr(6)), r.parameters, "ESI = boot_params");
  assert.equal(cpu.getCr(0) & 0x80000001n, 1n, "protected mode, paging off");
  assert.equal(cpu.getEfer() & 0x500n, 0n, "LME and LMA off");
  assert.equal(cpu.getCr(4), 0n);
  assertBootSegments(cpu);
  assert.equal(cpu.getSegment("cs").attributes & 0x2000, 0, "CS.L = 0");
});

Deno.test("purgatory 64-bit: a corrupted initrd stops in purgatory", () => {
  const code = assemble("bits 64\norg 0\ntimes 0x200 db 0x90\nhlt\n", { bits: 64, org: 0 }).bytes;
  const image = buildBzImage({ version: 0x020c, payload: code, xloadflags: 3 });
  const { m, r, run, cpu } = kexecRun({
    board: "opteron",
    model: "opteron",
    memory: 1n << 30n,
    arch: "x86_64",
    image,
    loader: { build: "x86_64", initrd: new Uint8Array(0x2800).fill(0x11) },
    corrupt: (res) => {
      const s = res.segments.find((g) => g.label === "initrd")!;
      s.buf = s.buf.slice();
      s.buf[0x27ff] = 0x12;
    },
  });
  assert.equal(run.reason, "halted");
  assert.equal(m.console, "purgatory: checksum mismatch\n");
  assert.ok(cpu.getRip() >= r.purgatory! && cpu.getRip() < r.purgatory! + 0x2000n);
});
