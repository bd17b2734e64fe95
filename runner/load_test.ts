import assert from "node:assert/strict";
import { join } from "node:path";
import { ScenarioLoadError, ScenarioSchemaError, ScenarioSyntaxError } from "./errors.ts";
import { loadScenario, loadScenarioFile } from "./load.ts";

const BASE = `apiVersion: kexec-scenario/v1
name: demo
machine:
  board: pc-legacy
  memory: 16M
steps:
  - power_on:
      image: { format: bootsector, asm: "hlt" }
  - run: { until: halt, max_instructions: 1_000 }
expect:
  cpu: { 0: { state: halted } }
`;

async function loadError(text: string, files: Record<string, string> = {}): Promise<Error> {
  try {
    await loadScenario(text, {
      file: "/s/x.yaml",
      readTextFile: (p) => {
        if (p in files) return Promise.resolve(files[p]);
        return Promise.reject(new Deno.errors.NotFound(p));
      },
    });
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the scenario to be rejected");
}

Deno.test("bad input gives a typed error naming file:line:col (never a stack trace)", async () => {
  const bomb = ["a: &a [x,x,x,x,x,x,x,x,x,x]"];
  for (const c of "bcdefgh") {
    const prev = String.fromCharCode(c.charCodeAt(0) - 1);
    bomb.push(
      `${c}: &${c} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`,
    );
  }
  const table: { name: string; text: string; type: unknown; message: RegExp }[] = [
    {
      name: "tab",
      text: BASE.replace("  board", "\tboard"),
      type: ScenarioSyntaxError,
      message: /^\/s\/x\.yaml:4:1: Tabs are not allowed/,
    },
    {
      name: "duplicate key",
      text: BASE + "name: again\n",
      type: ScenarioSyntaxError,
      message: /^\/s\/x\.yaml:12:1: Duplicate key/,
    },
    {
      name: "unknown key",
      text: BASE.replace("steps:", "stesp:"),
      type: ScenarioSchemaError,
      message:
        /^\/s\/x\.yaml:6:1: stesp: Unknown key: expected one of .* \(did you mean "steps"\?\)$/,
    },
    {
      name: "unknown nested key",
      text: BASE.replace("max_instructions", "max_instrutions"),
      type: ScenarioSchemaError,
      message:
        /^\/s\/x\.yaml:9:25: steps\[1\]\.run\.max_instrutions: Unknown key.*\(did you mean "max_instructions"\?\)$/,
    },
    {
      name: "wrong type",
      text: BASE.replace("memory: 16M", "memory: [1, 2]"),
      type: ScenarioSchemaError,
      message:
        /^\/s\/x\.yaml:5:12: machine\.memory\[0\]: Wrong type: got the integer 1: expected a map/,
    },
    {
      name: "wrong enum value",
      text: BASE.replace("until: halt", "until: hlat"),
      type: ScenarioSchemaError,
      message:
        /9:19: steps\[1\]\.run\.until: Unsupported value: the string "hlat": expected one of halt, .*\(did you mean "halt"\?\)/,
    },
    {
      name: "value that does not fit 64 bits",
      text: BASE.replace("memory: 16M", "memory: 0x1_0000_0000_0000_0000"),
      type: ScenarioSchemaError,
      message: /5:11: machine\.memory: Value does not fit in 64 bits/,
    },
    {
      name: "decimal value that does not fit 64 bits",
      text: BASE.replace("memory: 16M", "memory: 18446744073709551616"),
      type: ScenarioSchemaError,
      message: /5:11: machine\.memory: Value does not fit in 64 bits/,
    },
    {
      name: "bad size suffix",
      text: BASE.replace("memory: 16M", "memory: 16Q"),
      type: ScenarioSchemaError,
      message:
        /5:11: machine\.memory: Unknown size suffix: "Q".*expected a size suffix K, M, G or T/,
    },
    {
      name: "float",
      text: BASE.replace("memory: 16M", "memory: 1.5"),
      type: ScenarioSchemaError,
      message: /5:11: machine\.memory: Not an integer: 1\.5/,
    },
    {
      name: "empty file",
      text: "",
      type: ScenarioSyntaxError,
      message: /^\/s\/x\.yaml:1:1: Empty scenario file/,
    },
    {
      name: "only a comment",
      text: "# nothing\n",
      type: ScenarioSyntaxError,
      message: /Empty scenario file/,
    },
    {
      name: "top level list",
      text: "- a\n- b\n",
      type: ScenarioSyntaxError,
      message: /^\/s\/x\.yaml:1:1: The top level is a list: expected a map/,
    },
    {
      name: "top level scalar",
      text: "hello\n",
      type: ScenarioSyntaxError,
      message: /The top level is the string "hello": expected a map/,
    },
    {
      name: "alias bomb",
      text: bomb.join("\n") + "\n",
      type: ScenarioSyntaxError,
      message: /Aliases expand to too many nodes/,
    },
    {
      name: "unclosed flow",
      text: "a: [1\n",
      type: ScenarioSyntaxError,
      message: /^\/s\/x\.yaml:\d+:\d+: /,
    },
    {
      name: "missing key",
      text: BASE.replace(/machine:\n {2}board: pc-legacy\n {2}memory: 16M\n/, ""),
      type: ScenarioSchemaError,
      message: /^\/s\/x\.yaml:1:1: machine: Missing key: expected a map/,
    },
    {
      name: "unknown step",
      text: BASE.replace("- run:", "- rnu:"),
      type: ScenarioSchemaError,
      message: /9:5: steps\[1\]: Unknown step: rnu: .*\(did you mean "run"\?\)/,
    },
    {
      name: "no expectations",
      text: BASE.replace(/expect:[^]*$/, ""),
      type: ScenarioSchemaError,
      message: /expect: The scenario checks nothing/,
    },
    {
      name: "wrong apiVersion",
      text: BASE.replace("kexec-scenario/v1", "kexec-scenario/v2"),
      type: ScenarioSchemaError,
      message: /1:13: apiVersion: Unsupported apiVersion/,
    },
    {
      name: "unknown matrix axis",
      text: BASE.replace("board: pc-legacy", 'board: "${boad}"').replace(
        "name: demo",
        "name: demo\nmatrix: { board: [pc-legacy] }",
      ),
      type: ScenarioSchemaError,
      message: /machine\.board: Unknown matrix axis: \$\{boad\}.*\(did you mean "board"\?\)/,
    },
    {
      name: "extends a missing file",
      text: "extends: ./nope.yaml\n" + BASE,
      type: ScenarioLoadError,
      message: /^\/s\/x\.yaml:1:10: extends: File not found: \/s\/nope\.yaml/,
    },
  ];
  for (const c of table) {
    const e = await loadError(c.text);
    assert.ok(e instanceof (c.type as typeof Error), `${c.name}: got ${e.name}: ${e.message}`);
    assert.match(e.message, c.message, c.name);
    const pos = e as unknown as { file: string; line: number; column: number };
    assert.equal(pos.file, "/s/x.yaml", c.name);
    assert.ok(pos.line >= 1 && pos.column >= 1, `${c.name}: ${pos.line}:${pos.column}`);
  }
});

Deno.test("ScenarioSyntaxError is a SyntaxError with file, line and column", async () => {
  const e = await loadError("a: 1\na: 2\n");
  assert.ok(e instanceof SyntaxError);
  assert.deepEqual([(e as ScenarioSyntaxError).line, (e as ScenarioSyntaxError).column], [2, 1]);
});

Deno.test("extends: merges maps, replaces lists, keeps positions of the base file, detects cycles", async () => {
  const files: Record<string, string> = {
    "/s/base.yaml": "apiVersion: kexec-scenario/v1\nmachine:\n  board: pc-legacy\n  memory: 16M\n" +
      "steps:\n  - run: { max_instructions: 5 }\n  - run: { max_instructions: 6 }\n",
    "/s/a.yaml": "extends: ./b.yaml\nname: a\n",
    "/s/b.yaml": "extends: ./a.yaml\nname: b\n",
  };
  const child = "extends: ./base.yaml\nname: child\nmachine: { cpu: { count: 2 } }\n" +
    "steps:\n  - run: { max_instructions: 7 }\nexpect: { run: { reason: halted } }\n";
  const s = await loadScenario(child, {
    file: "/s/child.yaml",
    readTextFile: (p) => Promise.resolve(files[p] ?? Promise.reject(new Deno.errors.NotFound(p))),
  });
  const c = s.cases[0];
  assert.equal(c.scenario.machine.board, "pc-legacy");
  assert.equal(c.scenario.machine.memory, 16n << 20n);
  assert.equal(c.scenario.machine.cpu?.count, 2);
  assert.equal(c.steps.length, 1);
  assert.deepEqual(c.positions.valueAt(["machine", "memory"]), {
    file: "/s/base.yaml",
    line: 4,
    column: 11,
  });
  assert.deepEqual(c.positions.valueAt(["machine", "cpu", "count"]), {
    file: "/s/child.yaml",
    line: 3,
    column: 26,
  });

  const e = await loadError("extends: ./a.yaml\n" + BASE, files);
  assert.ok(e instanceof ScenarioLoadError);
  assert.match(
    e.message,
    /^\/s\/b\.yaml:1:10: extends: cycle: x\.yaml -> a\.yaml -> b\.yaml -> a\.yaml$/,
  );
});

Deno.test("matrix: one case per combination, with stable distinct names and substituted values", async () => {
  const text = BASE.replace(
    "name: demo",
    "name: demo\nmatrix:\n  cpu: [i486, pentium]\n  mem: [16M, 0x2000000]",
  )
    .replace("memory: 16M", 'memory: "${mem}"\n  cpu: { model: "${cpu}" }')
    .replace('asm: "hlt"', 'asm: "; ${cpu} with ${mem}"');
  const s = await loadScenario(text, { file: "m.yaml" });
  assert.deepEqual(s.cases.map((c) => c.name), [
    "demo[cpu=i486,mem=16M]",
    "demo[cpu=i486,mem=33554432]",
    "demo[cpu=pentium,mem=16M]",
    "demo[cpu=pentium,mem=33554432]",
  ]);
  assert.equal(s.cases[1].scenario.machine.memory, 0x2000000n);
  assert.equal(s.cases[2].scenario.machine.cpu?.model, "pentium");
  assert.equal(
    (s.cases[3].steps[0].args as { image: { asm: string } }).image.asm,
    "; pentium with 33554432",
  );
  assert.deepEqual(s.cases[0].matrix, { cpu: "i486", mem: "16M" });
});

Deno.test("integers stay exact through the loader, and block scalars know where their text starts", async () => {
  const text = BASE.replace(
    'image: { format: bootsector, asm: "hlt" }',
    "image:\n        format: payload\n        load: 0xffff_ffff_ffff_f000\n        asm: |\n          nop\n          hlt",
  );
  const s = await loadScenario(text, { file: "b.yaml" });
  const step = s.cases[0].steps[0] as { args: { image: { load?: bigint } } };
  assert.equal(step.args.image.load, 0xfffffffffffff000n);
  assert.deepEqual(s.cases[0].positions.get(["steps", 0, "power_on", "image", "asm"])?.text, {
    file: "b.yaml",
    line: 12,
    column: 11,
  });
});

Deno.test("loadScenarioFile reports a missing file without a stack trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(loadScenarioFile(join(dir, "none.yaml")), /File not found/);
    await Deno.writeTextFile(join(dir, "ok.yaml"), BASE);
    assert.equal((await loadScenarioFile(join(dir, "ok.yaml"))).name, "demo");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("no input gives anything but a scenario error (seeded mutation fuzz)", async () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const alphabet = [
    " ",
    "\t",
    "\n",
    ":",
    "-",
    "{",
    "}",
    "[",
    "]",
    "&a",
    "*a",
    "!!int",
    "0x",
    "_",
    "K",
    "'",
    '"',
    "#",
    "|",
    ">",
    "~",
    "null",
    "1e999",
    "${x}",
    "<<",
  ];
  const source = BASE.replace("name: demo", "name: demo\nmatrix: { x: [1, 2] }");
  for (let i = 0; i < 400; i++) {
    let text = source;
    for (let k = 0, n = 1 + rand(4); k < n; k++) {
      const at = rand(text.length);
      text = rand(2) === 0
        ? text.slice(0, at) + alphabet[rand(alphabet.length)] + text.slice(at)
        : text.slice(0, at) + text.slice(at + 1 + rand(6));
    }
    try {
      await loadScenario(text, { file: "fuzz.yaml" });
    } catch (e) {
      assert.ok(
        e instanceof ScenarioSyntaxError || e instanceof ScenarioSchemaError ||
          e instanceof ScenarioLoadError,
        `input ${JSON.stringify(text)} threw ${(e as Error)?.name}: ${(e as Error)?.message}`,
      );
      const err = e as ScenarioSyntaxError;
      assert.ok(err.line >= 0 && err.column >= 0);
    }
  }
});

Deno.test("the validated scenario carries validated steps in their written shape", async () => {
  const s = await loadScenario(BASE.replace("steps:\n", "steps:\n  - boot\n"), { file: "v.yaml" });
  const steps = s.cases[0].scenario.steps;
  assert.equal(steps[0], "boot");
  assert.deepEqual(steps[2], { run: { until: "halt", max_instructions: 1000 } });
  assert.deepEqual(s.cases[0].steps.map((x) => [x.op, x.index]), [["boot", 0], ["power_on", 1], [
    "run",
    2,
  ]]);
});
