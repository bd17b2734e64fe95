import assert from "node:assert/strict";
import { extname, join, normalize } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

const CONSUMER = (base: string) => `
import {
  assemble,
  buildMachine,
  createX86KexecArch,
  disassemble,
  formatResult,
  LinuxKernelModel,
  parseBzImage,
  buildBzImage,
  runScenarioFile,
  x86CpuFactory,
} from "${base}/mod.ts";
import { boards } from "${base}/hw/mod.ts";

// A bundled scenario, fetched over HTTP too, run on the real machine model.
const results = await runScenarioFile("${base}/scenarios/bootsector_hello.yaml");
for (const r of results) console.log(r.status === "passed" ? "PASSED " + r.name : formatResult(r));

// The library layers below the runner, from the same URL.
const machine = buildMachine({ board: "pc-ioapic" }, { cpu: x86CpuFactory("pentium4-xeon") });
const kernel = new LinuxKernelModel(machine, { arch: createX86KexecArch(machine, { arch: "i386" }) });
kernel.boot();
const { bytes } = assemble("bits 32\\nmov cr4, eax", {});
console.log(
  "API",
  machine.cpus.length,
  boards["pc-ioapic"].picOutput,
  disassemble(bytes, { bits: 32 })[0].text,
  parseBzImage(buildBzImage({ version: 0x0202, payload: new Uint8Array(16) })).header.version,
);
`;

Deno.test("mod.ts can be imported by URL from a project without deno.json and runs a scenario", async () => {
  const ac = new AbortController();
  const requests: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const path = normalize(decodeURIComponent(new URL(req.url).pathname));
      requests.push(path);
      if (path.includes("..") || !/\.(ts|yaml)$/.test(path)) {
        return new Response("not found", {
          status: 404,
        });
      }
      try {
        const body = await Deno.readFile(join(ROOT, path));
        return new Response(body, {
          headers: {
            "content-type": extname(path) === ".ts"
              ? "application/typescript; charset=utf-8"
              : "application/yaml; charset=utf-8",
          },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const port = server.addr.port;
  const dir = await Deno.makeTempDir();
  try {
    const base = `http://127.0.0.1:${port}`;
    await Deno.writeTextFile(join(dir, "consumer.ts"), CONSUMER(base));
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-config",
        "--no-lock",
        `--allow-import=127.0.0.1:${port}`,
        `--allow-net=127.0.0.1:${port}`,
        "--allow-env=LOG_TOKENS,LOG_STREAM",
        "consumer.ts",
      ],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stdout + stderr);
    assert.equal(
      stdout.trim(),
      "PASSED bootsector-hello\nAPI 2 ioapic mov cr4, eax 514",
      requests.join(" "),
    );
    assert.ok(requests.includes("/hw/mod.ts"));
    assert.ok(requests.includes("/kernel/image/mod.ts"));
    assert.ok(requests.includes("/scenarios/bootsector_hello.yaml"));
    assert.ok(requests.includes("/hw/machine.ts"));
    assert.ok(requests.includes("/mod.ts"));
    assert.ok(requests.includes("/runner/load.ts"));
    assert.ok(requests.includes("/runner/yaml.ts"));
  } finally {
    ac.abort();
    await server.finished;
    await Deno.remove(dir, { recursive: true });
  }
});
