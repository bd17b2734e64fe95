import assert from "node:assert/strict";
import { join } from "node:path";
import { SCENARIO_ENV, scenarioPermissions } from "./launch.ts";

Deno.test("scenarioPermissions grants the project, named targets and report files only", () => {
  const table: [string[], { read: string[]; write: string[] }][] = [
    [["all"], { read: ["/p"], write: [] }],
    [["a.yaml", "/abs/dir"], { read: ["/p", "/w", "/abs/dir"], write: [] }],
    [["../c/b.yml"], { read: ["/p", "/c"], write: [] }],
    [["x/**/*.yaml"], { read: ["/p", "/w/x"], write: [] }],
    [["*.yaml"], { read: ["/p", "/w"], write: [] }],
    [["all", "--junit-path", "out/r.xml", "--trace=t.log"], {
      read: ["/p"],
      write: ["/w/out/r.xml", "/w/t.log"],
    }],
    [["--filter", "x.yaml", "all"], { read: ["/p"], write: [] }],
  ];
  for (const [args, want] of table) {
    const p = scenarioPermissions(args, { cwd: "/w", project: "/p" });
    assert.deepEqual({ read: p.read, write: p.write }, want, args.join(" "));
    assert.deepEqual(p.env, [...SCENARIO_ENV]);
  }
});

const ROOT = new URL("..", import.meta.url).pathname;

async function task(args: string[], cwd: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--config", join(ROOT, "deno.json"), "scenario", ...args],
    cwd,
    // deno task keeps an inherited INIT_CWD (npm sets it for npx): name the directory explicitly.
    env: { NO_COLOR: "1", INIT_CWD: cwd },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("the scenario task runs with least privilege: no read outside named paths, write only to reports", async () => {
  const dir = await Deno.makeTempDir();
  const other = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      join(other, "_base.yaml"),
      "apiVersion: kexec-scenario/v1\nmachine: { board: pc-legacy }\n",
    );
    await Deno.writeTextFile(
      join(dir, "child.yaml"),
      `extends: ${
        join(other, "_base.yaml")
      }\nname: child\nsteps: [ { run: { max_instructions: 1 } } ]\nexpect: { run: { reason: halted } }\n`,
    );
    const r = await task(["child.yaml", "--reporter", "tap", "--junit-path", "r.xml"], dir);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /No read access to .*_base\.yaml/, r.stderr);
    // A base beside the named scenario is readable: its directory is granted.
    await Deno.writeTextFile(
      join(dir, "_near.yaml"),
      await Deno.readTextFile(join(other, "_base.yaml")),
    );
    await Deno.writeTextFile(
      join(dir, "near.yaml"),
      "extends: ./_near.yaml\nname: near\nsteps: [ { run: { max_instructions: 1 } } ]\nexpect: { run: { reason: halted } }\n",
    );
    const rn = await task(["near.yaml", "--list"], dir);
    assert.equal(rn.code, 0, rn.stdout + rn.stderr);
    // The requested report file was written.
    assert.match(await Deno.readTextFile(join(dir, "r.xml")), /<testsuites/);
    // Naming the other directory grants it.
    await Deno.writeTextFile(
      join(other, "o.yaml"),
      "extends: ./_base.yaml\nname: o\nsteps: [ { run: { max_instructions: 1 } } ]\nexpect: { run: { reason: halted } }\n",
    );
    const r2 = await task(["child.yaml", other, "--list"], dir);
    assert.equal(r2.code, 0, r2.stdout + r2.stderr);
    assert.match(r2.stdout, /^o\t.*o\.yaml\nchild\tchild\.yaml\n$/);
    // A trace file outside the granted write paths cannot be written by anything else.
    const r3 = await task(["--help"], dir);
    assert.equal(r3.code, 0);
    assert.match(r3.stdout, /Usage: deno task scenario/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(other, { recursive: true });
  }
});
