import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { freeRanges, memparse, parseCmdline } from "./boot.ts";

Deno.test("memparse: bases and suffixes", () => {
  const table: [string, bigint, string][] = [
    ["64M@16M", 64n << 20n, "@16M"],
    ["0x1000", 0x1000n, ""],
    ["010k", 8n << 10n, ""],
    ["1G", 1n << 30n, ""],
    ["x", 0n, "x"],
  ];
  for (const [s, v, rest] of table) assertEquals(memparse(s), { value: v, rest }, s);
});

Deno.test("parseCmdline: crashkernel= only with @addr and only when the version has it", () => {
  assertEquals(parseCmdline("crashkernel=64M@16M", { crashkernel: true }).crashkernel, {
    start: 16n << 20n,
    end: (80n << 20n) - 1n,
  });
  assertEquals(parseCmdline("crashkernel=64M", { crashkernel: true }).crashkernel, undefined);
  assertEquals(parseCmdline("crashkernel=64M@16M", { crashkernel: false }).crashkernel, undefined);
});

Deno.test("parseCmdline: reboot=s[N[N]]", () => {
  const table: [string, number][] = [
    ["", -1],
    ["reboot=s", -1],
    ["reboot=s1", 1],
    ["reboot=s12", 12],
    ["reboot=b,s3", 3],
    ["reboot=w", -1],
  ];
  for (const [s, cpu] of table) {
    assertEquals(parseCmdline(s, { crashkernel: true }).rebootCpu, cpu, s);
  }
  const c = parseCmdline("noapic nolapic lapic", { crashkernel: false });
  assertEquals([c.noapic, c.nolapic, c.lapic], [true, true, true]);
});

Deno.test("freeRanges: RAM above the kernel, without reservations", () => {
  const r = freeRanges(
    [
      { base: 0, size: 0x9f000, type: "ram" },
      { base: 0x100000, size: 0x7f00000, type: "ram" },
      { base: 0x8000000, size: 0x1000, type: "reserved" },
    ],
    { bootmemEnd: 0x400000, top: 0x8000000, reserved: [{ start: 0x1000000, end: 0x2000000 }] },
  );
  assertEquals(r, [{ start: 0x400000, end: 0x1000000 }, { start: 0x2000000, end: 0x8000000 }]);
});
