/**
 * Prints the benchmark figures the issues quote, in their units: interpreter MIPS and REP MOVSD
 * bytes per second. `deno task bench` runs it after `deno bench`. This is a measurement tool, so
 * it reads the host clock (library code never does).
 *
 * @module
 */

import { cpuWorkloads } from "../arch/x86/bench_workloads.ts";

const WARMUP = 3;
const RUNS = 10;

for (const w of cpuWorkloads()) {
  for (let i = 0; i < WARMUP; i++) w.run();
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const retired = w.run();
    const seconds = (performance.now() - t0) / 1000;
    rates.push(w.unit === "MIPS" ? retired / seconds / 1e6 : w.bytes! / seconds / 1e9);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(RUNS / 2)];
  const figure = `${median.toFixed(w.unit === "MIPS" ? 1 : 2)} ${w.unit}`;
  console.log(`${figure.padStart(12)}  ${w.name} (median of ${RUNS})`);
}
