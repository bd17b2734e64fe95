// Runs the CLI's main() in-process for the runner's CLI tests and collects what it prints.
import { main } from "../cli.ts";

/** Options of {@linkcode runCli}. */
export interface RunCliOptions {
  /** Environment the CLI sees (default: NO_COLOR=1 only). */
  env?: Record<string, string>;
  /** Module the --jobs workers import first (e.g. to register a fake machine provider). */
  setupModule?: string;
}

/** Run `main(args)` and return its exit code, stdout and stderr. */
export async function runCli(
  args: string[],
  options: RunCliOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "", stderr = "";
  const code = await main(
    args,
    { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    options.env ?? { NO_COLOR: "1" },
    options.setupModule ? { setupModule: options.setupModule } : {},
  );
  return { code, stdout, stderr };
}
