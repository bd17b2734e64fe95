/**
 * YAML to plain values with a position for every node. Built on `npm:yaml`'s `parseDocument`
 * with a `LineCounter`; integers are `bigint` (exact), map keys are strings, and every node's
 * key and value positions are kept in a {@linkcode SourceMap} keyed by path.
 *
 * @module
 */

import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node as YamlNode,
  parseDocument,
  type Scalar,
} from "npm:yaml@^2.9.1";
import { ScenarioSyntaxError, type SourcePosition } from "./errors.ts";

/** A path into a scenario value: map keys are strings, list indexes numbers. */
export type ValuePath = readonly (string | number)[];

/** A parsed YAML value: `bigint` for integers, `number` only for floats. */
export type YamlValue =
  | null
  | boolean
  | bigint
  | number
  | string
  | YamlValue[]
  | { [key: string]: YamlValue };

/** Where a node's key and value are, and where a block scalar's text starts. */
export interface NodePosition {
  /** Position of the value (for a block scalar, its `|` or `>` indicator). */
  readonly value: SourcePosition;
  /** Position of the map key naming this value, if any. */
  readonly key?: SourcePosition;
  /** Position of the first character of a scalar's text (a block scalar's first content line). */
  readonly text?: SourcePosition;
  /** True for a literal block scalar (`|`): its text lines map one to one onto file lines. */
  readonly literal?: boolean;
}

/**
 * Positions of every node of a parsed scenario, looked up by path. A path that has no node
 * (a missing key) resolves to its nearest ancestor.
 *
 * @example
 * ```ts
 * import { parseYaml } from "./yaml.ts";
 * const { positions } = parseYaml("a:\n  b: 1\n", "x.yaml");
 * positions.valueAt(["a", "b"]); // { file: "x.yaml", line: 2, column: 6 }
 * ```
 */
export class SourceMap {
  readonly #nodes = new Map<string, NodePosition>();
  /** The file the positions refer to, for paths with no node at all. */
  readonly file: string;

  /** Create an empty map for a file. */
  constructor(file: string) {
    this.file = file;
  }

  /** Record a node's position. */
  set(path: ValuePath, position: NodePosition): void {
    this.#nodes.set(pathKey(path), position);
  }

  /** The exact node at `path`, if there is one. */
  get(path: ValuePath): NodePosition | undefined {
    return this.#nodes.get(pathKey(path));
  }

  /** The node at `path` or its nearest ancestor. */
  nearest(path: ValuePath): NodePosition {
    for (let n = path.length; n >= 0; n--) {
      const p = this.#nodes.get(pathKey(path.slice(0, n)));
      if (p) return p;
    }
    return { value: { file: this.file, line: 1, column: 1 } };
  }

  /** Position of the value at `path` (or nearest ancestor). */
  valueAt(path: ValuePath): SourcePosition {
    return this.nearest(path).value;
  }

  /** Position of the key naming `path` (its value's position when there is no key). */
  keyAt(path: ValuePath): SourcePosition {
    const n = this.nearest(path);
    return n.key ?? n.value;
  }

  /** Every recorded position, keyed by {@linkcode pathKey}. */
  entries(): IterableIterator<[string, NodePosition]> {
    return this.#nodes.entries();
  }

  /** Add entries (by raw key) from another map, without overwriting existing ones. */
  addMissing(other: SourceMap): void {
    for (const [k, v] of other.entries()) if (!this.#nodes.has(k)) this.#nodes.set(k, v);
  }

  /** An independent copy of this map. */
  clone(): SourceMap {
    const m = new SourceMap(this.file);
    for (const [k, v] of this.#nodes) m.#nodes.set(k, v);
    return m;
  }
}

/** The string key of a path (JSON of the path array). */
export function pathKey(path: ValuePath): string {
  return JSON.stringify(path);
}

/**
 * Render a path for people: `expect.lapic[0].lvt0.masked`, `steps[2].run`.
 *
 * @example
 * ```ts
 * import { formatPath } from "./yaml.ts";
 * formatPath(["lapic", "0", "lvt0", "masked"]); // "lapic[0].lvt0.masked"
 * ```
 */
export function formatPath(path: ValuePath): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number" || /^[0-9]+$/.test(p)) s += `[${p}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(p)) s += s === "" ? p : `.${p}`;
    else s += `[${JSON.stringify(p)}]`;
  }
  return s;
}

/** Limits for {@linkcode parseYaml}. */
export interface ParseYamlOptions {
  /** Most nodes an alias may expand to, in total (default 10000): stops alias bombs. */
  maxAliasNodes?: number;
}

/** The result of {@linkcode parseYaml}. */
export interface ParsedYaml {
  /** The document as plain values. */
  readonly value: YamlValue;
  /** Positions of every node. */
  readonly positions: SourceMap;
}

/**
 * Parse one YAML document; throws {@linkcode ScenarioSyntaxError} for any YAML problem.
 *
 * @example
 * ```ts
 * import { parseYaml } from "./yaml.ts";
 * parseYaml("load: 0xffffffffffffffff\n", "a.yaml").value; // { load: 18446744073709551615n }
 * ```
 */
