/**
 * The `scenario` command: `deno task scenario all`, `deno task scenario <name|file|dir|glob>...`.
 * A thin shell over the library: discover files, load, filter, shard, run (optionally on
 * workers), report. Exit codes: 0 all passed, 1 an expectation failed, 2 a scenario could not
 * run or bad usage.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { discoverScenarios, TargetError } from "./discover.ts";
import { loadScenarioFile, type ScenarioCase } from "./load.ts";
import { type CaseResult, loadErrorResult, runScenario } from "./run.ts";
import {
  combineReporters,
  createReporter,
  githubReporter,
  type Reporter,
  type ReporterName,
  REPORTERS,
  summarize,
} from "./report/mod.ts";
import { formatTraceEvent } from "../hw/trace.ts";
import "./defaults.ts";

/** The help text of the command. */
export const HELP = `Usage: deno task scenario [options] <all | name | file | dir | glob>...

Run declarative kexec scenarios (YAML) on emulated machines.

Targets:
  all                   every bundled scenario (scenarios/**/*.yaml)
  <name>                a bundled scenario by name or file stem
  <file>                a scenario file
  <dir>                 every *.yaml under a directory (files starting with _ are skipped)
  <glob>                e.g. 'scenarios/pic_*.yaml' or 'my/**/*.yaml' (quote it)

Options:
  --filter <text>       run only cases whose name contains <text> (or matches /regex/)
  --tag <tag>           run only scenarios with this tag (repeatable: any of them)
  --list                list the selected cases (name and file) and exit
  --jobs <n>            run cases on <n> workers (default 1); results are identical
  --shard <i>/<n>       run only the i-th of n equal slices of the selected cases (1-based)
  --fail-fast           stop after the first case that does not pass
  --reporter <name>     pretty (default), dot, tap, junit, json
  --junit-path <file>   also write a JUnit XML report to <file>
  --trace <file>        write every trace event of every case to <file>
  --no-color            no ANSI colours (also when NO_COLOR is set)
  -h, --help            show this help

Environment:
  NO_COLOR              disables colours
  GITHUB_ACTIONS=true   adds workflow annotations (::error file=...,line=...)

Exit status: 0 all passed, 1 an expectation failed, 2 a scenario could not run or bad usage.
`;

/** Where the CLI writes. */
export interface CliIo {
  /** Standard output. */
  stdout: (text: string) => void;
  /** Standard error. */
  stderr: (text: string) => void;
}

/** Parsed command-line options. */
export interface CliOptions {
  /** Targets (default none: usage error). */
  targets: string[];
  /** Case name filter. */
  filter?: string;
  /** Tags (any of). */
  tags: string[];
  /** List and exit. */
  list: boolean;
  /** Worker count. */
  jobs: number;
  /** Shard `[i, n]` (1-based i). */
  shard?: [number, number];
  /** Stop at the first non-passing case. */
  failFast: boolean;
  /** Reporter name. */
  reporter: ReporterName;
  /** JUnit file. */
  junitPath?: string;
  /** Trace file. */
  trace?: string;
  /** Colour output. */
  color: boolean;
  /** Show help. */
  help: boolean;
}

/** Bad usage (exit 2). */
export class UsageError extends TypeError {
  /** Create the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parse the command line.
 *
 * @example
 * ```ts
 * import { parseCli } from "./cli.ts";
 * parseCli(["all", "--jobs", "2"], { NO_COLOR: "1" }).jobs; // 2
 * ```
 */
export function parseCli(args: string[], env: Record<string, string | undefined>): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        filter: { type: "string" },
        tag: { type: "string", multiple: true },
        list: { type: "boolean" },
        jobs: { type: "string" },
        shard: { type: "string" },
        "fail-fast": { type: "boolean" },
        reporter: { type: "string" },
        "junit-path": { type: "string" },
        trace: { type: "string" },
        "no-color": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify.*$/s, ""));
  }
  const v = parsed.values;
  const jobs = v.jobs === undefined ? 1 : Number(v.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) {
    throw new UsageError(`--jobs: expected an integer from 1 to 64, got ${JSON.stringify(v.jobs)}`);
  }
  let shard: [number, number] | undefined;
  if (v.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(v.shard);
    const i = Number(m?.[1]), n = Number(m?.[2]);
    if (!m || n < 1 || i < 1 || i > n) {
      throw new UsageError(
        `--shard: expected i/n with 1 <= i <= n, got ${JSON.stringify(v.shard)}`,
      );
    }
    shard = [i, n];
  }
  const reporter = (v.reporter ?? "pretty") as ReporterName;
  if (!(REPORTERS as readonly string[]).includes(reporter)) {
    throw new UsageError(
      `--reporter: expected one of ${REPORTERS.join(", ")}, got ${JSON.stringify(v.reporter)}`,
    );
  }
  if (
    v.filter !== undefined && v.filter.startsWith("/") && v.filter.endsWith("/") &&
    v.filter.length > 1
  ) {
    try {
      new RegExp(v.filter.slice(1, -1));
    } catch (e) {
      throw new UsageError(`--filter: invalid regular expression: ${(e as Error).message}`);
    }
  }
  return {
    targets: parsed.positionals,
    filter: v.filter,
    tags: v.tag ?? [],
    list: v.list ?? false,
    jobs,
    shard,
    failFast: v["fail-fast"] ?? false,
    reporter,
    junitPath: v["junit-path"],
    trace: v.trace,
    color: !v["no-color"] && !env.NO_COLOR && env.TERM !== "dumb",
    help: v.help ?? false,
  };
}

