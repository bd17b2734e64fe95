/**
 * A `--jobs` worker: loads the named scenario file, runs the named case, posts the result.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { formatTraceEvent } from "../hw/trace.ts";
import type { WorkerRequest, WorkerResponse } from "./cli.ts";
import { loadScenarioFile, type ScenarioFile } from "./load.ts";
import { type CaseResult, loadErrorResult, runScenario } from "./run.ts";
import "./defaults.ts";

const files = new Map<string, Promise<ScenarioFile>>();

self.onmessage = async (ev: MessageEvent<WorkerRequest>) => {
  const { id, file, name, trace: wantTrace, setupModule } = ev.data;
  const t0 = performance.now();
  let result: CaseResult;
  let trace: string[] | undefined;
  try {
    if (setupModule) await import(setupModule);
    if (!files.has(file)) files.set(file, loadScenarioFile(file));
    const loaded = await files.get(file)!;
    const c = loaded.cases.find((x) => x.name === name);
    if (!c) throw new Error(`Case ${name} not found in ${file}`);
    result = await runScenario(c, {
      onTrace: wantTrace ? (events) => (trace = events.map(formatTraceEvent)) : undefined,
    });
  } catch (e) {
    result = loadErrorResult(file, e);
  }
  const msg: WorkerResponse = { id, result, wallMs: performance.now() - t0, trace };
  self.postMessage(msg);
};
