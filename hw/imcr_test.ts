import assert from "node:assert/strict";
import { Imcr } from "./imcr.ts";
import { IoBus } from "./io_bus.ts";
import { Trace } from "./trace.ts";

function rig(readable?: boolean) {
  const trace = new Trace({ full: true });
  const io = new IoBus({ trace });
  const imcr = new Imcr({ trace, readable });
  imcr.attach(io);
  const changes: boolean[] = [];
  imcr.onChange((pic) => changes.push(pic));
  return { trace, io, imcr, changes };
}

Deno.test("imcr: Linux imcr_pic_to_apic / imcr_apic_to_pic switch the mode", () => {
  const { io, imcr, changes } = rig();
  assert.equal(imcr.picMode, true, "power-on default is PIC mode");
  assert.deepEqual(imcr.snapshot(), { mode: "pic", select: 0, value: 0 });
  io.write(0x22, 1, 0x70);
  io.write(0x23, 1, 0x01);
  assert.equal(imcr.picMode, false);
  assert.deepEqual(imcr.snapshot(), { mode: "apic", select: 0x70, value: 1 });
  assert.equal(io.read(0x23, 1), 0x01);
  assert.equal(io.read(0x22, 1), 0x70);
  io.write(0x22, 1, 0x70);
  io.write(0x23, 1, 0x00);
  assert.equal(imcr.picMode, true);
  assert.deepEqual(changes, [false, true]);
});

Deno.test("imcr: only bit 0 of register 0x70 matters; other selects are ignored", () => {
  const cases: { select: number; data: number; pic: boolean; read: number }[] = [
    { select: 0x70, data: 0xff, pic: false, read: 0x01 },
    { select: 0x70, data: 0xfe, pic: true, read: 0x00 },
    { select: 0x71, data: 0x01, pic: true, read: 0xff },
    { select: 0x00, data: 0x01, pic: true, read: 0xff },
  ];
  for (const c of cases) {
    const { io, imcr } = rig();
    io.write(0x22, 1, c.select);
    io.write(0x23, 1, c.data);
    assert.equal(imcr.picMode, c.pic, `select ${c.select} data ${c.data}`);
    assert.equal(io.read(0x23, 1), c.read, `select ${c.select} data ${c.data}`);
  }
});

Deno.test("imcr: write-only variant reads 0xff; reset returns to PIC mode", () => {
  const { io, imcr, changes, trace } = rig(false);
  io.write(0x22, 1, 0x70);
  io.write(0x23, 1, 0x01);
  assert.equal(io.read(0x22, 1), 0xff);
  assert.equal(io.read(0x23, 1), 0xff);
  imcr.reset();
  assert.equal(imcr.picMode, true);
  assert.deepEqual(imcr.snapshot(), { mode: "pic", select: 0, value: 0 });
  assert.deepEqual(changes, [false, true]);
  assert.ok(trace.all().some((e) => e.message === "out 0x0023 <- 0x01: imcr IMCR APIC mode"));
});