/** Options of {@linkcode main} for embedding the CLI. */
export interface MainOptions {
  /**
   * A module every `--jobs` worker imports before running cases (e.g. one that calls
   * `registerMachineProvider`), for programs that register their own models.
   */
  setupModule?: string;
}

/** A selected case: its file, name and (for load errors) the error result. */
interface Selected {
  file: string;
  name: string;
  tags: readonly string[];
  loadError?: CaseResult;
  scenarioCase?: ScenarioCase;
}

function matchesFilter(name: string, filter: string | undefined): boolean {
  if (filter === undefined) return true;
  if (filter.length > 1 && filter.startsWith("/") && filter.endsWith("/")) {
    return new RegExp(filter.slice(1, -1)).test(name);
  }
  return name.includes(filter);
}

/** The bundled corpus directory. */
export const CORPUS_DIR: string = fileURLToPath(new URL("../scenarios/", import.meta.url));

/**
 * Run the command; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./cli.ts";
 * const code = await main(["--list", "all"]);
 * ```
 */
export async function main(
  args: string[],
  io: CliIo = defaultIo(),
  env: Record<string, string | undefined> = readEnv(),
  options: MainOptions = {},
): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseCli(args, env);
  } catch (e) {
    io.stderr(`error: ${(e as Error).message}\nRun with --help for usage.\n`);
    return 2;
  }
  if (opts.help) {
    io.stdout(HELP);
    return 0;
  }
  if (opts.targets.length === 0) {
    io.stderr(
      "error: no scenarios named: give 'all', a name, file, directory or glob\nRun with --help for usage.\n",
    );
    return 2;
  }
  let files: string[];
  try {
    files = await discoverScenarios(opts.targets, { corpus: CORPUS_DIR });
  } catch (e) {
    if (e instanceof TargetError) {
      io.stderr(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }

  // Load and select cases.
  let selected: Selected[] = [];
  for (const file of files) {
    try {
      const loaded = await loadScenarioFile(file);
      for (const c of loaded.cases) {
        selected.push({ file, name: c.name, tags: c.tags, scenarioCase: c });
      }
    } catch (e) {
      const r = loadErrorResult(file, e);
      selected.push({ file, name: r.name, tags: [], loadError: r });
    }
  }
  selected = selected.filter((s) =>
    matchesFilter(s.name, opts.filter) &&
    (opts.tags.length === 0 || s.loadError !== undefined ||
      s.tags.some((t) => opts.tags.includes(t)))
  );
  if (opts.shard) {
    const [i, n] = opts.shard;
    selected = selected.filter((_s, k) => k % n === i - 1);
  }
  if (opts.list) {
    for (const s of selected) {
      io.stdout(`${s.name}\t${s.file}${s.loadError ? "\t(does not load)" : ""}\n`);
    }
    return selected.some((s) => s.loadError) ? 2 : 0;
  }

  // Reporters.
  const reporters: Reporter[] = [
    createReporter(opts.reporter, { write: io.stdout, color: opts.color }),
  ];
  let junitText = "";
  if (opts.junitPath !== undefined) {
    reporters.push(createReporter("junit", { write: (s) => (junitText += s) }));
  }
  if (env.GITHUB_ACTIONS === "true") reporters.push(githubReporter({ write: io.stdout }));
  const reporter = combineReporters(reporters);
  const traceLines: string[] = [];

  const results: CaseResult[] = [];
  const started = performance.now();
  const runner = opts.jobs > 1 && selected.length > 1
    ? runOnWorkers(selected, opts, options.setupModule)
    : runInline(selected, opts);
  for await (const { result, wallMs, trace } of runner) {
    results.push(result);
    reporter.result(result, wallMs);
    if (trace) traceLines.push(`# ${result.name} (${result.file})`, ...trace);
    if (opts.failFast && result.status !== "passed") break;
  }
  const summary = summarize(results, performance.now() - started);
  reporter.end(summary);

  try {
    if (opts.junitPath !== undefined) await Deno.writeTextFile(opts.junitPath, junitText);
    if (opts.trace !== undefined) {
      await Deno.writeTextFile(opts.trace, traceLines.join("\n") + "\n");
    }
  } catch (e) {
    io.stderr(`error: cannot write the report: ${(e as Error).message}\n`);
    return 2;
  }
  if (summary.errors > 0) return 2;
  if (summary.failed > 0) return 1;
  return 0;
}

interface Outcome {
  result: CaseResult;
  wallMs: number;
  trace?: string[];
}

async function* runInline(selected: Selected[], opts: CliOptions): AsyncGenerator<Outcome> {
  for (const s of selected) {
    if (s.loadError) {
      yield { result: s.loadError, wallMs: 0 };
      continue;
    }
    const t0 = performance.now();
    let trace: string[] | undefined;
    const result = await runScenario(s.scenarioCase!, {
      onTrace: opts.trace === undefined
        ? undefined
        : (events) => (trace = events.map(formatTraceEvent)),
    });
    yield { result, wallMs: performance.now() - t0, trace };
  }
}

/** Messages between the CLI and runner/worker.ts. */
export interface WorkerRequest {
  /** Index of the case in the selection. */
  id: number;
  /** Scenario file. */
  file: string;
  /** Case name. */
  name: string;
  /** Collect the full trace. */
  trace: boolean;
  /** Module to import before running (see {@linkcode MainOptions}). */
  setupModule?: string;
}

/** A worker's answer. */
export interface WorkerResponse {
  /** Index of the case in the selection. */
  id: number;
  /** The result. */
  result: CaseResult;
  /** Wall-clock time. */
  wallMs: number;
  /** Full trace, when asked. */
  trace?: string[];
}

async function* runOnWorkers(
  selected: Selected[],
  opts: CliOptions,
  setupModule: string | undefined,
): AsyncGenerator<Outcome> {
  const done = new Map<number, Outcome>();
  let wake: (() => void) | undefined;
  let next = 0;
  let stop = false;
  const count = Math.min(opts.jobs, selected.length);
  const workers: Worker[] = [];
  const dispatch = (w: Worker) => {
    while (next < selected.length && !stop) {
      const id = next++;
      const s = selected[id];
      if (s.loadError) {
        done.set(id, { result: s.loadError, wallMs: 0 });
        wake?.();
        continue;
      }
      const req: WorkerRequest = {
        id,
        file: s.file,
        name: s.name,
        trace: opts.trace !== undefined,
        setupModule,
      };
      w.postMessage(req);
      return;
    }
  };
  for (let i = 0; i < count; i++) {
    const w = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    w.onmessage = (ev: MessageEvent<WorkerResponse>) => {
      const { id, result, wallMs, trace } = ev.data;
      done.set(id, { result, wallMs, trace });
      wake?.();
      dispatch(w);
    };
    w.onerror = (ev) => {
      ev.preventDefault();
      const id = -1;
      done.set(id, { result: loadErrorResult("worker", new Error(ev.message)), wallMs: 0 });
      wake?.();
    };
    workers.push(w);
  }
  try {
    for (const w of workers) dispatch(w);
    for (let id = 0; id < selected.length; id++) {
      while (!done.has(id)) {
        if (done.has(-1)) {
          throw new Error(`A worker failed: ${done.get(-1)!.result.error?.message}`);
        }
        await new Promise<void>((r) => (wake = r));
      }
      const o = done.get(id)!;
      done.delete(id);
      yield o;
      if (opts.failFast && o.result.status !== "passed") {
        stop = true;
        return;
      }
    }
  } finally {
    for (const w of workers) w.terminate();
  }
}

function readEnv(): Record<string, string | undefined> {
  const get = (k: string) => {
    try {
      return Deno.env.get(k);
    } catch {
      return undefined;
    }
  };
  return {
    NO_COLOR: get("NO_COLOR"),
    GITHUB_ACTIONS: get("GITHUB_ACTIONS"),
    TERM: get("TERM"),
  };
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  while (off < bytes.length) off += stream.writeSync(bytes.subarray(off));
}

function defaultIo(): CliIo {
  return {
    stdout: (t) => writeAll(Deno.stdout, t),
    stderr: (t) => writeAll(Deno.stderr, t),
  };
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    const err = e as Error;
    Deno.stderr.writeSync(new TextEncoder().encode(`error: ${err?.message ?? String(e)}\n`));
    code = 2;
  }
  Deno.exit(code);
}
