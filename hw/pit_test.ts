import assert from "node:assert/strict";
import { Pit8254, PIT_INPUT_HZ, pitTicksAt, pitTickTime } from "./pit.ts";
import { I8259Pair } from "./i8259.ts";
import { IoBus } from "./io_bus.ts";
import { VirtualClock } from "./clock.ts";
import type { Snapshot } from "./fields.ts";
import { Trace } from "./trace.ts";

function rig() {
  const trace = new Trace({ full: true });
  const clock = new VirtualClock();
  const io = new IoBus({ trace });
  const edges: [number, boolean][] = [];
  const pit = new Pit8254({ trace, clock, irq0: (l) => edges.push([clock.now(), l]) });
  pit.attach(io);
  return {
    trace,
    clock,
    io,
    pit,
    edges,
    out: (port: number, v: number) => io.write(port, 1, v),
    inb: (port: number) => io.read(port, 1),
    /** Advance to the time of input pulse k. */
    at: (k: number) => clock.advanceTo(pitTickTime(k)),
    channel: (i: number) => (pit.snapshot().channels as Snapshot[])[i],
  };
}

type Rig = ReturnType<typeof rig>;

/** Counter latch command + LSB + MSB read. */
function latchRead(r: Rig, ch: number): number {
  r.out(0x43, ch << 6);
  const lo = r.inb(0x40 + ch);
  return lo | (r.inb(0x40 + ch) << 8);
}

function program(r: Rig, ch: number, mode: number, count: number, bcd = false): void {
  r.out(0x43, (ch << 6) | 0x30 | (mode << 1) | (bcd ? 1 : 0));
  r.out(0x40 + ch, count & 0xff);
  r.out(0x40 + ch, count >> 8);
}

Deno.test("pit: pulse count and pulse times are exact integer conversions", () => {
  const F = BigInt(PIT_INPUT_HZ);
  const G = 1_000_000_000n;
  const ks = [0, 1, 2, 17, 18, 11931, 11932, 1193181, 1193182, 1193183, 4_295_032_833];
  for (let k = 1; k < 2_000_000_000_000; k = Math.floor(k * 3.7) + 11) ks.push(k);
  for (const k of ks) {
    const t = pitTickTime(k);
    const ref = (BigInt(k) * G + F - 1n) / F; // ceil(k * 1e9 / F)
    assert.equal(BigInt(t), ref, `tickTime(${k})`);
    assert.equal(pitTicksAt(t), k, `ticksAt(tickTime(${k}))`);
    if (k > 0) assert.equal(pitTicksAt(t - 1), k - 1, `ticksAt(tickTime(${k}) - 1)`);
    assert.equal(BigInt(pitTicksAt(t + 123)), (BigInt(t + 123) * F) / G);
  }
  assert.equal(pitTicksAt(1_000_000_000), 1193182);
  assert.equal(pitTicksAt(3600 * 1e9), 3600 * 1193182);
  assert.equal(pitTicksAt(999.9), 1, "fractional ns are floored");
  assert.equal(pitTickTime(1), 839);
});

Deno.test("pit: mode 2 on channel 0 gives an IRQ0 rising edge every N pulses", () => {
  const r = rig();
  const N = 11932;
  r.clock.advanceTo(5000); // program at pulse 5
  const w = pitTicksAt(5000);
  program(r, 0, 2, N);
  r.clock.advanceTo(pitTickTime(w + 3 * N + 2));
  const expected: [number, boolean][] = [[5000, true]];
  for (let k = 1; k <= 3; k++) {
    expected.push([pitTickTime(w + k * N), false]); // CE reaches 1: one-pulse low
    expected.push([pitTickTime(w + k * N + 1), true]); // reload: OUT high again
  }
  assert.deepEqual(r.edges, expected);
  const ch = r.channel(0);
  assert.equal(ch.mode, 2);
  assert.equal(ch.count, N);
  assert.equal(ch.output, true);
  assert.ok(r.trace.all().some((e) => e.message.includes("pit control ch0 lsb-msb mode 2 binary")));
});

