import assert from "node:assert/strict";
import { VirtualClock } from "./clock.ts";
import { formatHex, RegisterValue } from "./fields.ts";
import { formatTraceEvent, Trace } from "./trace.ts";

Deno.test("clock fires events in time order, FIFO at equal times, and honours cancel", () => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  clock.schedule(300, () => fired.push("c"));
  clock.schedule(100, () => fired.push("a"));
  const h = clock.schedule(200, () => fired.push("cancelled"));
  clock.schedule(100, () => fired.push("b"));
  clock.cancel(h);
  assert.equal(clock.nextEventTime(), 100);
  clock.advanceTo(250);
  assert.deepEqual(fired, ["a", "b"]);
  assert.equal(clock.now(), 250);
  clock.advanceTo(1000);
  assert.deepEqual(fired, ["a", "b", "c"]);
  assert.equal(clock.nextEventTime(), Infinity);
});

Deno.test("an event scheduled by a callback for the same time still fires in this advance", () => {
  const clock = new VirtualClock();
  const times: number[] = [];
  clock.schedule(10, () => {
    times.push(clock.now());
    clock.schedule(clock.now() + 5, () => times.push(clock.now()));
  });
  clock.advanceTo(20);
  assert.deepEqual(times, [10, 15]);
});

Deno.test("register values extract named fields and format in hex", () => {
  const lvt = new RegisterValue(0x10700, 32, {
    vector: { lsb: 0, width: 8 },
    delivery: { lsb: 8, width: 3, values: { Fixed: 0, ExtINT: 7 } },
    masked: { lsb: 16, width: 1 },
  });
  assert.equal(lvt.field("delivery"), 7n);
  assert.equal(lvt.field("masked"), 1n);
  assert.equal(lvt.toString(), "0x00010700");
  assert.throws(() => lvt.field("nope"), RangeError);
  assert.equal(new RegisterValue(-1, 32).value, 0xffffffffn);
  assert.equal(formatHex(0xfen, 16), "0x00fe");
});

Deno.test("trace keeps the last events in order and the full log on request", () => {
  const trace = new Trace({ ring: 3, full: true });
  let t = 0;
  trace.now = () => t;
  for (let i = 0; i < 5; i++) {
    t = i * 10;
    trace.emit("irq", `event ${i}`, 0);
  }
  assert.deepEqual(trace.recent().map((e) => e.message), ["event 2", "event 3", "event 4"]);
  assert.equal(trace.all().length, 5);
  assert.equal(formatTraceEvent(trace.recent()[0]), "[t=20ns i=0 cpu0] irq: event 2");
});
