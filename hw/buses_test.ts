import assert from "node:assert/strict";
import { IoBus, type IoDevice, type IoSize } from "./io_bus.ts";
import { MmioBus, type MmioDevice, type MmioSize, PageKind } from "./mmio_bus.ts";
import { PhysicalMemory } from "./memory.ts";
import { Trace } from "./trace.ts";

Deno.test("unclaimed I/O ports read all ones for every size and are traced", () => {
  const trace = new Trace();
  const io = new IoBus({ trace });
  assert.equal(io.read(0x80, 1), 0xff);
  assert.equal(io.read(0x80, 2), 0xffff);
  assert.equal(io.read(0x80, 4), 0xffffffff);
  io.write(0x80, 1, 0x12);
  assert.equal(trace.count, 4);
  assert.match(trace.recent()[3].message, /out 0x0080 <- 0x12: no device/);
});

Deno.test("I/O devices get their ports, masked values, and double claims are refused", () => {
  const seen: [string, number, IoSize, number][] = [];
  const dev: IoDevice = {
    name: "dev",
    ioRead: (port, size) => (seen.push(["r", port, size, 0]), 0x5a),
    ioWrite: (port, size, value) => void seen.push(["w", port, size, value]),
  };
  const io = new IoBus();
  io.register(0x20, 2, dev);
  assert.equal(io.read(0x21, 1), 0x5a);
  io.write(0x10020, 1, 0x1ff); // port wraps to 16 bits, value masked to the size
  assert.deepEqual(seen, [["r", 0x21, 1, 0], ["w", 0x20, 1, 0xff]]);
  assert.throws(() => io.register(0x21, 1, { ...dev, name: "other" }), /claimed by dev/);
  assert.equal(io.deviceAt(0x22), undefined);
});

Deno.test("the physical bus dispatches memory, MMIO with the initiating CPU, and unclaimed", () => {
  const memory = new PhysicalMemory({ addressSpace: 2 ** 32 });
  const trace = new Trace();
  const bus = new MmioBus({ memory, trace });
  bus.addMemory(0, 0xa0000);
  bus.addMemory(0x100000, 0x1000000);
  const log: string[] = [];
  const dev: MmioDevice = {
    name: "lapic",
    mmioRead: (
      off: number,
      size: MmioSize,
      cpu: number,
    ) => (log.push(`r ${off} ${size} ${cpu}`), 0x14),
    mmioWrite: (off: number, size: MmioSize, v: number | bigint, cpu: number) =>
      void log.push(`w ${off} ${size} ${v} ${cpu}`),
  };
  bus.map(0xfee00000, 0x1000, dev);
  assert.equal(bus.classify(0x5000), PageKind.Memory);
  assert.equal(bus.classify(0xfee00030), PageKind.Mmio);
  assert.equal(bus.classify(0xb8000), PageKind.Unclaimed);
  bus.write(0x200000, 4, 0x11223344, 0);
  assert.equal(memory.read32(0x200000), 0x11223344);
  assert.equal(bus.read(0x200000, 2, 0), 0x3344);
  assert.equal(bus.readBE(0x200000, 4, 0), 0x44332211);
  assert.equal(bus.read(0xfee00030, 4, 3), 0x14);
  bus.write(0xfee000b0, 4, 0, 1);
  assert.deepEqual(log, ["r 48 4 3", "w 176 4 0 1"]);
  assert.equal(bus.read(0xb8000, 4, 0), 0xffffffff);
  assert.equal(bus.read(0xb8000, 8, 0), 0xffffffffffffffffn);
  assert.equal(bus.readBE(0xb8000, 2, 0), 0xffff);
  bus.write(0xb8000, 1, 0x41, 0);
  assert.equal(memory.read8(0xb8000), 0, "unclaimed writes are dropped");
  assert.equal(trace.recent().filter((e) => e.category === "unclaimed").length, 4);
  assert.throws(() => bus.map(0xfee00800, 0x10, { ...dev, name: "x" }), /overlaps lapic/);
  bus.unmap(dev);
  assert.equal(bus.classify(0xfee00030), PageKind.Unclaimed);
});
