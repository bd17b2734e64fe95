// CLI acceptance checks on copies of a bundled scenario, run on the real machine model.
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli as cli } from "./testdata/cli_harness.ts";

const HELLO = new URL("../scenarios/bootsector_hello.yaml", import.meta.url);

async function withCopy(edit: (text: string) => string, check: (file: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "copy.yaml");
    const text = await Deno.readTextFile(HELLO);
    const edited = edit(text);
    assert.notEqual(edited, text, "the edit must change the scenario");
    await Deno.writeTextFile(file, edited);
    await check(file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the bundled scenario passes as it is", async () => {
  const r = await cli([HELLO.pathname]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok {4}bootsector-hello \(\d+(\.\d)?m?s\)\n\n1 passed, 0 failed\n$/);
});

Deno.test("a misspelled key in a copy of a bundled scenario: file:line:col and a suggestion, exit 2", async () => {
  await withCopy((t) => t.replace("max_instructions", "max_instuctions"), async (file) => {
    const r = await cli([file]);
    assert.equal(r.code, 2);
    assert.ok(
      r.stdout.includes(
        `${file}:28:25: steps[1].run.max_instuctions: Unknown key: expected one of until, ` +
          `max_instructions, expect_error (did you mean "max_instructions"?)`,
      ),
      r.stdout,
    );
  });
});

Deno.test("a wrong expected value: path, expected and actual in hex, line:col, exit 1", async () => {
  await withCopy(
    (t) => t.replace("u8: 0xbe", "u8: 0xbf").replace("zf: 1", "zf: 0"),
    async (file) => {
      const r = await cli([file]);
      assert.equal(r.code, 1);
      assert.ok(
        r.stdout.includes(
          `${file}:32:59: cpu[0].eflags.zf: Mismatch\n      expected: 0x0\n      actual:   0x1\n`,
        ),
        r.stdout,
      );
      assert.ok(
        r.stdout.includes(
          `${file}:34:25: memory[0].u8: Mismatch\n      expected: 0xbf\n      actual:   0xbe\n`,
        ),
        r.stdout,
      );
      assert.match(r.stdout, /last trace events:\n.*\n/);
      assert.match(r.stdout, /\n0 passed, 1 failed\n$/);
    },
  );
});

Deno.test("an assembler error points into the YAML block scalar", async () => {
  await withCopy((t) => t.replace("lodsb", "lodsq"), async (file) => {
    const r = await cli([file]);
    assert.equal(r.code, 2);
    assert.match(
      r.stdout,
      new RegExp(
        `${file.replaceAll("/", "\\/")}:19:15: asm: Instruction not valid outside 64-bit mode`,
      ),
      r.stdout,
    );
  });
});

Deno.test("the bundled corpus: --jobs 2 gives the same JSON as --jobs 1; junit has one testcase per case", async () => {
  // A snapshot of the corpus (it grows while other work lands).
  const dir = await Deno.makeTempDir();
  try {
    for await (const e of Deno.readDir(new URL("../scenarios/", import.meta.url))) {
      if (e.isFile && e.name.endsWith(".yaml")) {
        await Deno.copyFile(new URL(`../scenarios/${e.name}`, import.meta.url), join(dir, e.name));
      }
    }
    const list = await cli(["--list", dir]);
    const cases = list.stdout.trim().split("\n").length;
    assert.ok(cases >= 5, list.stdout);
    const one = await cli(["--reporter", "json", "--jobs", "1", dir]);
    const two = await cli(["--reporter", "json", "--jobs", "2", dir]);
    assert.equal(two.stdout, one.stdout);
    assert.equal(JSON.parse(one.stdout).summary.total, cases);
    const junit = await cli(["--reporter", "junit", dir]);
    assert.equal([...junit.stdout.matchAll(/<testcase /g)].length, cases);
    assert.ok(junit.stdout.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites '));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
