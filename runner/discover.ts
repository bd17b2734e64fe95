/**
 * Finding scenario files from CLI targets: `all` (the bundled corpus), a file, a directory
 * (recursive), a glob (`scenarios/pic_*.yaml`, `**` allowed) or a scenario name.
 * Files whose name starts with `_` are bases for `extends:`, not scenarios, and are skipped.
 *
 * @module
 */

import { basename, join, relative, resolve } from "node:path";
import { didYouMean } from "./errors.ts";

/** A target that matched nothing: bad usage (exit 2). */
export class TargetError extends RangeError {
  /** Create the error. */
  constructor(message: string) {
    super(message);
    this.name = "TargetError";
  }
}

/** Options for {@linkcode discoverScenarios}. */
export interface DiscoverOptions {
  /** Directory of the bundled corpus (for `all` and names). */
  corpus: string;
}

const GLOB_CHARS = /[*?[]/;

/**
 * Resolve targets to a sorted, de-duplicated list of scenario files.
 *
 * @example
 * ```ts ignore
 * import { discoverScenarios } from "./discover.ts";
 * await discoverScenarios(["all"], { corpus: "scenarios" });
 * ```
 */
export async function discoverScenarios(
  targets: readonly string[],
  options: DiscoverOptions,
): Promise<string[]> {
  const found = new Set<string>();
  const add = (p: string) => found.add(display(p));
  for (const target of targets) {
    if (target === "all") {
      for (const f of await walk(options.corpus)) add(f);
      continue;
    }
    if (GLOB_CHARS.test(target)) {
      const matches = await glob(target);
      if (matches.length === 0) {
        throw new TargetError(`No scenario file matches the glob: ${target}`);
      }
      matches.forEach(add);
      continue;
    }
    let stat: Deno.FileInfo | undefined;
    try {
      stat = await Deno.stat(target);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        throw new TargetError(`No read access to ${target}`);
      }
    }
    if (stat?.isFile) {
      add(target);
      continue;
    }
    if (stat?.isDirectory) {
      const files = await walk(target);
      if (files.length === 0) throw new TargetError(`No scenario files (*.yaml) in ${target}`);
      files.forEach(add);
      continue;
    }
    add(await byName(target, options.corpus));
  }
  return [...found].sort();
}

function display(p: string): string {
  const rel = relative(Deno.cwd(), resolve(p));
  return rel.startsWith("..") ? resolve(p) : rel;
}

function isScenarioFile(name: string): boolean {
  return /\.ya?ml$/.test(name) && !name.startsWith("_");
}

/** Every scenario file under a directory, recursively, sorted. */
export async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory && e.name !== "testdata" && !e.name.startsWith(".")) {
      out.push(...await walk(p));
    } else if (e.isFile && isScenarioFile(e.name)) out.push(p);
  }
  return out;
}

/**
 * Convert a glob to a regular expression (`*`, `?`, `[...]`, `**` for any directories).
 *
 * @example
 * ```ts
 * import { globToRegExp } from "./discover.ts";
 * globToRegExp("scenarios/**\/*.yaml").test("scenarios/a/b.yaml"); // true
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === "*") {
      if (glob[i + 1] === "*") {
        re += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
        i += glob[i + 2] === "/" ? 2 : 1;
      } else re += "[^/]*";
    } else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const end = glob.indexOf("]", i);
      if (end < 0) re += "\\[";
      else {
        re += "[" + glob.slice(i + 1, end).replace(/^!/, "^") + "]";
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

async function glob(pattern: string): Promise<string[]> {
  const parts = pattern.split("/");
  const staticParts: string[] = [];
  for (const p of parts) {
    if (GLOB_CHARS.test(p)) break;
    staticParts.push(p);
  }
  const base = staticParts.length ? staticParts.join("/") || "/" : ".";
  const re = globToRegExp(pattern.replace(/^\.\//, ""));
  const out: string[] = [];
  for (const f of await walkAll(base)) {
    const rel = f.replace(/^\.\//, "");
    if (re.test(rel) && /\.ya?ml$/.test(rel)) out.push(f);
  }
  return out;
}

async function walkAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const p = dir === "." ? e.name : join(dir, e.name);
      if (e.isDirectory && !e.name.startsWith(".") && e.name !== "node_modules") {
        out.push(...await walkAll(p));
      } else if (e.isFile) out.push(p);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

async function byName(name: string, corpus: string): Promise<string> {
  const files = await walk(corpus);
  const names: string[] = [];
  for (const f of files) {
    const stem = basename(f).replace(/\.ya?ml$/, "");
    if (stem === name) return f;
    const text = await Deno.readTextFile(f);
    const m = /^name:\s*["']?([^"'\s#]+)/m.exec(text);
    if (m) {
      if (m[1] === name) return f;
      names.push(m[1]);
    }
    names.push(stem);
  }
  const s = didYouMean(name, names);
  throw new TargetError(
    `No scenario file, directory, glob or bundled scenario named ${JSON.stringify(name)}` +
      (s ? ` (did you mean ${JSON.stringify(s)}?)` : ""),
  );
}
