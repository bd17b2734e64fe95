import assert from "node:assert/strict";
import { buildBzImage } from "./bzimage.ts";
import { buildDol } from "./dol.ts";
import { buildElf, EM_386, EM_X86_64, ET_DYN } from "./elf.ts";
import { ImageFormatError, KexecOptionError, KexecToolsError } from "./errors.ts";
import { loadWithKexecTools, parseKexecToolsArgs } from "./kexec_tools.ts";
import type { MemoryMapEntry } from "./kexec_tools_memory.ts";
import { elfBootNotes } from "./kexec_tools_x86.ts";
import { buildPurgatory, CHECKSUM_REGIONS, purgatoryChecksum } from "./purgatory.ts";

const MAP: MemoryMapEntry[] = [
  { base: 0n, size: 0x9fc00n, type: "ram" },
  { base: 0x9fc00n, size: 0x400n, type: "reserved" },
  { base: 0x100000n, size: 0x7f00000n, type: "ram" },
];
const payload = new Uint8Array(0x3000).map((_, i) => (i * 3) & 0xff);
const bz202 = buildBzImage({ version: 0x0202, payload });
const bz64 = buildBzImage({
  version: 0x020f,
  payload,
  xloadflags: 3,
  initSize: 0x100000,
  kernelAlignment: 0x200000,
});

