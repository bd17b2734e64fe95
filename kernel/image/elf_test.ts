import assert from "node:assert/strict";
import {
  buildElf,
  EM_386,
  EM_PPC,
  EM_X86_64,
  parseElf,
  PT_INTERP,
  PT_LOAD,
  PT_NOTE,
} from "./elf.ts";
import { ImageFormatError } from "./errors.ts";

const seg = (paddr: bigint, n: number, memsz?: bigint) => ({
  paddr,
  vaddr: paddr | 0xc0000000n,
  data: new Uint8Array(n).fill(0x90),
  memsz,
});

Deno.test("ELF: 32/64-bit, both byte orders round-trip", () => {
  for (const elfClass of [32, 64] as const) {
    for (const endian of ["little", "big"] as const) {
      const machine = endian === "big" ? EM_PPC : elfClass === 64 ? EM_X86_64 : EM_386;
      const bytes = buildElf({
        elfClass,
        endian,
        machine,
        entry: 0x100040n,
        segments: [seg(0x100000n, 0x80), seg(0x200000n, 0x10, 0x3000n), {
          ...seg(0n, 4),
          type: PT_NOTE,
        }],
      });
      const e = parseElf(bytes);
      assert.equal(e.elfClass, elfClass);
      assert.equal(e.endian, endian);
      assert.equal(e.machine, machine);
      assert.equal(e.entry, 0x100040n);
      assert.equal(e.programHeaders.length, 3);
      const [a, b, n] = e.programHeaders;
      assert.equal(a.type, PT_LOAD);
      assert.equal(a.paddr, 0x100000n);
      assert.equal(a.vaddr, 0xc0100000n);
      assert.equal(a.filesz, 0x80n);
      assert.equal(b.memsz, 0x3000n);
      assert.equal(n.type, PT_NOTE);
      assert.equal(bytes[Number(a.offset)], 0x90);
    }
  }
});

const good32 = buildElf({
  elfClass: 32,
  machine: EM_386,
  entry: 0x100000n,
  segments: [seg(0x100000n, 0x40)],
});
const good64 = buildElf({
  elfClass: 64,
  machine: EM_X86_64,
  entry: 0x100000n,
  segments: [seg(0x100000n, 0x40)],
});
function mut(base: Uint8Array, f: (b: Uint8Array, v: DataView) => Uint8Array | void) {
  const b = base.slice();
  return f(b, new DataView(b.buffer)) ?? b;
}

Deno.test("ELF: corrupt files give ImageFormatError with the byte offset", () => {
  const cases: [string, Uint8Array, number, RegExp][] = [
    ["short", good32.subarray(0, 10), 10, /too short/],
    ["magic", mut(good32, (b) => void (b[1] = 0)), 0, /magic/],
    ["class", mut(good32, (b) => void (b[4] = 3)), 4, /class/],
    ["data", mut(good32, (b) => void (b[5] = 0)), 5, /data encoding/],
    ["ident version", mut(good32, (b) => void (b[6] = 2)), 6, /ident version/],
    ["e_version", mut(good32, (_, v) => v.setUint32(0x14, 2, true)), 0x14, /e_version/],
    ["ehsize", mut(good32, (_, v) => v.setUint16(0x28, 64, true)), 0x28, /e_ehsize/],
    ["phentsize", mut(good64, (_, v) => v.setUint16(0x36, 32, true)), 0x36, /e_phentsize/],
    ["machine", mut(good32, (_, v) => v.setUint16(0x12, 40, true)), 0x12, /e_machine/],
    ["type", mut(good32, (_, v) => v.setUint16(0x10, 1, true)), 0x10, /e_type 1/],
    ["no phdrs", mut(good32, (_, v) => v.setUint16(0x2c, 0, true)), 0x1c, /No ELF program header/],
    [
      "phdrs outside",
      mut(good64, (_, v) => v.setBigUint64(0x20, 0x10000n, true)),
      0x20,
      /outside the file/,
    ],
    ["truncated data", good32.subarray(0, good32.length - 1), 52 + 4, /outside the file/],
    [
      "filesz huge",
      mut(good64, (_, v) => v.setBigUint64(64 + 0x20, 1n << 62n, true)),
      64 + 8,
      /outside/,
    ],
    [
      "paddr wraps",
      mut(good32, (_, v) => {
        v.setUint32(52 + 0xc, 0xfffff000, true);
        v.setUint32(52 + 0x14, 0x2000, true);
      }),
      52 + 0xc,
      /wraps/,
    ],
    ["interp", mut(good32, (_, v) => v.setUint32(52, PT_INTERP, true)), 52, /interpreter/],
    [
      "shdrs outside",
      mut(good32, (_, v) => {
        v.setUint32(0x20, 0x100000, true);
        v.setUint16(0x2e, 40, true);
        v.setUint16(0x30, 3, true);
      }),
      0x20,
      /Section header table/,
    ],
  ];
  for (const [name, bytes, offset, re] of cases) {
    assert.throws(() => parseElf(bytes), (e: unknown) => {
      assert.ok(e instanceof ImageFormatError, `${name}: ${e}`);
      assert.equal(e.offset, offset, name);
      assert.match(e.message, re, name);
      return true;
    }, name);
  }
});

Deno.test("ELF: strict mode rejects overlapping PT_LOADs and filesz > memsz", () => {
  const overlap = buildElf({
    elfClass: 32,
    machine: EM_386,
    entry: 0n,
    segments: [seg(0x100000n, 0x2000), seg(0x101000n, 0x10)],
  });
  assert.equal(parseElf(overlap).programHeaders.length, 2); // kexec-tools' parser accepts it
  assert.throws(
    () => parseElf(overlap, { strict: true }),
    /PT_LOAD 1 at 0x101000 overlaps PT_LOAD 0/,
  );
  const fat = buildElf({
    elfClass: 32,
    machine: EM_386,
    entry: 0n,
    segments: [seg(0x100000n, 0x20, 0x10n)],
  });
  assert.equal(parseElf(fat).programHeaders[0].filesz, 0x20n);
  assert.throws(() => parseElf(fat, { strict: true }), /p_filesz 0x20 > p_memsz 0x10/);
  assert.throws(() => parseElf(good32, { machines: [EM_X86_64] }), /e_machine: 3/);
});