Deno.test("pit: mode 2 counts N..1 and a new count takes effect at the end of the period", () => {
  const r = rig();
  program(r, 0, 2, 1000);
  const cases: [number, number][] = [[1, 1000], [2, 999], [1000, 1], [1001, 1000], [1500, 501]];
  for (const [k, v] of cases) {
    r.at(k);
    assert.equal(latchRead(r, 0), v, `pulse ${k}`);
  }
  // Reprogram mid-period (pulse 1500): the period ending at pulse 2001 is unaffected.
  r.out(0x40, 100 & 0xff);
  r.out(0x40, 0);
  assert.equal(r.channel(0).null_count, true);
  r.at(2000);
  assert.equal(latchRead(r, 0), 1);
  r.at(2001);
  assert.equal(latchRead(r, 0), 100);
  assert.equal(r.channel(0).null_count, false);
  r.edges.length = 0;
  r.at(2202);
  assert.deepEqual(r.edges, [
    [pitTickTime(2100), false],
    [pitTickTime(2101), true],
    [pitTickTime(2200), false],
    [pitTickTime(2201), true],
  ]);
});

Deno.test("pit: mode 3 square wave, even and odd counts", () => {
  const cases: { n: number; high: number }[] = [
    { n: 100, high: 50 },
    { n: 101, high: 51 }, // odd: high (N+1)/2, low (N-1)/2
    { n: 0, high: 32768 }, // count 0 = 65536
  ];
  for (const c of cases) {
    const r = rig();
    program(r, 0, 3, c.n);
    const n = c.n === 0 ? 65536 : c.n;
    r.at(1 + 2 * n + 1);
    assert.deepEqual(r.edges, [
      [0, true],
      [pitTickTime(1 + c.high), false],
      [pitTickTime(1 + n), true],
      [pitTickTime(1 + n + c.high), false],
      [pitTickTime(1 + 2 * n), true],
    ], `N=${c.n}`);
  }
});

Deno.test("pit: mode 3 counter decrements by two", () => {
  const r = rig();
  program(r, 0, 3, 10);
  const even: [number, number][] = [[1, 10], [2, 8], [5, 2], [6, 10], [7, 8]];
  for (const [k, v] of even) {
    r.at(k);
    assert.equal(latchRead(r, 0), v, `even pulse ${k}`);
  }
  const o = rig();
  program(o, 0, 3, 7);
  const odd: [number, number][] = [[1, 6], [2, 4], [4, 0], [5, 6], [7, 2], [8, 6]];
  for (const [k, v] of odd) {
    o.at(k);
    assert.equal(latchRead(o, 0), v, `odd pulse ${k}`);
  }
});

Deno.test("pit: mode 0 interrupt on terminal count", () => {
  const r = rig();
  program(r, 0, 3, 2); // leave OUT high first
  r.edges.length = 0;
  r.at(10);
  r.out(0x43, 0x30); // ch0 lsb/msb mode 0
  assert.deepEqual(r.edges.slice(-1), [[pitTickTime(10), false]], "control word: OUT low");
  r.edges.length = 0;
  r.out(0x40, 0x00);
  r.out(0x40, 0x01); // N = 256 written at pulse 10
  r.at(10 + 256 + 50);
  assert.deepEqual(r.edges, [[pitTickTime(10 + 1 + 256), true]]);
  // The counter keeps counting (wraps) after terminal count; OUT stays high.
  assert.equal(latchRead(r, 0), 0x10000 - 49, "49 pulses past terminal count");
  r.at(10 + 257 + 70000);
  assert.equal(r.edges.length, 1);
});

