/**
 * CPU benchmarks (`deno bench`): interpreter MIPS on an integer loop, the purgatory's
 * rotate-add checksum loop (64-bit), and REP MOVSD bandwidth over whole pages.
 *
 * Measured on the 2-core shared development VM (AMD EPYC, Deno 2.9.6, other jobs running):
 * integer loop ~55-60 MIPS (32-bit) / ~53-62 MIPS (64-bit), checksum loop ~60 MIPS (about
 * 5.5 MB/s checksummed), REP MOVSD 16 MiB in 1.2-2.2 ms (~7-14 GB/s). Reproduce with
 * `deno bench --allow-read arch/x86/cpu_bench.ts`.
 *
 * The workloads are in arch/x86/bench_workloads.ts; `deno task bench` also prints them as MIPS
 * and GB/s (bench/figures.ts).
 *
 * @module
 */

import { cpuWorkloads } from "./bench_workloads.ts";

for (const w of cpuWorkloads()) Deno.bench(w.name, () => void w.run());
