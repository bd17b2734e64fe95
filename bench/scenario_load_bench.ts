// Loader cost: parse, validate and expand a matrix scenario (what every run pays per file).
import { loadScenario } from "../runner/load.ts";

const TEXT = `apiVersion: kexec-scenario/v1
name: bench
matrix: { cpu: [i386, i486, pentium, pentium4-xeon] }
machine: { board: pc-ioapic, cpu: { model: "\${cpu}", count: 2 }, memory: 256M }
steps:
  - power_on:
      image:
        format: bootsector
        asm: |
          cli
          hlt
  - run: { until: halt, max_instructions: 1_000_000 }
expect:
  cpu: { 0: { state: stopped, cr0: { pg: 0, pe: 0 } } }
  lapic: { 0: { svr: { enabled: true }, lvt0: { delivery: ExtINT, masked: false } } }
  memory: [ { at: 0x7c00, bytes: "fa f4" }, { at: 0x100000, zero: 4K } ]
`;

Deno.bench("load a 4-case matrix scenario", async () => {
  await loadScenario(TEXT, { file: "bench.yaml" });
});
