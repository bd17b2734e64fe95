import assert from "node:assert/strict";
import {
  ApicBus,
  type ApicBusIoApic,
  type ApicBusLocalApic,
  type ApicMessage,
} from "./apic_bus.ts";

/** A minimal local APIC endpoint: physical ID match only, records what it accepted. */
class FakeLapic implements ApicBusLocalApic {
  readonly got: ApicMessage[] = [];
  onBus = true;
  softwareEnabled = true;
  focusChecking = false;
  focus = new Set<number>();
  constructor(public apicId: number, public arbitrationPriority = 0, public refuse = false) {}
  isFocus(vector: number): boolean {
    return this.focus.has(vector);
  }
  matchesDestination(destMode: "physical" | "logical", dest: number): boolean {
    return destMode === "physical" ? dest === 0xff || dest === this.apicId : false;
  }
  accept(message: ApicMessage): boolean {
    if (this.refuse) return false;
    this.got.push(message);
    return true;
  }
}

class FakeIoApic implements ApicBusIoApic {
  eois: number[] = [];
  retries = 0;
  eoi(vector: number): void {
    this.eois.push(vector);
  }
  retryPending(): void {
    this.retries++;
  }
}

const msg = (over: Partial<ApicMessage>): ApicMessage => ({
  vector: 0x40,
  delivery: "fixed",
  destMode: "physical",
  dest: 0,
  trigger: "edge",
  level: true,
  ...over,
});

Deno.test("apic bus routes by destination and shorthand", async (t) => {
  const table: { name: string; m: Partial<ApicMessage>; receivers: number[]; accepted: number }[] =
    [
      { name: "physical 2", m: { dest: 2 }, receivers: [2], accepted: 1 },
      { name: "broadcast", m: { dest: 0xff }, receivers: [0, 1, 2], accepted: 3 },
      { name: "nobody", m: { dest: 9 }, receivers: [], accepted: 0 },
      {
        name: "self from 1",
        m: { shorthand: "self", source: 1, dest: 2 },
        receivers: [1],
        accepted: 1,
      },
      { name: "all from 1", m: { shorthand: "all", source: 1 }, receivers: [0, 1, 2], accepted: 3 },
      {
        name: "all but self from 1",
        m: { shorthand: "all-but-self", source: 1 },
        receivers: [0, 2],
        accepted: 2,
      },
    ];
  for (const row of table) {
    await t.step(row.name, () => {
      const bus = new ApicBus();
      const l = [new FakeLapic(0), new FakeLapic(1), new FakeLapic(2)];
      l.forEach((x) => bus.addLocalApic(x));
      assert.equal(bus.send(msg(row.m)), row.accepted);
      assert.deepEqual(l.flatMap((x, i) => x.got.length > 0 ? [i] : []), row.receivers);
    });
  }
});

Deno.test("apic bus skips globally disabled APICs and counts refusals", () => {
  const bus = new ApicBus();
  const a = new FakeLapic(0);
  const b = new FakeLapic(1, 0, true);
  const c = new FakeLapic(2);
  c.onBus = false;
  [a, b, c].forEach((x) => bus.addLocalApic(x));
  assert.equal(bus.send(msg({ dest: 0xff })), 1);
  assert.equal(c.got.length, 0);
  assert.deepEqual(bus.targets(msg({ dest: 0xff })), [a, b]);
});

Deno.test("apic bus lowest priority arbitration", async (t) => {
  const table: {
    name: string;
    prio: number[];
    enabled?: boolean[];
    focus?: number;
    winner: number | undefined;
  }[] = [
    { name: "lowest priority wins", prio: [0x30, 0x10, 0x20], winner: 1 },
    { name: "tie goes to the lowest APIC ID", prio: [0x20, 0x10, 0x10], winner: 1 },
    {
      name: "software-disabled skipped",
      prio: [0x30, 0x10, 0x20],
      enabled: [true, false, true],
      winner: 2,
    },
    { name: "focus processor wins", prio: [0x30, 0x10, 0x20], focus: 0, winner: 0 },
    { name: "nobody enabled", prio: [0, 0, 0], enabled: [false, false, false], winner: undefined },
  ];
  for (const row of table) {
    await t.step(row.name, () => {
      const bus = new ApicBus();
      // Register in reverse ID order to show the tie-break is by APIC ID, not bus order.
      const l = [
        new FakeLapic(0, row.prio[0]),
        new FakeLapic(1, row.prio[1]),
        new FakeLapic(2, row.prio[2]),
      ];
      [...l].reverse().forEach((x) => bus.addLocalApic(x));
      l.forEach((x, i) => {
        x.softwareEnabled = row.enabled?.[i] ?? true;
        x.focusChecking = row.focus !== undefined;
      });
      if (row.focus !== undefined) l[row.focus].focus.add(0x40);
      const n = bus.send(msg({ delivery: "lowest", dest: 0xff }));
      assert.equal(n, row.winner === undefined ? 0 : 1);
      assert.deepEqual(
        l.flatMap((x, i) => x.got.length > 0 ? [i] : []),
        row.winner === undefined ? [] : [row.winner],
      );
    });
  }
});

Deno.test("apic bus broadcasts EOI and retries to every I/O APIC", () => {
  const bus = new ApicBus();
  const io = [new FakeIoApic(), new FakeIoApic()];
  io.forEach((x) => bus.addIoApic(x));
  bus.addIoApic(io[0]); // idempotent
  bus.broadcastEoi(0x51);
  bus.retryPending();
  assert.deepEqual(io.map((x) => x.eois), [[0x51], [0x51]]);
  assert.deepEqual(io.map((x) => x.retries), [1, 1]);
});

Deno.test("apic bus addLocalApic is idempotent and gives bus indices", () => {
  const bus = new ApicBus();
  const a = new FakeLapic(4);
  const b = new FakeLapic(5);
  assert.equal(bus.addLocalApic(a), 0);
  assert.equal(bus.addLocalApic(b), 1);
  assert.equal(bus.addLocalApic(a), 0);
  assert.equal(bus.localApics.length, 2);
  assert.equal(bus.indexOf(b), 1);
});