function view(b: Uint8Array) {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
function purgatoryOf(r: ReturnType<typeof loadWithKexecTools>) {
  const seg = r.segments.find((s) => s.mem === r.purgatory)!;
  return { seg, v: view(seg.buf) };
}

Deno.test("own purgatory, x86_64 build, bzImage64: entry64_regs, cmdline_end and checksum table patched", () => {
  const r = loadWithKexecTools(bz64, {
    memoryMap: MAP,
    commandLine: "console=ttyS0",
    initrd: new Uint8Array(0x1800).fill(7),
  });
  const p = buildPurgatory({ bits: 64 });
  const { seg, v } = purgatoryOf(r);
  assert.equal(r.entry, r.purgatory); // purgatory_start at offset 0
  assert.equal(r.fileType, "bzImage64");
  assert.equal(r.flags, 0x3e0000);
  const regs = p.symbols.entry64_regs!;
  assert.equal(v.getBigUint64(regs + 4 * 8, true), r.parameters); // rsi
  assert.equal(v.getBigUint64(regs + 16 * 8, true), r.kernel! + 0x200n); // rip
  assert.equal(v.getBigUint64(regs + 6 * 8, true), r.purgatory! + BigInt(p.symbols.stack_end!)); // rsp
  assert.deepEqual(r.registers.entry64, {
    rbx: 0n,
    rsi: r.parameters,
    rip: r.kernel! + 0x200n,
    rsp: r.purgatory! + BigInt(p.symbols.stack_end!),
  });
  const others = r.segments.filter((s) => s !== seg);
  assert.equal(v.getUint32(p.symbols.checksum_count!, true), others.length);
  others.forEach((s, i) => {
    assert.equal(v.getBigUint64(p.symbols.checksum_regions! + 16 * i, true), s.mem);
    assert.equal(v.getBigUint64(p.symbols.checksum_regions! + 16 * i + 8, true), s.memsz);
  });
  const expected = purgatoryChecksum(
    others.map((s) => ({ bytes: s.buf.subarray(0, Number(s.bufsz)), size: Number(s.memsz) })),
  );
  assert.equal(v.getUint32(p.symbols.checksum_value!, true), expected);
  assert.equal(v.getUint32(p.symbols.skip_checks!, true), 0);
  // cmdline_end = setup_base + 4096 + strlen + 1 - 1
  assert.equal(v.getBigUint64(p.symbols.cmdline_end!, true), r.parameters! + 0x1000n + 13n);
  assert.ok(CHECKSUM_REGIONS >= others.length);
});

Deno.test("--no-checks sets skip_checks and leaves the table empty", () => {
  const r = loadWithKexecTools(bz64, { memoryMap: MAP, noChecks: true });
  const p = buildPurgatory({ bits: 64 });
  const { v } = purgatoryOf(r);
  assert.equal(v.getUint32(p.symbols.skip_checks!, true), 1);
  assert.equal(v.getUint32(p.symbols.checksum_count!, true), 0);
});

Deno.test("i386 build: 32-bit purgatory, entry32_regs, flags 0, zero page fields", () => {
  const r = loadWithKexecTools(bz202, {
    memoryMap: MAP,
    build: "i386",
    commandLine: "root=/dev/hda1",
    initrd: new Uint8Array(0x2000),
  });
  const p = buildPurgatory({ bits: 32 });
  const { v } = purgatoryOf(r);
  assert.equal(r.flags, 0);
  assert.equal(r.fileType, "bzImage");
  const e = p.symbols.entry32_regs!;
  assert.equal(v.getUint32(e + 16, true), 0x3000); // esi
  assert.equal(v.getUint32(e + 32, true), 0x100000); // eip
  assert.deepEqual(r.segments.map((s) => s.label), [
    "setup (zero page + command line)",
    "purgatory",
    "kernel",
    "initrd",
  ]);
  assert.equal(r.segments[3].mem, 0x7ffe000n); // initrd top-down below the end of RAM
  const zp = view(r.segments[0].buf);
  assert.equal(zp.getUint8(0x210), 0xd0);
  assert.equal(zp.getUint8(0x211), 0); // loadflags cleared
  assert.equal(zp.getUint32(0x228, true), 0x3000 + 0x1000); // cmd_line_ptr
  assert.equal(zp.getUint16(0x20, true), 0xa33f);
  assert.equal(zp.getUint16(0x22, true), 0x1000);
  assert.equal(zp.getUint32(0x218, true), 0x7ffe000);
  assert.equal(zp.getUint32(0x21c, true), 0x2000);
  assert.equal(zp.getUint8(0x1e8), 3);
  assert.equal(zp.getUint32(0x1e0, true), (0x7ffffff >> 10) - 1024); // alt_mem_k
  assert.equal(zp.getUint16(0x02, true), 0xfc00); // ext_mem_k capped
  assert.equal(zp.getUint16(0x1f2, true), 0xffff);
  assert.equal(zp.getUint16(0x1fc, true), 0x0300);
  assert.equal(zp.getUint16(0x1fe, true), 0x0055);
  assert.equal(
    new TextDecoder().decode(r.segments[0].buf.subarray(0x1000, 0x100e)),
    "root=/dev/hda1",
  );
  // e820[1]: reserved 0x9fc00 size 0x400 type 2
  assert.equal(zp.getBigUint64(0x2d0 + 20, true), 0x9fc00n);
  assert.equal(zp.getBigUint64(0x2d0 + 28, true), 0x400n);
  assert.equal(zp.getUint32(0x2d0 + 36, true), 2);
});

Deno.test("x86_64 build loading a 32-bit bzImage: entry64 rip goes to purgatory's entry32 routine", () => {
  const r = loadWithKexecTools(bz202, { memoryMap: MAP });
  const p = buildPurgatory({ bits: 64 });
  const { v } = purgatoryOf(r);
  assert.equal(
    v.getBigUint64(p.symbols.entry64_regs! + 128, true),
    r.purgatory! + BigInt(p.symbols.entry32!),
  );
  assert.equal(v.getUint32(p.symbols.entry32_regs! + 32, true), 0x100000);
  assert.ok(r.purgatory! < 0xa0000n); // non-relocatable: purgatory below 640K
});

Deno.test("clear_cr4 purgatory: i386 only, and it contains mov cr4, eax", () => {
  const r = loadWithKexecTools(bz202, { memoryMap: MAP, build: "i386", clearCr4: true });
  const bytes = purgatoryOf(r).seg.buf;
  const hexText = Array.from(bytes.subarray(0, 0x80), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
  assert.match(hexText, /31c00f22e0/); // xor eax, eax; mov cr4, eax
  const plain = Array.from(
    buildPurgatory({ bits: 32 }).bytes,
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  assert.doesNotMatch(plain, /0f22e0/);
  assert.throws(
    () => loadWithKexecTools(bz202, { memoryMap: MAP, clearCr4: true }),
    KexecOptionError,
  );
});

Deno.test("1.101 era (kexec-tools 1.96): purgatory and whole real-mode block top-down below 640K", () => {
  const r = loadWithKexecTools(bz202, {
    memoryMap: MAP,
    build: "i386",
    era: "1.101",
    commandLine: "ro",
  });
  const [setup, purg, kernel] = r.segments;
  assert.equal(purg.label, "purgatory");
  assert.equal(purg.mem + purg.memsz <= 0xa0000n, true);
  assert.equal(setup.mem + setup.memsz, purg.mem); // just below purgatory
  assert.equal(setup.bufsz, BigInt(5 * 512 + 3));
  assert.deepEqual(setup.buf.subarray(0x22c, 0x22f), bz202.subarray(0x22c, 0x22f)); // real-mode code copied
  assert.equal(kernel.mem, 0x100000n);
  const zp = view(setup.buf);
  assert.equal(zp.getUint8(0x210), 0xff);
  assert.equal(zp.getUint16(0x22, true), 5 * 512);
  // the 1.101 e820 bug: unsigned long long mem_k = (exclusive end >> 10) - 0x100000 wraps below
  // 1 GiB, so both clamps apply
  assert.equal(zp.getUint32(0x1e0, true), 0xffffffff);
  assert.equal(zp.getUint16(0x02, true), 0xfc00);
  // above 1 GiB it is the KiB above 1 GiB, not above 1 MiB
  const big = loadWithKexecTools(bz202, {
    memoryMap: [MAP[0], MAP[1], { base: 0x100000n, size: 0x4ff00000n, type: "ram" }],
    build: "i386",
    era: "1.101",
  });
  assert.equal(view(big.segments[0].buf).getUint32(0x1e0, true), (0x50000000 >> 10) - 0x100000);
});

Deno.test("--real-mode: entry16 registers, heap, code32_start, stdout message", () => {
  const img = buildBzImage({ version: 0x020a, payload, heapEndPtr: 0x9000 });
  const r = loadWithKexecTools(img, {
    memoryMap: MAP,
    build: "i386",
    realMode: true,
    commandLine: "x",
  });
  const p = buildPurgatory({ bits: 32 });
  assert.equal(r.stdout, "Starting the kernel in real mode\n");
  const setup = r.segments[0];
  assert.equal(setup.mem, 0x3000n);
  assert.deepEqual(setup.buf.subarray(0x264, 0xa00), img.subarray(0x264, 0xa00));
  const zp = view(setup.buf);
  assert.equal(zp.getUint8(0x211) & 0x80, 0x80);
  assert.equal(zp.getUint32(0x214, true), Number(r.kernel));
  const heap = (0xfffc - 0x9000) & ~0x1ff;
  assert.equal(zp.getUint16(0x224, true), 0x9000 + heap - 0x200);
  assert.deepEqual(r.registers.entry16, {
    ds: 0x300,
    es: 0x300,
    fs: 0x300,
    gs: 0x300,
    cs: 0x320,
    ip: 0,
    ss: Number(((r.purgatory! + BigInt(p.symbols.stack_end!) - 0x10000n) >> 4n) & 0xffffn),
    esp: 0xfffc,
  });
  const { v } = purgatoryOf(r);
  assert.equal(
    v.getUint32(p.symbols.entry32_regs! + 32, true),
    Number(r.purgatory! + BigInt(p.symbols.entry16!)),
  );
  assert.equal(v.getUint16(p.symbols.entry16_regs! + 10, true), 0x320);
  assert.equal(v.getUint32(p.symbols.entry16_regs! + 14, true), 0xfffc);
});

Deno.test("ELF: --args-none on the i386 build; ET_DYN relocated into a hole; --args-elf notes", () => {
  const elf = buildElf({
    elfClass: 32,
    machine: EM_386,
    entry: 0x100020n,
    segments: [{ paddr: 0x100000n, data: new Uint8Array(0x40) }],
  });
  const none = loadWithKexecTools(elf, { memoryMap: MAP, build: "i386", args: "none" });
  assert.equal(none.entry, 0x100020n);
  assert.equal(none.segments.length, 1);
  assert.throws(
    () => loadWithKexecTools(elf, { memoryMap: MAP, args: "none" }),
    /--args-none only works on arch i386/,
  );
  const dyn = buildElf({
    elfClass: 64,
    machine: EM_X86_64,
    type: ET_DYN,
    entry: 0x10n,
    segments: [{ paddr: 0n, data: new Uint8Array(0x40), align: 0x200000n }],
  });
  const r = loadWithKexecTools(dyn, { memoryMap: MAP, args: "none" });
  assert.equal(r.segments[0].mem, 0x200000n);
  assert.equal(r.entry, 0x200010n);
  const e = loadWithKexecTools(elf, { memoryMap: MAP, build: "i386", commandLine: "hello" });
  const notes = e.segments.find((s) => s.label === "ELF boot notes")!;
  const nv = view(notes.buf);
  assert.equal(nv.getUint32(0, true), 0x0e1fb007);
  assert.equal(nv.getUint32(4, true), 0x48);
  const p = buildPurgatory({ bits: 32 });
  const pv = purgatoryOf(e).v;
  assert.equal(pv.getUint32(p.symbols.stack_arg32_1!, true), Number(notes.mem));
  assert.equal(
    pv.getUint32(p.symbols.entry32_regs! + 24, true),
    Number(e.purgatory! + BigInt(p.symbols.stack_arg32_2!)),
  );
  assert.throws(
    () => loadWithKexecTools(elf, { memoryMap: MAP, initrd: new Uint8Array(1) }),
    /Ramdisks not supported/,
  );
});

Deno.test("ELF boot notes: the IP checksum of the whole blob verifies", () => {
  for (const endian of ["little", "big"] as const) {
    const notes = elfBootNotes({
      commandLine: new TextEncoder().encode("console=ttyS0\0"),
      version: "2.0.25",
      endian,
    });
    let sum = 0;
    for (let i = 0; i < notes.length; i++) {
      sum += (i & 1) ? notes[i] << 8 : notes[i];
      if (sum > 0xffff) sum = (sum + (sum >>> 16)) & 0xffff;
    }
    assert.equal(sum, 0xffff, endian);
    assert.equal(notes.length, 0x40 + 16);
  }
  const buggy = elfBootNotes({
    commandLine: new Uint8Array(5),
    version: "2.0.25",
    endian: "big",
    buggyDol: true,
  });
  assert.equal(view(buggy).getUint32(4, false), 0x40);
  assert.equal(view(buggy).getUint16(8, false), 0);
});

Deno.test("probing: zImage, DOL, junk and wrong --type give typed errors", () => {
  const zimage = buildBzImage({ version: 0x0202, payload, loadflags: 0 });
  assert.throws(
    () => loadWithKexecTools(zimage, { memoryMap: MAP }),
    (e: unknown) => e instanceof ImageFormatError && e.offset === 0x211,
  );
  const dol = buildDol({
    text: [{ address: 0x80003100, data: new Uint8Array(0x200) }],
    entry: 0x80003100,
  });
  assert.throws(
    () => loadWithKexecTools(dol, { memoryMap: MAP }),
    (e: unknown) =>
      e instanceof ImageFormatError && e.format === "DOL" &&
      e.message === "DOL images are loaded by the ppc build, not by x86 kexec",
  );
  assert.throws(
    () => loadWithKexecTools(new Uint8Array(100), { memoryMap: MAP }),
    ImageFormatError,
  );
  // 4 KiB of junk (no ELF magic, no boot sector, no consistent DOL header) is of no known type,
  // not a "broken DOL".
  const junk = new Uint8Array(4096).map((_, i) => (i * 0x9e + 0x37) & 0xff);
  assert.throws(
    () => loadWithKexecTools(junk, { memoryMap: MAP }),
    (e: unknown) =>
      e instanceof ImageFormatError && e.format === "unknown" &&
      e.offset === 0 &&
      e.message ===
        "Cannot determine the file type: no loader (ELF, bzImage, DOL) recognises these 4096 bytes",
  );
  assert.throws(
    () => loadWithKexecTools(bz202, { memoryMap: MAP, type: "bzImage64" }),
    (e: unknown) =>
      e instanceof KexecToolsError &&
      e.message === "Wrong file type bzImage64, file matches type bzImage",
  );
  assert.throws(() => loadWithKexecTools(bz202, { memoryMap: MAP, crash: true }), KexecToolsError);
});

Deno.test("command line: --reuse-cmdline drops BOOT_IMAGE and appends; too long dies", () => {
  const img = buildBzImage({ version: 0x0206, payload, cmdlineSize: 40 });
  const r = loadWithKexecTools(img, {
    memoryMap: MAP,
    reuseCmdline: true,
    procCmdline: "BOOT_IMAGE=/b root=/dev/sda\nx",
    commandLine: "quiet",
  });
  const zp = r.segments.find((s) => s.mem === r.parameters)!;
  assert.equal(
    new TextDecoder().decode(zp.buf.subarray(0x1000, 0x1000 + 20)),
    "root=/dev/sda quiet\0",
  );
  assert.throws(
    () => loadWithKexecTools(img, { memoryMap: MAP, commandLine: "x".repeat(40) }),
    /command line too long/,
  );
  loadWithKexecTools(img, { memoryMap: MAP, commandLine: "x".repeat(39) });
});

Deno.test("debug text has kexec-tools' formats", () => {
  const r = loadWithKexecTools(bz202, { memoryMap: MAP });
  assert.match(r.debugText, /^MEMORY RANGES\n0000000000000400-000000000009fbff \(0\)\n/);
  assert.ok(
    r.debugText.includes(
      "flags = 0x3e0000\nnr_segments = 3\nsegment[0].buf   = 0x1000000\nsegment[0].bufsz = 0x1041\n" +
        "segment[0].mem   = 0x3000\nsegment[0].memsz = 0x2000\n",
    ),
    r.debugText,
  );
});

Deno.test("parseKexecToolsArgs: options, last --append wins, errors", () => {
  assert.deepEqual(
    parseKexecToolsArgs([
      "--append=a",
      "--command-line=b",
      "--real-mode",
      "--mem-max=0x1000",
      "-i",
      "--type=bzImage",
    ]),
    {
      commandLine: "b",
      realMode: true,
      memMax: 0x1000n,
      noChecks: true,
      type: "bzImage",
    },
  );
  assert.throws(() => parseKexecToolsArgs(["--bogus"]), KexecOptionError);
  assert.throws(() => parseKexecToolsArgs(["--mem-min=zz"]), KexecOptionError);
  assert.throws(() => parseKexecToolsArgs(["--append"]), KexecOptionError);
});

Deno.test("crash load (-p): placement confined to the crash range, KEXEC_ON_CRASH, relocatable bzImage only", () => {
  const crashRegion = { start: 0x1000000n, end: 0x1ffffffn };
  const elf = buildElf({
    elfClass: 32,
    machine: EM_386,
    entry: 0x1000000n,
    segments: [{ paddr: 0x1000000n, data: new Uint8Array(0x2000).fill(1) }],
  });
  const r = loadWithKexecTools(elf, {
    memoryMap: MAP,
    build: "i386",
    crash: true,
    crashRegion,
    args: "linux",
  });
  assert.equal(r.flags, 1);
  for (const s of r.segments) {
    assert.ok(s.mem >= crashRegion.start && s.mem + s.memsz - 1n <= crashRegion.end, s.label);
  }
  assert.equal(r.segments[0].mem, 0x1000000n);
  assert.equal(r.purgatory, 0x1002000n, "purgatory bottom-up from the crash range start");
  // a PT_LOAD outside the crash range is an invalid segment, as with --mem-min/--mem-max
  assert.throws(
    () =>
      loadWithKexecTools(elf, {
        memoryMap: MAP,
        build: "i386",
        crash: true,
        crashRegion: { start: 0x2000000n, end: 0x2ffffffn },
      }),
    KexecToolsError,
  );
  // bzImage: relocatable kernel bottom-up in the range, zero page top-down, x86_64 arch flag
  const bz = buildBzImage({ version: 0x0206, payload, relocatableKernel: 1 });
  const b = loadWithKexecTools(bz, { memoryMap: MAP, crash: true, crashRegion });
  assert.equal(b.flags, 0x3e0001);
  assert.equal(b.kernel, 0x1000000n);
  assert.ok(b.parameters! > b.kernel! && b.parameters! <= crashRegion.end);
  assert.throws(
    () =>
      loadWithKexecTools(buildBzImage({ version: 0x0204, payload }), {
        memoryMap: MAP,
        crash: true,
        crashRegion,
      }),
    /not relocatable/,
  );
  assert.throws(
    () => loadWithKexecTools(bz, { memoryMap: MAP, crash: true }),
    /crashkernel is not reserved/,
  );
});
