import {
  deepEqual as assertEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { AsmError, assemble } from "./asm.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const asm = (src: string, org = 0) => hex(assemble(src, { org }).bytes);

interface VectorFile {
  binutils: string;
  vectors: [number, string, string][];
  rejected: string[];
  warned: [string, string][];
}
interface ProgramFile {
  programs: { name: string; org: number; source: string; hex: string }[];
}
const load = async <T>(name: string): Promise<T> =>
  JSON.parse(await Deno.readTextFile(new URL(`./testdata/${name}`, import.meta.url)));

Deno.test("assemble: every GNU as golden vector", async () => {
  const data = await load<VectorFile>("gas_vectors.json");
  assert(data.vectors.length > 5000, "vector file looks truncated");
  const bad: string[] = [];
  for (const [addr, src, want] of data.vectors) {
    let got: string;
    try {
      got = asm(src, addr);
    } catch (e) {
      got = `error: ${(e as Error).message}`;
    }
    if (got !== want) bad.push(`${src}: want ${want}, got ${got}`);
  }
  assertEquals(bad.slice(0, 30), [], `${bad.length} mismatches`);
});

Deno.test("assemble: lines GNU as rejects are rejected with AsmError", async () => {
  const data = await load<VectorFile>("gas_vectors.json");
  assert(data.rejected.length > 500);
  const accepted: string[] = [];
  for (const src of data.rejected) {
    try {
      const r = asm(src, 0x10000);
      accepted.push(`${src} -> ${r}`);
    } catch (e) {
      assert(e instanceof AsmError, `${src}: ${e}`);
    }
  }
  assertEquals(accepted.slice(0, 30), [], `${accepted.length} accepted`);
});

Deno.test("assemble: whole programs match GNU as + ld", async () => {
  const data = await load<ProgramFile>("gas_programs.json");
  assert(data.programs.length >= 5);
  for (const p of data.programs) {
    assertEquals(asm(p.source, p.org), p.hex, p.name);
  }
});
