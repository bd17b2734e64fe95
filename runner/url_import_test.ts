import assert from "node:assert/strict";
import { extname, join, normalize } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

const CONSUMER = (base: string) => `
import { loadScenario, runScenario, formatResult, RegisterValue, PhysicalMemory } from "${base}/mod.ts";
import type { MachineLike, MachineProvider } from "${base}/mod.ts";

// A consumer's own minimal machine: enough to show the imported runner loads, runs and checks.
class Tiny implements MachineLike {
  memory = new PhysicalMemory({ addressSpace: 2 ** 32 });
  endianness = "little" as const;
  console = "";
  constructor(public trace: MachineLike["trace"]) {}
  loadBootsector(b: Uint8Array) { this.memory.writeBytes(0x7c00, b); }
  run() { this.console = "hi\\n"; return { reason: "halted" as const, instructions: 1, time: 10 }; }
  snapshot() { return { cpu: { 0: { state: "halted", eip: new RegisterValue(0x7c01, 32) } } }; }
}
const provider: MachineProvider = {
  build: (_c, o) => new Tiny(o.trace),
  assemble: (src) => ({ bytes: new TextEncoder().encode(src) }),
};
const file = await loadScenario(\`apiVersion: kexec-scenario/v1
name: by-url
machine: { board: consumer }
steps:
  - power_on: { image: { format: bootsector, asm: "x" } }
  - run: { max_instructions: 10 }
expect:
  console: "hi\\\\n"
  cpu: { 0: { state: halted, eip: 0x7c01 } }
  memory: [ { at: 0x7c00, bytes: "78" } ]
\`, { file: "by-url.yaml" });
const result = await runScenario(file.cases[0], { provider });
console.log(result.status === "passed" ? "PASSED " + result.name : formatResult(result));
`;

Deno.test("mod.ts can be imported by URL from a project without deno.json and runs a scenario", async () => {
  const ac = new AbortController();
  const requests: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const path = normalize(decodeURIComponent(new URL(req.url).pathname));
      requests.push(path);
      if (path.includes("..") || !path.endsWith(".ts")) {
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
              : "text/plain",
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
    assert.equal(stdout.trim(), "PASSED by-url");
    assert.ok(requests.includes("/mod.ts"));
    assert.ok(requests.includes("/runner/load.ts"));
    assert.ok(requests.includes("/runner/yaml.ts"));
  } finally {
    ac.abort();
    await server.finished;
    await Deno.remove(dir, { recursive: true });
  }
});
