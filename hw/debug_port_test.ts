import assert from "node:assert/strict";
import { DebugPort } from "./debug_port.ts";
import { IoBus } from "./io_bus.ts";
import { Trace } from "./trace.ts";

function rig() {
  const trace = new Trace({ full: true });
  const io = new IoBus({ trace });
  const exits: number[] = [];
  const dbg = new DebugPort({ trace, onExit: (c) => exits.push(c) });
  dbg.attach(io);
  return { trace, io, dbg, exits };
}

Deno.test("debug port: bytes written to 0xe9 become console text", () => {
  const { io, dbg, trace } = rig();
  for (const b of [0x68, 0x69, 0x0a, 0xe9]) io.write(0xe9, 1, b);
  io.write(0xe9, 2, 0x4121); // only the low byte reaches 0xe9
  assert.equal(dbg.output, "hi\n\u00e9!");
  assert.equal(io.read(0xe9, 1), 0xe9);
  assert.ok(trace.all().some((e) => e.category === "console" && e.message.endsWith(": hi")));
  assert.equal(dbg.exitCode, undefined);
  assert.deepEqual(dbg.snapshot(), { output: "hi\n\u00e9!", exit_code: null });
});

Deno.test("debug port: a write to 0xf4 records the written value as the exit code", () => {
  const cases: { size: 1 | 2 | 4; value: number; code: number }[] = [
    { size: 1, value: 0x00, code: 0 },
    { size: 1, value: 0x31, code: 0x31 },
    { size: 2, value: 0x1234, code: 0x1234 },
    { size: 4, value: 0xdeadbeef, code: 0xdeadbeef },
  ];
  for (const c of cases) {
    const { io, dbg, exits } = rig();
    io.write(0xf4, c.size, c.value);
    assert.equal(dbg.exitCode, c.code);
    assert.deepEqual(exits, [c.code]);
    assert.equal(dbg.snapshot().exit_code, c.code);
  }
});

Deno.test("debug port: reset clears console and exit code", () => {
  const { io, dbg } = rig();
  io.write(0xe9, 1, 0x41);
  io.write(0xf4, 1, 3);
  dbg.reset();
  assert.equal(dbg.output, "");
  assert.equal(dbg.exitCode, undefined);
  assert.equal(io.read(0xf4, 1), 0xff);
});
