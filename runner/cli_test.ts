import assert from "node:assert/strict";
import { join } from "node:path";
import { HELP, parseCli } from "./cli.ts";
import { runCli } from "./testdata/cli_harness.ts";
import { registerMachineProvider } from "./steps.ts";
import { fakeProvider } from "./testdata/fake_machine.ts";

registerMachineProvider(fakeProvider);
const SETUP = new URL("./testdata/fake_setup.ts", import.meta.url).href;

const scenario = (name: string, extra = "", expect = 'console: "hello\\n"') =>
  `# yaml-language-server: $schema=../schema/scenario.v1.json
apiVersion: kexec-scenario/v1
name: ${name}
tags: [fake]
${extra}machine: { board: fake }
steps:
  - power_on: { image: { format: bootsector, asm: "hello\\n" } }
  - run: { until: halt, max_instructions: 100 }
expect:
  ${expect}
`;

async function corpus(): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "a_good.yaml"), scenario("good"));
  await Deno.writeTextFile(
    join(dir, "b_matrix.yaml"),
    scenario("mat", "matrix: { n: [1, 2, 3] }\n"),
  );
  await Deno.writeTextFile(
    join(dir, "c_tagged.yaml"),
    scenario("other").replace("tags: [fake]", "tags: [other]"),
  );
  await Deno.writeTextFile(join(dir, "_base.yaml"), "not: a scenario\n");
  return dir;
}

const cli = (args: string[], env?: Record<string, string>) =>
  runCli(args, { env, setupModule: SETUP });

Deno.test("--help documents every option", () => {
  const opts = [
    "--filter",
    "--tag",
    "--list",
    "--jobs",
    "--shard",
    "--fail-fast",
    "--reporter",
    "--junit-path",
    "--trace",
    "--no-color",
    "--help",
  ];
  for (const o of opts) assert.ok(HELP.includes(o), o);
  for (const r of ["pretty", "dot", "tap", "junit", "json"]) assert.ok(HELP.includes(r), r);
});

Deno.test("bad usage exits 2 with a message", async () => {
  const table: [string[], RegExp][] = [
    [[], /no scenarios named/],
    [["all", "--jobs", "0"], /--jobs: expected an integer from 1 to 64/],
    [["all", "--reporter", "xml"], /--reporter: expected one of pretty, dot, tap, junit, json/],
    [["all", "--shard", "3/2"], /--shard: expected i\/n/],
    [["all", "--bogus"], /Unknown option '--bogus'/],
    [["all", "--filter", "/(/"], /--filter: invalid regular expression/],
    [["/nonexistent/dir/x.yaml"], /No scenario file, directory, glob or bundled scenario named/],
  ];
  for (const [args, re] of table) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, re, args.join(" "));
  }
});