export function parseYaml(text: string, file: string, options: ParseYamlOptions = {}): ParsedYaml {
  const lineCounter = new LineCounter();
  const pos = (offset: number): SourcePosition => {
    const lp = lineCounter.linePos(offset);
    return { file, line: lp.line, column: lp.col };
  };
  let doc;
  try {
    doc = parseYamlDocument(text, lineCounter);
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw new ScenarioSyntaxError(
        "Cannot parse YAML: npm:yaml reads the environment variables LOG_TOKENS and LOG_STREAM; " +
          "grant them with --allow-env=LOG_TOKENS,LOG_STREAM",
        { file, line: 0, column: 0 },
      );
    }
    throw e;
  }
  const problems = [...doc.errors];

  if (problems.length > 0) {
    const e = problems[0];
    throw new ScenarioSyntaxError(yamlMessage(e.code, e.message), pos(e.pos[0]));
  }
  if (doc.contents === null || doc.contents === undefined) {
    throw new ScenarioSyntaxError("Empty scenario file: expected a map of scenario keys", {
      file,
      line: 1,
      column: 1,
    });
  }
  const positions = new SourceMap(file);
  let budget = options.maxAliasNodes ?? 10000;
  let aliasDepth = 0;

  const textStart = (node: Scalar, start: number): SourcePosition => {
    if (node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED") {
      // The text starts on the first non-empty line after the indicator.
      let i = text.indexOf("\n", start);
      while (i >= 0 && i + 1 < text.length) {
        const lineEnd = text.indexOf("\n", i + 1);
        const line = text.slice(i + 1, lineEnd < 0 ? text.length : lineEnd);
        if (line.trim() !== "") {
          const indent = line.length - line.trimStart().length;
          return pos(i + 1 + indent);
        }
        i = lineEnd;
      }
      return pos(start);
    }
    if (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE") return pos(start + 1);
    return pos(start);
  };

  const walk = (node: unknown, path: (string | number)[], key?: SourcePosition): YamlValue => {
    if (aliasDepth > 0 && --budget < 0) {
      throw new ScenarioSyntaxError(
        "Aliases expand to too many nodes (an alias bomb?): expected at most " +
          `${options.maxAliasNodes ?? 10000} nodes through aliases`,
        positions.nearest(path).value,
      );
    }
    if (isAlias(node)) {
      const target = node.resolve(doc);
      const here = pos(node.range?.[0] ?? 0);
      if (!target) throw new ScenarioSyntaxError(`Unknown alias: *${node.source}`, here);
      if (aliasDepth === 0) positions.set(path, { value: here, key });
      aliasDepth++;
      try {
        return walkInner(target, path, key, true);
      } finally {
        aliasDepth--;
      }
    }
    return walkInner(node, path, key, false);
  };

  const walkInner = (
    node: unknown,
    path: (string | number)[],
    key: SourcePosition | undefined,
    viaAlias: boolean,
  ): YamlValue => {
    const n = node as YamlNode;
    const start = n.range?.[0] ?? 0;
    if (!viaAlias) positions.set(path, { value: pos(start), key });
    if (isScalar(n)) {
      if (!viaAlias && typeof n.value === "string") {
        positions.set(path, {
          value: pos(start),
          key,
          text: textStart(n, start),
          literal: n.type === "BLOCK_LITERAL",
        });
      }
      const v = n.value;
      if (v === null || v === undefined) return null;
      if (typeof v === "bigint" || typeof v === "boolean" || typeof v === "string") return v;
      if (typeof v === "number") return v;
      throw new ScenarioSyntaxError(`Unsupported YAML value of type ${typeof v}`, pos(start));
    }
    if (isMap(n)) {
      const out: { [key: string]: YamlValue } = {};
      for (const item of n.items) {
        if (!isPair(item)) continue;
        const k = item.key;
        const kStart = (k as YamlNode | null)?.range?.[0] ?? start;
        let name: string;
        if (isScalar(k) && (typeof k.value === "string" || typeof k.value === "bigint")) {
          name = String(k.value);
        } else if (isScalar(k) && (typeof k.value === "number" || typeof k.value === "boolean")) {
          name = String(k.value);
        } else {
          throw new ScenarioSyntaxError(
            "Unsupported map key: expected a plain name or integer",
            pos(kStart),
          );
        }
        if (name === "<<") {
          throw new ScenarioSyntaxError(
            "Merge keys (<<) are not supported: use extends: to reuse another file",
            pos(kStart),
          );
        }
        if (Object.hasOwn(out, name)) {
          throw new ScenarioSyntaxError(`Duplicate key: ${name}`, pos(kStart));
        }
        const childPath = [...path, name];
        const keyPos = pos(kStart);
        if (item.value === null || item.value === undefined) {
          positions.set(childPath, { value: keyPos, key: keyPos });
          out[name] = null;
        } else {
          out[name] = walk(item.value, childPath, keyPos);
        }
      }
      return out;
    }
    if (isSeq(n)) {
      return n.items.map((item, i) => walk(item, [...path, i]));
    }
    throw new ScenarioSyntaxError("Unsupported YAML node", pos(start));
  };

  const value = walk(doc.contents, []);
  return { value, positions };
}

function parseYamlDocument(text: string, lineCounter: LineCounter) {
  return parseDocument(text, {
    lineCounter,
    intAsBigInt: true,
    uniqueKeys: true,
    prettyErrors: false,
    version: "1.2",
    schema: "core",
    strict: true,
  });
}

function yamlMessage(code: string, message: string): string {
  const first = message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
  switch (code) {
    case "TAB_AS_INDENT":
      return "Tabs are not allowed as indentation: indent with spaces";
    case "DUPLICATE_KEY":
      return "Duplicate key: each key may appear once in a map";
    default:
      return first.endsWith(".") ? first.slice(0, -1) : first;
  }
}
