import assert from "node:assert/strict";
import {
  buildBzImage,
  effectiveCmdlineSize,
  effectiveInitrdAddrMax,
  headerEndForVersion,
  parseBzImage,
} from "./bzimage.ts";
import { ImageFormatError } from "./errors.ts";

const payload = new Uint8Array(0x1234).map((_, i) => i & 0xff);

Deno.test("bzImage: every protocol 2.00-2.15 round-trips with version-gated fields", () => {
  for (let minor = 0; minor <= 15; minor++) {
    const version = 0x0200 | minor;
    const bytes = buildBzImage({
      version,
      payload,
      xloadflags: 3,
      cmdlineSize: 1000,
      initSize: 0x8000,
    });
    const img = parseBzImage(bytes);
    const h = img.header;
    assert.equal(h.version, version);
    assert.equal(h.headerEnd, headerEndForVersion(version));
    assert.equal(img.loadedHigh, true);
    assert.equal(img.realModeSize, 5 * 512);
    assert.equal(img.protectedModeSize, payload.length);
    assert.deepEqual(bytes.subarray(img.protectedModeOffset), payload);
    assert.equal(h.heapEndPtr !== undefined, minor >= 1, `heap_end_ptr ${minor}`);
    assert.equal(h.cmdLinePtr !== undefined, minor >= 2);
    assert.equal(h.initrdAddrMax !== undefined, minor >= 3);
    assert.equal(h.syssize, Math.ceil(payload.length / 16));
    assert.equal(h.kernelAlignment !== undefined, minor >= 5);
    assert.equal(h.relocatableKernel !== undefined, minor >= 5);
    assert.equal(h.cmdlineSize, minor >= 6 ? 1000 : undefined);
    assert.equal(effectiveCmdlineSize(h), minor >= 6 ? 1000 : 255);
    assert.equal(h.hardwareSubarch !== undefined, minor >= 7);
    assert.equal(h.payloadOffset !== undefined, minor >= 8);
    assert.equal(h.setupData !== undefined, minor >= 9);
    assert.equal(h.initSize, minor >= 10 ? 0x8000 : undefined);
    assert.equal(h.prefAddress !== undefined, minor >= 10);
    assert.equal(h.minAlignment !== undefined, minor >= 10);
    assert.equal(h.handoverOffset !== undefined, minor >= 11);
    assert.equal(h.xloadflags, minor >= 12 ? 3 : undefined);
    assert.equal(h.kernelInfoOffset !== undefined, minor >= 15);
    assert.equal(h.setupMoveSize !== undefined, minor <= 1);
    assert.equal(effectiveInitrdAddrMax(h), minor >= 3 ? h.initrdAddrMax : 0x37ffffff);
  }
});

Deno.test("bzImage: setup_sects 0 means 4; larger setup is honoured", () => {
  const zero = parseBzImage(buildBzImage({ version: 0x0206, payload, setupSects: 0 }));
  assert.equal(zero.header.setupSects, 0);
  assert.equal(zero.header.setupSectors, 4);
  assert.equal(zero.realModeSize, 0xa00);
  const big = parseBzImage(buildBzImage({ version: 0x0206, payload, setupSects: 16 }));
  assert.equal(big.realModeSize, 17 * 512);
  assert.equal(big.protectedModeSize, payload.length);
});

Deno.test("bzImage: zImage (loadflags 0) parses with loadedHigh false", () => {
  const img = parseBzImage(buildBzImage({ version: 0x0201, payload, loadflags: 0 }));
  assert.equal(img.loadedHigh, false);
});

Deno.test("bzImage: header fields are read at their documented offsets", () => {
  const bytes = buildBzImage({
    version: 0x020f,
    payload,
    code32Start: 0x123000,
    kernelAlignment: 0x200000,
    relocatableKernel: 1,
    prefAddress: 0x1000000n,
    initSize: 0x2000000,
    xloadflags: 0x13,
    kernelVersionString: "6.1.0-test",
  });
  const v = new DataView(bytes.buffer);
  assert.equal(v.getUint32(0x214, true), 0x123000);
  assert.equal(v.getUint32(0x230, true), 0x200000);
  assert.equal(v.getUint32(0x260, true), 0x2000000);
  assert.equal(v.getUint16(0x236, true), 0x13);
  assert.equal(v.getUint32(0x202, true), 0x53726448);
  const h = parseBzImage(bytes).header;
  const verOff = h.kernelVersion! + 0x200;
  assert.equal(new TextDecoder().decode(bytes.subarray(verOff, verOff + 10)), "6.1.0-test");
  assert.equal(h.code32Start, 0x123000);
  assert.equal(h.prefAddress, 0x1000000n);
});

const good = buildBzImage({ version: 0x020a, payload });
function mutate(f: (b: Uint8Array, v: DataView) => Uint8Array | void): Uint8Array {
  const b = good.slice();
  return f(b, new DataView(b.buffer)) ?? b;
}

Deno.test("bzImage: corrupt images give ImageFormatError with the byte offset", () => {
  const cases: [string, Uint8Array, number, RegExp][] = [
    ["short", good.subarray(0, 100), 100, /truncated/],
    ["boot flag", mutate((_, v) => v.setUint16(0x1fe, 0x1234, true)), 0x1fe, /boot flag/],
    ["setup beyond EOF", mutate((b) => b.subarray(0, 0x900)), 0x1f1, /beyond the end/],
    ["setup_sects 200", mutate((b) => void (b[0x1f1] = 200)), 0x1f1, /beyond the end/],
    ["version 3.0", mutate((_, v) => v.setUint16(0x206, 0x0300, true)), 0x206, /version/],
    ["header too short", mutate((b) => void (b[0x201] = 4)), 0x201, /too short/],
    ["alignment", mutate((_, v) => v.setUint32(0x230, 0x300000, true)), 0x230, /power of two/],
  ];
  for (const [name, bytes, offset, re] of cases) {
    assert.throws(() => parseBzImage(bytes), (e: unknown) => {
      assert.ok(e instanceof ImageFormatError, name);
      assert.ok(e instanceof SyntaxError);
      assert.equal(e.offset, offset, name);
      assert.match(e.message, re, name);
      return true;
    });
  }
});

Deno.test("bzImage: builder rejects impossible requests", () => {
  assert.throws(() => buildBzImage({ version: 0x0100, payload }), RangeError);
  assert.throws(
    () =>
      buildBzImage({ version: 0x0202, payload, setupSects: 1, setupCode: new Uint8Array(2000) }),
    RangeError,
  );
});