Deno.test("pretty reporter: one line per case, then 'N passed, N failed' alone on a line; exit 0", async () => {
  const dir = await corpus();
  try {
    const r = await cli([dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.deepEqual(lines.slice(0, 5).map((l) => l.replace(/\(\d+(\.\d+)?m?s\)/, "(T)")), [
      "ok    good (T)",
      "ok    mat[n=1] (T)",
      "ok    mat[n=2] (T)",
      "ok    mat[n=3] (T)",
      "ok    other (T)",
    ]);
    assert.equal(lines.at(-1), "5 passed, 0 failed");
    assert.ok(!r.stdout.includes("\x1b["), "NO_COLOR respected");
    const colored = await cli([dir], { TERM: "xterm" });
    assert.ok(colored.stdout.includes("\x1b[32m"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--filter, --tag, --shard and --list select cases", async () => {
  const dir = await corpus();
  try {
    const names = async (...args: string[]) =>
      (await cli(["--list", ...args, ...(args.some((a) => a.includes("*")) ? [] : [dir])])).stdout
        .trim().split("\n").map((l) => l.split("\t")[0]);
    assert.deepEqual(await names(), ["good", "mat[n=1]", "mat[n=2]", "mat[n=3]", "other"]);
    assert.deepEqual(await names("--filter", "mat"), ["mat[n=1]", "mat[n=2]", "mat[n=3]"]);
    assert.deepEqual(await names("--filter", "/n=[13]/"), ["mat[n=1]", "mat[n=3]"]);
    assert.deepEqual(await names("--tag", "other"), ["other"]);
    assert.deepEqual(await names("--shard", "1/2"), ["good", "mat[n=2]", "other"]);
    assert.deepEqual(await names("--shard", "2/2"), ["mat[n=1]", "mat[n=3]"]);
    assert.deepEqual(await names(join(dir, "b_*.yaml")), ["mat[n=1]", "mat[n=2]", "mat[n=3]"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a misspelled key prints file:line:col and a suggestion, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "typo.yaml");
    await Deno.writeTextFile(file, scenario("typo").replace("max_instructions", "max_instrctions"));
    const r = await cli([file]);
    assert.equal(r.code, 2);
    assert.match(
      r.stdout,
      new RegExp(
        `${
          file.replaceAll("/", "\\/")
        }:8:25: steps\\[1\\]\\.run\\.max_instrctions: Unknown key: .*\\(did you mean "max_instructions"\\?\\)`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a wrong expected value prints the path, expected and actual in hex and line:col, exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "wrong.yaml");
    await Deno.writeTextFile(file, scenario("wrong", "", "cpu: { 0: { eip: 0x7c07 } }"));
    const r = await cli([file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL {2}wrong/);
    assert.match(
      r.stdout,
      /wrong\.yaml:10:20: cpu\[0\]\.eip: Mismatch\n\s+expected: 0x00007c07\n\s+actual: {3}0x00007c06\n/,
    );
    assert.match(r.stdout, /last trace events:/);
    assert.match(r.stdout, /\n0 passed, 1 failed\n$/);
    const gh = await cli([file], { NO_COLOR: "1", GITHUB_ACTIONS: "true" });
    assert.match(
      gh.stdout,
      /::error file=.*wrong\.yaml,line=10,col=20,title=wrong::cpu\[0\]\.eip: Mismatch%0Aexpected: 0x00007c07%0Aactual: {3}0x00007c06/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A small XML 1.0 well-formedness check: balanced tags, quoted attributes, known entities. */
function assertWellFormedXml(xml: string): { tags: string[] } {
  const tags: string[] = [];
  const stack: string[] = [];
  let i = 0;
  if (xml.startsWith("<?xml")) i = xml.indexOf("?>") + 2;
  const entity = /^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    for (let k = text.indexOf("&"); k >= 0; k = text.indexOf("&", k + 1)) {
      assert.ok(entity.test(text.slice(k)), `bad entity in text at ${i + k}`);
    }
    assert.ok(!text.includes(">") || true);
    if (lt < 0) break;
    const gt = xml.indexOf(">", lt);
    assert.ok(gt > lt, "unterminated tag");
    const tag = xml.slice(lt + 1, gt);
    if (tag.startsWith("/")) {
      assert.equal(stack.pop(), tag.slice(1).trim(), "mismatched closing tag");
    } else {
      const m = /^([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)$/.exec(tag);
      assert.ok(m, `malformed tag <${tag}>`);
      for (const v of m[2].matchAll(/="([^"]*)"/g)) {
        for (let k = v[1].indexOf("&"); k >= 0; k = v[1].indexOf("&", k + 1)) {
          assert.ok(entity.test(v[1].slice(k)), "bad entity in attribute");
        }
      }
      tags.push(m[1]);
      if (m[3] !== "/") stack.push(m[1]);
    }
    i = gt + 1;
  }
  assert.equal(stack.length, 0, "unclosed tags");
  assert.equal(stack.length === 0 && tags[0], "testsuites");
  return { tags };
}

Deno.test("--reporter junit and --junit-path give well-formed XML with one testcase per case", async () => {
  const dir = await corpus();
  try {
    await Deno.writeTextFile(
      join(dir, "d_fail.yaml"),
      scenario("fail <&>", "", 'console: "x & <y>"').replace("name: fail <&>", 'name: "fail-x"'),
    );
    await Deno.writeTextFile(join(dir, "e_broken.yaml"), "name: [\n");
    const r = await cli(["--reporter", "junit", dir]);
    assert.equal(r.code, 2);
    const { tags } = assertWellFormedXml(r.stdout);
    assert.equal(tags.filter((t) => t === "testcase").length, 7);
    assert.equal(tags.filter((t) => t === "failure").length, 1);
    assert.equal(tags.filter((t) => t === "error").length, 1);
    const path = join(dir, "report.xml");
    const r2 = await cli(["--junit-path", path, dir]);
    assert.equal(r2.code, 2);
    const fileXml = await Deno.readTextFile(path);
    assert.equal(assertWellFormedXml(fileXml).tags.filter((t) => t === "testcase").length, 7);
    assert.match(r2.stdout, /5 passed, 2 failed\n\(1 of them could not run\)\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--jobs 2 and --jobs 1 give identical JSON results", async () => {
  const dir = await corpus();
  try {
    await Deno.writeTextFile(join(dir, "d_fail.yaml"), scenario("failing", "", 'console: "nope"'));
    await Deno.writeTextFile(
      join(dir, "e_broken.yaml"),
      scenario("broken").replace("steps:", "stepz:"),
    );
    const one = await cli(["--reporter", "json", "--jobs", "1", dir]);
    const two = await cli(["--reporter", "json", "--jobs", "2", dir]);
    assert.equal(one.code, 2);
    assert.equal(two.code, 2);
    assert.equal(two.stdout, one.stdout);
    const doc = JSON.parse(one.stdout);
    assert.deepEqual(doc.summary, { passed: 5, failed: 1, errors: 1, total: 7 });
    assert.deepEqual(doc.results.map((x: { name: string }) => x.name), [
      "good",
      "mat[n=1]",
      "mat[n=2]",
      "mat[n=3]",
      "other",
      "failing",
      "e_broken",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tap and dot reporters, --fail-fast and --trace", async () => {
  const dir = await corpus();
  try {
    await Deno.writeTextFile(join(dir, "a_fail.yaml"), scenario("afail", "", 'console: "nope"'));
    const tap = await cli(["--reporter", "tap", dir]);
    assert.match(tap.stdout, /^TAP version 14\nnot ok 1 - afail\n {2}---\n/);
    assert.match(tap.stdout, /\nok 6 - other\n1\.\.6\n$/);
    const dot = await cli(["--reporter", "dot", dir]);
    assert.match(dot.stdout, /^F\.\.\.\.\.\n/);
    const ff = await cli(["--fail-fast", "--reporter", "dot", dir]);
    assert.match(ff.stdout, /^F\n/);
    assert.equal(ff.code, 1);
    const tracePath = join(dir, "trace.txt");
    const tr = await cli(["--trace", tracePath, "--filter", "good", dir]);
    assert.equal(tr.code, 0);
    assert.match(
      await Deno.readTextFile(tracePath),
      /^# good \(.*a_good\.yaml\)\n\[t=0ns i=0 ----\] step: power_on\n/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseCli reads NO_COLOR and TERM=dumb", () => {
  assert.equal(parseCli(["all"], { NO_COLOR: "1" }).color, false);
  assert.equal(parseCli(["all"], { TERM: "dumb" }).color, false);
  assert.equal(parseCli(["all"], {}).color, true);
  assert.equal(parseCli(["all", "--no-color"], {}).color, false);
});
