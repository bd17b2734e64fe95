import assert from "node:assert/strict";
import { join } from "node:path";
import { registerScenarios } from "./register.ts";
import { fakeProvider } from "./testdata/fake_machine.ts";

// The test-double scenarios register as ordinary tests of this file.
const registered = await registerScenarios(new URL("./testdata/scenarios/", import.meta.url), {
  provider: fakeProvider,
  prefix: "registered: ",
});

Deno.test("registerScenarios registers one test per file", () => {
  assert.equal(registered, 2);
});

Deno.test("registered scenarios work with deno test --filter and --reporter=junit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const runner = new URL(".", import.meta.url).pathname;
    await Deno.writeTextFile(
      join(dir, "bad.yaml"),
      (await Deno.readTextFile(join(runner, "testdata/scenarios/fake_matrix.yaml")))
        .replace("name: fake-matrix", "name: bad-matrix").replace(
          'console: "${text}"',
          'console: "b"',
        ),
    );
    await Deno.writeTextFile(join(dir, "broken.yaml"), "name: [\n");
    await Deno.writeTextFile(
      join(dir, "scen_test.ts"),
      `import { registerScenarios } from "${join(runner, "register.ts")}";
import { fakeProvider } from "${join(runner, "testdata/fake_machine.ts")}";
await registerScenarios(new URL("${
        new URL("./testdata/scenarios/", import.meta.url).href
      }"), { provider: fakeProvider });
await registerScenarios(new URL("./", import.meta.url), { provider: fakeProvider });
`,
    );
    const test = async (...args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["test", "--no-check", "--allow-read", "--allow-env", ...args, "scen_test.ts"],
        cwd: dir,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code: out.code,
        text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
      };
    };
    const filtered = await test("--filter", "fake-matrix");
    assert.equal(filtered.code, 0, filtered.text);
    assert.match(filtered.text, /fake-matrix \.\.\.\n\s+fake-matrix\[text=a\] \.\.\. ok/);
    assert.match(filtered.text, /fake-matrix\[text=b\] \.\.\. ok/);
    assert.doesNotMatch(filtered.text, /fake-console/);

    const junit = await test("--reporter=junit");
    assert.equal(junit.code, 1);
    const xml = junit.text.slice(junit.text.indexOf("<?xml"));
    assert.match(xml, /<testcase name="fake-console"/);
    assert.match(xml, /<testcase name="bad-matrix"/);
    assert.match(xml, /<testcase name="broken\.yaml|<testcase name="[^"]*broken\.yaml/);
    assert.match(xml, /bad\.yaml:10:12: console: Console output differs/);
    assert.match(xml, /could not be loaded/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