Deno.test("pit: mode 0 first byte of a two-byte count stops counting and lowers OUT", () => {
  const r = rig();
  program(r, 0, 0, 5);
  r.at(20);
  assert.equal(r.edges.at(-1)?.[1], true);
  r.out(0x40, 0x64); // LSB of the new count
  assert.deepEqual(r.edges.at(-1), [pitTickTime(20), false]);
  const frozen = latchRead(r, 0);
  r.at(500);
  assert.equal(latchRead(r, 0), frozen, "counting disabled until the MSB is written");
  r.out(0x40, 0x00); // N = 100 at pulse 500
  r.at(601);
  assert.deepEqual(r.edges.at(-1), [pitTickTime(601), true]);
});

Deno.test("pit: modes 4 and 5 strobe once for one pulse", () => {
  const r = rig();
  program(r, 0, 4, 50); // written at pulse 0, loaded at 1
  r.at(200);
  assert.deepEqual(r.edges, [[0, true], [pitTickTime(51), false], [pitTickTime(52), true]]);
  // Mode 5 on channel 2: triggered by the gate (port 0x61 bit 0).
  program(r, 2, 5, 30);
  r.at(300);
  assert.equal(r.inb(0x61) & 0x20, 0x20, "no trigger yet");
  r.out(0x61, 0x01); // rising gate at pulse 300: load at 301, strobe at 331
  r.at(330);
  assert.equal(r.inb(0x61) & 0x20, 0x20);
  r.at(331);
  assert.equal(r.inb(0x61) & 0x20, 0x00);
  r.at(332);
  assert.equal(r.inb(0x61) & 0x20, 0x20);
});

Deno.test("pit: mode 1 one-shot on channel 2 is retriggered by the gate", () => {
  const r = rig();
  program(r, 2, 1, 100);
  const out2 = () => (r.inb(0x61) >> 5) & 1;
  assert.equal(out2(), 1);
  r.at(10);
  r.out(0x61, 0x01); // trigger at 10: OUT low from 11 to 111
  r.at(11);
  assert.equal(out2(), 0);
  r.at(60);
  r.out(0x61, 0x00);
  r.out(0x61, 0x01); // retrigger at 60: OUT low until 161
  r.at(111);
  assert.equal(out2(), 0);
  r.at(160);
  assert.equal(out2(), 0);
  r.at(161);
  assert.equal(out2(), 1);
});

Deno.test("pit: counter latch holds the value until read; second latch ignored", () => {
  const r = rig();
  program(r, 0, 2, 1000);
  r.at(101);
  r.out(0x43, 0x00); // latch ch0: CE = 900
  r.at(300);
  r.out(0x43, 0x00); // ignored: already latched
  assert.equal(r.channel(0).latched, 900);
  assert.equal(r.inb(0x40), 900 & 0xff);
  r.at(400);
  assert.equal(r.inb(0x40), 900 >> 8);
  assert.equal(r.channel(0).latched, null);
  // Unlatched reads follow the counter: LSB then MSB of the live value.
  r.at(501);
  assert.equal(r.inb(0x40) | (r.inb(0x40) << 8), 500);
});

Deno.test("pit: LSB-only and MSB-only access modes", () => {
  const r = rig();
  r.out(0x43, 0x14); // ch0 lsb only, mode 2
  r.out(0x40, 200);
  assert.equal(r.channel(0).count, 200);
  r.at(51);
  assert.equal(r.inb(0x40), 150);
  r.out(0x43, 0x24); // ch0 msb only, mode 2
  r.out(0x40, 0x02); // N = 0x200
  assert.equal(r.channel(0).count, 0x200);
  r.at(51 + 1 + 0x100);
  assert.equal(r.inb(0x40), 0x01);
  assert.equal(r.channel(0).access, "msb");
});

