import assert from "node:assert/strict";
import { buildDol } from "./dol.ts";
import { ImageFormatError, KexecToolsError } from "./errors.ts";
import { loadDolWithKexecTools } from "./kexec_tools_dol.ts";

const glue = { bytes: new Uint8Array(0x120).fill(0x60), spr8Offset: 0x100 };
const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

Deno.test("DOL loader: overlapping sections merge, top bits cleared, bufsz == memsz, BSS ignored", () => {
  const dol = buildDol({
    text: [{ address: 0x80003100, data: fill(0x1000, 1) }, {
      address: 0x80004800,
      data: fill(0x10, 2),
    }],
    data: [{ address: 0xc0010000, data: fill(0x20, 3) }],
    bss: { address: 0x80020000, size: 0x10000 },
    entry: 0x80003100,
  });
  const r = loadDolWithKexecTools(dol, { glue, commandLine: "root=/dev/gcnsda2" });
  // text 0 covers 0x3000-0x4fff after rounding, text 1 0x4000-0x4fff: merged into one segment.
  assert.deepEqual(r.groups, [{ start: 0x80003000, size: 0x2000, sections: 0b11 }, {
    start: 0xc0010000,
    size: 0x1000,
    sections: 1 << 7,
  }]);
  assert.deepEqual(r.segments.map((s) => [s.mem, s.memsz, s.bufsz]), [
    [0x3000n, 0x2000n, 0x2000n],
    [0x5000n, 0x1000n, BigInt(0x120 + 0x40 + 20)],
    [0x10000n, 0x1000n, 0x1000n],
  ]);
  const seg = r.segments[0].buf;
  assert.equal(seg[0x100], 1);
  assert.equal(seg[0x1800], 2);
  assert.equal(seg[0x1810], 0);
  assert.equal(r.entry, 0x5000n); // the glue, lowest free page
  const arg = new DataView(r.segments[1].buf.buffer);
  assert.equal(arg.getUint32(0x100, false), 0x80003100); // spr8 = DOL entry
  assert.equal(arg.getUint32(0x120, false), 0x0e1fb007); // boot notes after the glue
  assert.equal(arg.getUint32(0x124, false), 0x40); // kexec-tools' DOL bug: template size
  assert.equal(arg.getUint16(0x128, false), 0); // ... and no checksum
  assert.equal(
    new TextDecoder().decode(r.segments[1].buf.subarray(0x160, 0x171)),
    "root=/dev/gcnsda2",
  );
  assert.match(r.debugText, /nr_segments = 3/);
});

Deno.test("DOL loader: outside the GameCube range and corrupt files fail typed", () => {
  const high = buildDol({ text: [{ address: 0x81800000, data: fill(4, 0) }], entry: 0x81800000 });
  assert.throws(
    () => loadDolWithKexecTools(high, { glue }),
    (e: unknown) =>
      e instanceof KexecToolsError && /Invalid memory segment 0x1800000/.test(e.message),
  );
  assert.throws(() => loadDolWithKexecTools(new Uint8Array(0x80), { glue }), ImageFormatError);
});
