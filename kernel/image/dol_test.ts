import assert from "node:assert/strict";
import { buildDol, DOL_HEADER_SIZE, parseDol } from "./dol.ts";
import { ImageFormatError } from "./errors.ts";

const text = (address: number, n: number) => ({ address, data: new Uint8Array(n).fill(0x60) });
const good = buildDol({
  text: [text(0x80003100, 0x100), text(0x80004000, 0x20)],
  data: [text(0x80005000, 0x40)],
  bss: { address: 0x80006000, size: 0x1000 },
  entry: 0x80003100,
});

Deno.test("DOL: round trip (big-endian header, sections, bss, entry)", () => {
  const d = parseDol(good);
  assert.deepEqual(d.sections.map((s) => [s.index, s.kind, s.address, s.size]), [
    [0, "text", 0x80003100, 0x100],
    [1, "text", 0x80004000, 0x20],
    [7, "data", 0x80005000, 0x40],
  ]);
  assert.equal(d.sections[0].offset, DOL_HEADER_SIZE);
  assert.equal(d.bssAddress, 0x80006000);
  assert.equal(d.bssSize, 0x1000);
  assert.equal(d.entry, 0x80003100);
  assert.deepEqual(d.warnings, []);
  assert.equal(new DataView(good.buffer).getUint32(0x48, false), 0x80003100);
});

Deno.test("DOL: low addresses only warn, as kexec-tools does", () => {
  const d = parseDol(
    buildDol({ text: [text(0x3100, 8)], bss: { address: 0x5000, size: 4 }, entry: 0x3100 }),
  );
  assert.deepEqual(d.warnings, [
    "warning, text segment below 2GB",
    "warning, bss segment is below 2GB",
  ]);
});

function mut(f: (b: Uint8Array, v: DataView) => Uint8Array | void) {
  const b = good.slice();
  return f(b, new DataView(b.buffer)) ?? b;
}

Deno.test("DOL: corrupt files give ImageFormatError with the byte offset", () => {
  const cases: [string, Uint8Array, number, RegExp][] = [
    ["short", good.subarray(0, 0x80), 0x80, /too short/],
    ["inside header", mut((_, v) => v.setUint32(4, 0x80, false)), 4, /inside the header/],
    ["beyond file", mut((_, v) => v.setUint32(0x90, 0x10000, false)), 0x90, /beyond the file/],
    [
      "absurd size (wraps in 32 bits)",
      mut((_, v) => v.setUint32(0xac, 0xffffff00, false)),
      0xac,
      /beyond/,
    ],
    [
      "entry outside text",
      mut((_, v) => v.setUint32(0xe0, 0x80005000, false)),
      0xe0,
      /not inside a text/,
    ],
    ["truncated", good.subarray(0, good.length - 1), 0xac, /beyond the file/],
  ];
  for (const [name, bytes, offset, re] of cases) {
    assert.throws(() => parseDol(bytes), (e: unknown) => {
      assert.ok(e instanceof ImageFormatError, name);
      assert.equal(e.offset, offset, name);
      assert.match(e.message, re, name);
      return true;
    }, name);
  }
});

Deno.test("DOL: builder limits", () => {
  assert.throws(
    () => buildDol({ text: Array(8).fill(text(0x80000000, 4)), entry: 0x80000000 }),
    RangeError,
  );
});