Deno.test("pit: read-back command latches status and count", () => {
  const r = rig();
  r.out(0x43, 0xb6); // ch2 lsb/msb mode 3 binary
  r.out(0x43, 0xe8); // read-back status only, ch2
  assert.equal(r.inb(0x42), 0x80 | 0x40 | 0x36, "OUT high, null count, control bits");
  r.out(0x42, 0x00);
  r.out(0x42, 0x10); // N = 4096, gate low: loaded, not counting
  r.at(5);
  r.out(0x43, 0xc8); // read-back count + status, ch2
  r.out(0x43, 0xc8); // ignored: both already latched
  assert.equal(r.inb(0x42), 0x80 | 0x36, "status first: count loaded, null count clear");
  assert.equal(r.inb(0x42), 0x00);
  assert.equal(r.inb(0x42), 0x10);
  // Several counters at once: ch0 and ch1 counts.
  program(r, 0, 2, 300);
  program(r, 1, 2, 18);
  r.at(105);
  r.out(0x43, 0xd6); // count only (bit 4 set = no status), ch0 + ch1 (bits 1, 2)
  assert.equal(r.channel(0).latched, 300 - 99);
  assert.equal(r.channel(1).latched, 18 - ((105 - 6) % 18));
  assert.equal(r.channel(2).latched, null, "ch2 not selected");
  assert.equal(r.channel(0).status_latched, null);
});

Deno.test("pit: BCD counting", () => {
  const r = rig();
  program(r, 0, 2, 0x1000, true); // 1000 decimal
  r.at(1);
  assert.equal(latchRead(r, 0), 0x1000);
  r.at(2);
  assert.equal(latchRead(r, 0), 0x0999);
  r.at(1 + 1000 - 12);
  assert.equal(latchRead(r, 0), 0x0012);
  assert.equal(r.channel(0).bcd, true);
  // Count 0 in BCD is 10000: period 10000 pulses.
  const z = rig();
  program(z, 0, 2, 0x0000, true);
  z.at(10002);
  assert.deepEqual(z.edges, [[0, true], [pitTickTime(10000), false], [pitTickTime(10001), true]]);
});

Deno.test("pit: Linux-style TSC calibration through channel 2 gate and port 0x61 OUT2", () => {
  const r = rig();
  r.at(1000);
  // outb((inb(0x61) & ~0x02) | 0x01, 0x61): gate high, speaker off
  r.out(0x61, (r.inb(0x61) & ~0x02) | 0x01);
  r.out(0x43, 0xb0); // ch2 lsb/msb mode 0 binary
  const latch = 11932; // 10 ms
  r.out(0x42, latch & 0xff);
  r.out(0x42, latch >> 8);
  assert.equal(r.inb(0x61) & 0x21, 0x01, "OUT2 low, gate bit reads back");
  r.at(1000 + latch);
  assert.equal(r.inb(0x61) & 0x20, 0x00);
  r.at(1000 + latch + 1);
  assert.equal(r.inb(0x61) & 0x20, 0x20);
  // Gate low stops mode 0 counting.
  program(r, 2, 0, 5000);
  r.at(20000);
  r.out(0x61, 0x00);
  const v = latchRead(r, 2);
  r.at(30000);
  assert.equal(latchRead(r, 2), v);
  r.out(0x61, 0x01);
  r.at(30100);
  assert.equal(latchRead(r, 2), v - 100);
});

Deno.test("pit: port 0x61 refresh bit toggles every 18 pulses", () => {
  const r = rig();
  const cases: [number, number][] = [[0, 0], [17, 0], [18, 1], [35, 1], [36, 0], [18 * 1001, 1]];
  for (const [k, bit] of cases) {
    r.at(k);
    assert.equal((r.inb(0x61) >> 4) & 1, bit, `pulse ${k}`);
  }
  r.out(0x61, 0xff);
  assert.equal(r.inb(0x61) & 0xcf, 0x0f, "bits 0-3 read back, 6-7 read 0");
  assert.equal(r.inb(0x43), 0xff, "control word register is write-only");
});

Deno.test("pit: IRQ0 edges stay exact after an hour of virtual time", () => {
  const r = rig();
  program(r, 0, 2, 0); // 65536 pulses: 18.2 Hz, the BIOS rate
  const hour = 3600 * 1e9;
  r.clock.advanceTo(hour);
  const k = Math.floor((pitTicksAt(hour) - 1) / 65536);
  assert.equal(k, 65543);
  assert.equal(r.edges.length, 1 + 2 * k);
  assert.deepEqual(r.edges.at(-1), [pitTickTime(k * 65536 + 1), true]);
  assert.deepEqual(r.edges.at(-2), [pitTickTime(k * 65536), false]);
});

