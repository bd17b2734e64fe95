import assert from "node:assert/strict";
import { CHUNK_SIZE, PAGE_SIZE, PhysicalMemory } from "./memory.ts";

const TIB = 2 ** 40;

Deno.test("untouched memory reads zero and allocates nothing", () => {
  const mem = new PhysicalMemory({ addressSpace: TIB });
  assert.equal(mem.read8(TIB - 1), 0);
  assert.equal(mem.read32(0x12345678), 0);
  assert.equal(mem.read64(TIB - 8), 0n);
  assert.equal(mem.read32be(0x1000), 0);
  assert.deepEqual(mem.readBytes(TIB - 16, 16), new Uint8Array(16));
  assert.equal(mem.isZero(0, 64 * CHUNK_SIZE), true);
  assert.equal(mem.allocatedBytes, 0);
});

Deno.test("a write near the top of 1 TiB allocates exactly one chunk", () => {
  const mem = new PhysicalMemory({ addressSpace: TIB });
  mem.write32(TIB - 4, 0xcafef00d);
  assert.equal(mem.read32(TIB - 4), 0xcafef00d);
  assert.equal(mem.allocatedBytes, CHUNK_SIZE);
});

Deno.test("little- and big-endian accessors, including across a chunk boundary", () => {
  const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
  const cases: [number, number][] = [[0x1000, 0x11223344], [CHUNK_SIZE - 2, 0xa1b2c3d4], [
    CHUNK_SIZE - 1,
    0xdeadbeef,
  ], [CHUNK_SIZE - 3, 0x01020304]];
  for (const [addr, v] of cases) {
    mem.write32(addr, v);
    assert.equal(mem.read32(addr), v, `read32 at ${addr.toString(16)}`);
    assert.equal(mem.read8(addr), v & 0xff);
    assert.equal(
      mem.read32be(addr),
      ((v & 0xff) << 24 | (v >>> 8 & 0xff) << 16 | (v >>> 16 & 0xff) << 8 | v >>> 24) >>> 0,
    );
    mem.write32be(addr, v);
    assert.equal(mem.read32be(addr), v);
    assert.equal(mem.read8(addr), v >>> 24);
    mem.write16(addr, 0xbeef);
    assert.equal(mem.read16(addr), 0xbeef);
    assert.equal(mem.read16be(addr), 0xefbe);
  }
  mem.write64(CHUNK_SIZE - 4, 0x0123456789abcdefn);
  assert.equal(mem.read64(CHUNK_SIZE - 4), 0x0123456789abcdefn);
  assert.equal(mem.read32(CHUNK_SIZE - 4), 0x89abcdef);
  mem.write64be(0x2000, 0x0123456789abcdefn);
  assert.equal(mem.read64be(0x2000), 0x0123456789abcdefn);
  assert.equal(mem.read8(0x2000), 0x01);
});

Deno.test("accesses outside the address space throw RangeError", () => {
  const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
  assert.throws(() => mem.read8(2 ** 32), RangeError);
  assert.throws(() => mem.write8(2 ** 32, 1), RangeError);
  assert.throws(() => mem.readBytes(2 ** 32 - 2, 4), RangeError);
  assert.throws(() => mem.fill(-1, 4), RangeError);
});

Deno.test("copy has memmove semantics in both directions and across chunks", () => {
  for (
    const [src, dst, len] of [[0x1000, 0x1004, 64], [0x1004, 0x1000, 64], [
      CHUNK_SIZE - 100,
      CHUNK_SIZE * 3 - 50,
      300,
    ], [CHUNK_SIZE - 10, CHUNK_SIZE - 5, 3 * CHUNK_SIZE]]
  ) {
    const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
    const data = new Uint8Array(len);
    for (let i = 0; i < len; i++) data[i] = (i * 7 + 3) & 0xff;
    mem.writeBytes(src, data);
    mem.copy(dst, src, len);
    assert.deepEqual(mem.readBytes(dst, len), data, `copy ${src}->${dst} len ${len}`);
  }
});

Deno.test("copying untouched memory over untouched memory allocates nothing; over data it zeroes", () => {
  const mem = new PhysicalMemory({ addressSpace: 2 ** 36 });
  mem.copy(0x1_0000_0000, 0x2000_0000, 8 * CHUNK_SIZE);
  assert.equal(mem.allocatedBytes, 0);
  mem.write32(0x3000, 0xffffffff);
  mem.copy(0x3000, 0x8000_0000, PAGE_SIZE);
  assert.equal(mem.read32(0x3000), 0);
});

Deno.test("fill with zero on untouched memory allocates nothing; non-zero fill allocates", () => {
  const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
  mem.fill(0, 16 * CHUNK_SIZE, 0);
  assert.equal(mem.allocatedBytes, 0);
  mem.fill(0x500, 10, 0xab);
  assert.equal(mem.read8(0x500), 0xab);
  assert.equal(mem.read8(0x509), 0xab);
  assert.equal(mem.read8(0x50a), 0);
  assert.equal(mem.isZero(0x500, 10), false);
});

Deno.test("writes to a marked code page notify listeners once per marking", () => {
  const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
  const hits: number[] = [];
  mem.onCodeWrite((p) => hits.push(p));
  mem.markCode(0x7c00);
  assert.equal(mem.isCode(0x7fff), true);
  mem.write8(0x8000, 1); // next page: no notification
  assert.deepEqual(hits, []);
  mem.write32(0x7ffe, 0x11223344); // straddles 0x7000 and 0x8000 pages
  assert.deepEqual(hits, [7]);
  mem.write8(0x7c00, 1); // mark was cleared
  assert.deepEqual(hits, [7]);
  for (
    const write of [
      () => mem.writeBytes(0x7100, new Uint8Array(4)),
      () => mem.fill(0x7000, 1),
      () => mem.copy(0x7800, 0x100000, 8),
      () => mem.write64(0x7008, 1n),
      () => mem.write32be(0x7010, 1),
    ]
  ) {
    mem.markCode(0x7000);
    write();
  }
  assert.deepEqual(hits, [7, 7, 7, 7, 7, 7]);
});
