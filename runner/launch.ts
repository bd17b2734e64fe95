/**
 * Least-privilege launcher for `deno task scenario`. It reads nothing itself: it computes the
 * permissions the command line needs and re-runs `runner/cli.ts` with exactly those:
 *
 * - read: the project directory and each named target (a named scenario file grants its
 *   directory, so the images and `extends:` bases beside a copied scenario work; a glob grants
 *   its fixed leading directory); a scenario that `extends:` or loads a file elsewhere fails
 *   with a clear "no read access" error;
 * - write: only the files named by `--junit-path` and `--trace`;
 * - env: only NO_COLOR, GITHUB_ACTIONS, TERM (and LOG_TOKENS, LOG_STREAM, which `npm:yaml` reads);
 * - no network, no subprocesses, no FFI; never a prompt.
 *
 * The launcher itself needs `--allow-run` (to start the same Deno executable) and
 * `--allow-env=INIT_CWD` (the directory `deno task` was started from).
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** Environment variables the scenario command may read. */
export const SCENARIO_ENV: readonly string[] = [
  "NO_COLOR",
  "GITHUB_ACTIONS",
  "TERM",
  "LOG_TOKENS",
  "LOG_STREAM",
];

/** The permission flags for a scenario command line. */
export interface ScenarioPermissions {
  /** Paths readable. */
  read: string[];
  /** Paths writable. */
  write: string[];
  /** Environment variables readable. */
  env: string[];
}

/**
 * Compute the permissions a `scenario` command line needs.
 *
 * @example
 * ```ts
 * import { scenarioPermissions } from "./launch.ts";
 * const p = scenarioPermissions(["x/a.yaml", "--junit-path", "r.xml"], { cwd: "/w", project: "/p" });
 * p.read; // ["/p", "/w/x"]
 * p.write; // ["/w/r.xml"]
 * ```
 */
export function scenarioPermissions(
  args: readonly string[],
  options: { cwd: string; project: string },
): ScenarioPermissions {
  const read = [options.project];
  const write: string[] = [];
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: false,
      options: {
        "junit-path": { type: "string" },
        trace: { type: "string" },
        filter: { type: "string" },
        tag: { type: "string", multiple: true },
        jobs: { type: "string" },
        shard: { type: "string" },
        reporter: { type: "string" },
      },
    });
  } catch {
    return { read, write, env: [...SCENARIO_ENV] };
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(options.cwd, p));
  for (const target of parsed.positionals) {
    if (target === "all") continue;
    const glob = target.search(/[*?[]/);
    if (glob >= 0) {
      const fixed = target.slice(0, glob);
      const dir = fixed.includes("/") ? fixed.slice(0, fixed.lastIndexOf("/")) || "/" : ".";
      read.push(abs(dir));
    } else if (/\.ya?ml$/i.test(target)) {
      read.push(dirname(abs(target)));
    } else {
      read.push(abs(target));
    }
  }
  for (const key of ["junit-path", "trace"] as const) {
    const v = parsed.values[key];
    if (typeof v === "string") write.push(abs(v));
  }
  return { read: [...new Set(read)], write, env: [...SCENARIO_ENV] };
}

if (import.meta.main) {
  const project = dirname(dirname(fileURLToPath(import.meta.url)));
  let cwd = project;
  try {
    cwd = Deno.env.get("INIT_CWD") ?? project;
  } catch {
    // Without env access, targets are relative to the project directory.
  }
  const perms = scenarioPermissions(Deno.args, { cwd, project });
  const flags = [
    "run",
    "--no-prompt",
    `--config=${resolve(project, "deno.json")}`,
    `--allow-read=${perms.read.join(",")}`,
    `--allow-env=${perms.env.join(",")}`,
  ];
  if (perms.write.length) flags.push(`--allow-write=${perms.write.join(",")}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: [...flags, resolve(project, "runner/cli.ts"), ...Deno.args],
    cwd,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  Deno.exit(status.code);
}