Deno.test("pit: reset lowers IRQ0 and stops channel 0", () => {
  const r = rig();
  program(r, 0, 3, 100);
  r.at(20);
  assert.equal(r.edges.at(-1)?.[1], true);
  r.pit.reset();
  assert.deepEqual(r.edges.at(-1), [pitTickTime(20), false]);
  const n = r.edges.length;
  r.at(10000);
  assert.equal(r.edges.length, n, "no more edges");
  const ch = r.channel(0);
  assert.equal(ch.programmed, false);
  assert.equal(ch.output, false);
  assert.equal((r.pit.snapshot().port61 as number) & 0xef, 0, "port B cleared (refresh runs)");
});

Deno.test("pit + i8259: IRQ0 rising edges request interrupts at the programmed rate", () => {
  const trace = new Trace();
  const clock = new VirtualClock();
  const io = new IoBus({ trace });
  const pic = new I8259Pair({ trace });
  const pit = new Pit8254({ trace, clock, irq0: (l) => pic.setIrq(0, l) });
  pic.attach(io);
  pit.attach(io);
  const ints: number[] = [];
  pic.onOutputChange((l) => l && ints.push(clock.now()));
  for (const [port, v] of [[0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01], [0x21, 0xfe]]) {
    io.write(port, 1, v);
  }
  // Mode 2, 1 kHz: each period's rising edge raises INT; serviced with INTA + EOI.
  io.write(0x43, 1, 0x34);
  io.write(0x40, 1, 1193 & 0xff);
  io.write(0x40, 1, 1193 >> 8);
  for (let k = 1; k <= 3; k++) {
    clock.advanceTo(pitTickTime(k * 1193 + 1));
    assert.equal(pic.intOutput, true, `period ${k}`);
    assert.equal(pic.acknowledge(), 0x30);
    io.write(0x20, 1, 0x20);
    assert.equal(pic.intOutput, false, "line stays high: no new request until the next edge");
  }
  // The control word itself takes OUT0 from its power-on low to high: a first edge at t=0.
  assert.deepEqual(ints, [0, ...[1, 2, 3].map((k) => pitTickTime(k * 1193 + 1))]);
  // Mode 3: a request not serviced within the high half-cycle goes away with the line.
  io.write(0x43, 1, 0x36);
  io.write(0x40, 1, 100);
  io.write(0x40, 1, 0);
  const p = pitTicksAt(clock.now());
  clock.advanceTo(pitTickTime(p + 1 + 100)); // rising edge at the start of the 2nd period
  assert.equal(pic.intOutput, true);
  clock.advanceTo(pitTickTime(p + 1 + 150)); // low half
  assert.equal(pic.intOutput, false);
  assert.equal(pic.acknowledge(), 0x37, "default IR7 if the CPU acknowledges now");
});

Deno.test("pit: mode 3 new count takes effect at the end of the current half-cycle", () => {
  const cases: { writeAt: number; edges: [number, boolean][] }[] = [
    // Written in the high half (pulses 1-50 of N=100): old fall at 51, then N=40 halves of 20.
    { writeAt: 20, edges: [[51, false], [71, true], [91, false], [111, true]] },
    // Written in the low half: the old period ends at 101, then the new count starts high.
    { writeAt: 60, edges: [[101, true], [121, false], [141, true]] },
  ];
  for (const c of cases) {
    const r = rig();
    program(r, 0, 3, 100);
    r.at(c.writeAt);
    r.edges.length = 0;
    r.out(0x40, 40);
    r.out(0x40, 0);
    r.at(c.edges.at(-1)![0]);
    assert.deepEqual(
      r.edges,
      c.edges.map(([k, l]) => [pitTickTime(k), l]),
      `write at ${c.writeAt}`,
    );
  }
});
