/**
 * Generates the PowerPC assembler golden vectors from GNU as (binutils).
 *
 * Usage (from the repository root):
 *   deno run --allow-run --allow-read --allow-write=arch/ppc/testdata,/tmp tools/gen_ppc_vectors.ts
 *
 * It writes one source line per instruction form and operand sample (every mnemonic of
 * `arch/ppc/asm_table.ts`, the macros, edge values and invalid values), assembles the file with
 * `powerpc-linux-gnu-as -a32 -mbig -mppc -mregnames`, moves every line GNU as rejects (error) to
 * `rejected` and every line it warns about to `warned` (re-assembling until the file is clean),
 * links the rest with `powerpc-linux-gnu-ld -Ttext=0x10000` and reads the words back with
 * `powerpc-linux-gnu-objcopy -O binary -j .text`. Line i sits at 0x10000 + 4*i, so each vector is
 * `[address, source line, hex]`. It also assembles the whole programs below (linked at their
 * origin) into `programs.json`.
 *
 * @module
 */

import { BY_NAME, type Field, MACROS } from "../arch/ppc/asm_table.ts";
import { disassembleOne } from "../arch/ppc/disasm.ts";
import { mulberry32 } from "../testing/prng.ts";
import { INTEGER_PRIMARY_OPCODES } from "../arch/ppc/testdata/enc.ts";

const OUT = "arch/ppc/testdata";
const TMP = await Deno.makeTempDir({ dir: "/tmp", prefix: "ppcvec" });
const AS = ["powerpc-linux-gnu-as", "-a32", "-mbig", "-mppc", "-mregnames"];
const BASE = 0x10000;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(args[0], { args: args.slice(1) }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

const version = (await run(["powerpc-linux-gnu-as", "--version"])).out.split("\n")[0];

/** Uniform floats in [0, 1) from the shared seeded PRNG. */
function prng(seed: number): () => number {
  const u32 = mulberry32(seed);
  return () => u32() / 4294967296;
}
const rnd = prng(750);
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];

function samples(fl: Field): string[] {
  switch (fl.kind) {
    case "gpr":
    case "gpr0":
      return ["0", "1", "r3", "%r9", "31", "r31", "sp", "r12", "5", "32"];
    case "crf":
    case "crbit":
      return ["0", "cr1", "7", "cr7", "3", "8"];
    case "crb":
      return ["0", "5", "31", "4*cr1+eq", "gt", "4*cr7+so", "32"];
    case "u": {
      const max = (1 << fl.bits) - 1;
      return ["0", "1", String(max), String(Math.floor(rnd() * max)), String(max + 1)];
    }
    case "s16":
      return [
        "0",
        "1",
        "-1",
        "0x7fff",
        "-0x8000",
        "0x8000",
        "1234",
        "0x12348765@l",
        "0x12348765@ha",
        "0x12340000@h",
        "0xffff@l",
        "-32769",
      ];
    case "u16":
      return ["0", "0xffff", "0x1234", "-1", "0x10000", "0x12348765@h", "0x12348765@l", "0x8000"];
    case "s16u":
      return ["0xffff", "-0x8000", "0x10000", "1", "0x7fff", "0x12348765@ha", "0x1234@l", "-1"];
    case "mem":
      return [
        "0(r3)",
        "-4(r1)",
        "0x7fff(31)",
        "-0x8000(r4)",
        "8(0)",
        "0x12348765@l(r4)",
        "0x8000(r3)",
        "4(r9)",
        "(r5)",
        "12(%r6)",
      ];
    case "bd":
      return [".+8", ".-4", ".", ".+0x7ffc", ".-0x8000", "0x100", ".+6", ".+0x8000", "-8"];
    case "bda":
      return ["0x100", "0x7ffc", "-0x8000", "0", "0x8000", "6"];
    case "li":
      return [".+4", ".-0x2000000", "0x1000", ".+0x1fffffc", ".", ".-4", ".+0x2000000"];
    case "lia":
      return ["0x100", "0x1fffffc", "0", "-0x2000000", "0x2000000"];
    case "nb":
      return ["0", "1", "4", "5", "31", "32", "33", "20"];
    case "spr":
      return ["1", "8", "9", "26", "268", "528", "1008", "1023", "287", "1024"];
  }
}

const lines: string[] = [];
const seen = new Set<string>();
const push = (l: string) => {
  if (!seen.has(l)) {
    seen.add(l);
    lines.push(l);
  }
};

for (const [name, defs] of BY_NAME) {
  for (const d of defs) {
    const s = d.fields.map(samples);
    const combos = d.fields.length === 0 ? 1 : Math.min(14, s.reduce((a, x) => a * x.length, 1));
    if (d.fields.length === 0) push(name);
    for (let i = 0; i < combos && d.fields.length; i++) {
      // the first combination uses each field's first value, the others are random
      const ops = s.map((x, j) =>
        (i === 0 ? x[0] : i === 1 ? x[Math.min(2, x.length - 1)] : pick(x)) + (j < 0 ? "" : "")
      );
      push(`${name} ${ops.join(",")}`);
      if (d.fields.some((f) => f.optional)) {
        const short = ops.filter((_, j) => !d.fields[j].optional);
        push(`${name} ${short.join(",")}`);
      }
    }
  }
}
for (const [name, m] of MACROS) {
  for (const n of ["0", "1", "5", "16", "31", "32"]) {
    for (const b of m.count === 4 ? ["0", "4", "28"] : [""]) {
      const ops = m.count === 3
        ? (name.startsWith("sub") ? ["3", "4", n === "32" ? "31" : n] : ["3", "r4", n])
        : ["r3", "4", n, b];
      push(`${name} ${ops.join(",")}`);
    }
  }
}
for (const n of ["subi", "subis", "subic", "subic."]) {
  for (
    const v of ["0", "1", "-1", "0x8000", "0x7fff", "-0x7fff", "0x8001", "0x12348765@l", "0xffff"]
  ) {
    push(`${n} r3,r4,${v}`);
  }
}
push("mftbl 3");
push("mftb r31");
push("li 3,'A'");
push("li 3,0b101");
push("li 3,017");
push("li 3,(1+2)*3");
push("li 3,100/7");
push("li 3,-100%7");
push("li 3,1<<4|1");
push("li 3,~0&0xff");
push("li 3,5>3");
push("lis 3,(0x12345678+0x8000)>>16");
push("addi 3,4,0x12348765@l+4");
push("lwz 3,0x12348765@l-4(r5)");
push("lwz r3, 4 ( r4 )");
push("LWZ R3,4(R4)");
push("beq cr1,.+8");
push("bne- cr7,.-8");
push("blt+ .+0x100");
push("bdnz+ .-0x100");
push("bdnz- .+0x100");
push("beqlr+ cr2");
push("bnectr- 3");
push("bcl 20,31,.+4");
push("rlwinm 3,4,0,0xff");
push("rlwinm 3,4,2,0xfffffffc");

// ---- assemble, dropping rejected and warned lines ----
const rejected: string[] = [];
const warned: string[] = [];
let live = [...lines];
for (;;) {
  await Deno.writeTextFile(`${TMP}/v.s`, live.join("\n") + "\n");
  const r = await run([...AS, "-o", `${TMP}/v.o`, `${TMP}/v.s`]);
  const bad = new Map<number, "error" | "warning">();
  for (const m of r.err.matchAll(/v\.s:(\d+): (Error|Warning)/g)) {
    const n = Number(m[1]) - 1;
    if (m[2] === "Error" || !bad.has(n)) bad.set(n, m[2] === "Error" ? "error" : "warning");
  }
  if (bad.size === 0 && r.code === 0) break;
  if (bad.size === 0) throw new Error(`as failed without line errors: ${r.err}`);
  const next: string[] = [];
  live.forEach((l, i) => {
    const b = bad.get(i);
    if (b === "error") rejected.push(l);
    else if (b === "warning") warned.push(l);
    else next.push(l);
  });
  live = next;
}
async function bytesOf(src: string, org: number, name: string): Promise<Uint8Array> {
  await Deno.writeTextFile(`${TMP}/${name}.s`, src);
  const steps = [
    [...AS, "-o", `${TMP}/${name}.o`, `${TMP}/${name}.s`],
    [
      "powerpc-linux-gnu-ld",
      `-Ttext=0x${org.toString(16)}`,
      "-e",
      "0",
      "-o",
      `${TMP}/${name}.elf`,
      `${TMP}/${name}.o`,
    ],
    [
      "powerpc-linux-gnu-objcopy",
      "-O",
      "binary",
      "-j",
      ".text",
      `${TMP}/${name}.elf`,
      `${TMP}/${name}.bin`,
    ],
  ];
  for (const s of steps) {
    const r = await run(s);
    if (r.code !== 0) throw new Error(`${s.join(" ")}: ${r.err}`);
  }
  return await Deno.readFile(`${TMP}/${name}.bin`);
}
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const all = await bytesOf(live.join("\n") + "\n", BASE, "v");
if (all.length !== live.length * 4) throw new Error(`size ${all.length} for ${live.length} lines`);
const vectors = live.map((l, i) => [BASE + 4 * i, l, hex(all.subarray(4 * i, 4 * i + 4))]);
// The disassembler's text (relative branch form) must be accepted by GNU as with the same bytes.
{
  const texts = live.map((_, i) =>
    disassembleOne(all.subarray(4 * i, 4 * i + 4), 0, {
      address: BASE + 4 * i,
      relativeBranches: true,
    }).text
  );
  const back = await bytesOf(texts.join("\n") + "\n", BASE, "d");
  const diff = texts.filter((_t, i) => hex(back.subarray(4 * i, 4 * i + 4)) !== vectors[i][2]);
  if (back.length !== all.length || diff.length) {
    throw new Error(`GNU as disagrees with the disassembler on: ${diff.slice(0, 10).join("; ")}`);
  }
  console.log(`${texts.length} disassembled lines re-assembled by GNU as to the same bytes`);
}
// Random words: whatever the disassembler decodes (not `.long`), GNU as must encode back the same.
{
  const words: number[] = [];
  const texts: string[] = [];
  const primaries = INTEGER_PRIMARY_OPCODES;
  const b = new Uint8Array(4);
  while (texts.length < 20000) {
    const w = ((pick(primaries) << 26) | Math.floor(rnd() * 0x4000000)) >>> 0;
    new DataView(b.buffer).setUint32(0, w);
    const t =
      disassembleOne(b, 0, { address: BASE + 4 * texts.length, relativeBranches: true }).text;
    if (t.startsWith(".long")) continue;
    words.push(w);
    texts.push(t);
  }
  const back = await bytesOf(texts.join("\n") + "\n", BASE, "r");
  const dv = new DataView(back.buffer, back.byteOffset);
  const diff = texts.filter((_, i) => dv.getUint32(4 * i) !== words[i]);
  if (back.length !== texts.length * 4 || diff.length) {
    throw new Error(`GNU as disagrees on random words: ${diff.slice(0, 10).join("; ")}`);
  }
  console.log(`${texts.length} random decoded words re-assembled by GNU as to the same bytes`);
}
// warned lines, each alone at BASE
const warnedVec: [string, string][] = [];
for (const l of warned) warnedVec.push([l, hex(await bytesOf(l + "\n", BASE, "w"))]);

const header = {
  binutils: version,
  commands: [
    `${AS.join(" ")} -o v.o v.s`,
    `powerpc-linux-gnu-ld -Ttext=0x${BASE.toString(16)} -e 0 -o v.elf v.o`,
    "powerpc-linux-gnu-objcopy -O binary -j .text v.elf v.bin",
  ],
  generator:
    "deno run --allow-run --allow-read --allow-write=arch/ppc/testdata,/tmp tools/gen_ppc_vectors.ts",
};
await Deno.writeTextFile(
  `${OUT}/gas_vectors.json`,
  JSON.stringify({ ...header, base: BASE, vectors, rejected, warned: warnedVec }, null, 0)
    .replace(/\],\[/g, "],\n[") + "\n",
);

// ---- whole programs ----
const PROGRAMS: { name: string; org: number; source: string }[] = [
  {
    name: "relocate_copy_loop",
    org: 0x3000,
    source: `# relocate_kernel-like indirection list walker and copy loop
	.globl relocate_new_kernel
relocate_new_kernel:
	mr	r8, r0
	mr	r9, r3		# list head
	li	r0, 0
	mtctr	r0
0:	lwz	r0, 0(r3)	# entry
	addi	r3, r3, 4
	rlwinm.	r7, r0, 0, 31, 31	# IND_DESTINATION
	beq	1f
	rlwinm	r8, r0, 0, 0, 19
	b	0b
1:	rlwinm.	r7, r0, 0, 30, 30	# IND_INDIRECTION
	beq	2f
	rlwinm	r9, r0, 0, 0, 19
	subi	r9, r9, 4
	b	0b
2:	rlwinm.	r7, r0, 0, 29, 29	# IND_DONE
	bne	done
	rlwinm.	r7, r0, 0, 28, 28	# IND_SOURCE
	beq	0b
	rlwinm	r0, r0, 0, 0, 19
	subi	r9, r0, 4
	subi	r8, r8, 4
	li	r7, 1024
	mtctr	r7
copy:	lwzu	r0, 4(r9)
	xor	r6, r6, r0
	stwu	r0, 4(r8)
	dcbst	0, r8
	sync
	icbi	0, r8
	bdnz	copy
	addi	r8, r8, 4
	b	0b
done:	isync
	sync
	mfspr	r3, 1023
	mtlr	r5
	blrl
	.long	done - relocate_new_kernel
`,
  },
  {
    name: "mmu_off_rfi",
    org: 0x80003000,
    source: `# turn the MMU off and continue at a physical address
	.set	MSR_RI, 0x2
	.set	MSR_ME, 0x1000
	li	r0, 0
	ori	r0, r0, MSR_RI|MSR_ME
	mtspr	27, r0		# SRR1
	lis	r4, (phys - 0x80000000)@ha
	addi	r4, r4, (phys - 0x80000000)@l
	mtsrr0	r4
	sync
	rfi
phys:	mfmsr	r5
	mtsprg	0, r5
	mtibatu	0, r0
	mtibatl	0, r0
	mtdbatu	1, r0
	mtdbatl	1, r0
	isync
	mfpvr	r6
	mftb	r7
	mftbu	r8
	cmpwi	cr1, r7, 0
	beq-	cr1, phys
	trap
`,
  },
  {
    name: "label_arithmetic",
    org: 0x1000,
    source: `# label arithmetic, @ha/@l, data directives
start:
	lis	r3, table@ha
	addi	r3, r3, table@l
	lis	r4, end@h
	ori	r4, r4, end@l
	lwz	r5, table@l(r3)
	li	r6, (end - table) / 4
	addis	r7, r3, (table + 0x8000)@ha
	la	r8, 8(r3)
	bl	func
	b	end
func:	blr
	.align	4
table:	.long	start, func, end, . - start
	.word	0x1234, 0xffff
	.short	-1
	.byte	1, 2, 3
	.align	2
	.asciz	"hi\\n"
	.ascii	"ab"
	.balign	16, 0xaa
	.space	3, 0x55
	.p2align 3
	.org	0x80
x = 42
	.long	x, x * 2 + 1, 0x12345678@ha, 0x12345678@h, 0x12345678@l
	.fill	2, 4, 0x01020304
end:	nop
`,
  },
  {
    name: "align_fill_in_code",
    org: 0x2000,
    source: `	.byte	1
	.align	4
	nop
	.balign	32
	.byte	2, 3
	.p2align 3
	blr
	.balign	8
	trap
`,
  },
  {
    name: "branches_and_hints",
    org: 0x4000,
    source: `top:	cmpw	r3, r4
	beq+	top
	bne-	top
	bgt	cr3, fwd
	ble+	cr3, fwd
	bdnz	top
	bdz-	fwd
	bdnzf	4*cr1+eq, top
	bc	16, 0, top
	bca	20, 0, 0x100
	ba	0x200
	bla	0x300
	beqlr
	bnelr+	cr1
	bltctr
	bctrl
	crset	4*cr2+gt
	crclr	so
	crmove	lt, eq
	crnot	gt, gt
	mcrf	cr1, cr7
	mfcr	r3
	mtcrf	0x80, r3
	mtcr	r4
fwd:	twi	4, r3, 0
	tweq	r3, r4
	twlgti	r5, 100
	sc
`,
  },
  {
    name: "expressions_and_directives",
    org: 0x100,
    source: `# expression syntax and data directives
	.text
	.globl	_start
	.type	_start, @function
_start:	.long	1+2*3, (1+2)*3, 7/2, -7/2, 7%3, -7%3, 1<<31, 0x80000000>>31
	.long	~0, -1 & 0xff, 6 | 1, 6 ^ 3, 5 ! 1, 3 == 3, 3 != 3, 2 < 3, 2 > 3
	.long	'A', 'a'+1, 017, 0b1010, 10, 0xFFFF, 1 && 0, 1 || 0, 4 <= 4, 4 >= 5
	.equ	SIZE, 0x40
	.set	MASK, SIZE - 1
	.long	SIZE, MASK, SIZE * 2 + MASK, (SIZE << 16) | MASK
	.quad	0x123456789abcdef0, -2
	.8byte	1
	.4byte	2
	.2byte	3
	.hword	4
	.int	5
	.string	"a", "bc"
	.asciz	"tab\\there\\0end"
	.ascii	"\\x41\\102\\"q\\\\"
	.byte	-128, 255, 'z'
	.align	2, 0xee
	.skip	5, 0x11
	.zero	3
	.fill	3, 2, 0x1234
	.fill	2, 8, 0x89abcdef
	.fill	2
	.balign	4
10:	.long	10f - 10b, 10b
10:	.long	11f - .
11:	.long	_start, . - _start, end - _start
	.section .text.more, "ax"
	li	r3, MASK@l
	lis	r4, (end + 4)@ha ; addi r4, r4, (end + 4)@l
	li	r5, 'x' ; li r6, -SIZE
end:	.long	0x55aa55aa
`,
  },
];
const programs = [];
for (const p of PROGRAMS) {
  programs.push({ ...p, hex: hex(await bytesOf(p.source, p.org, p.name)) });
}
await Deno.writeTextFile(
  `${OUT}/gas_programs.json`,
  JSON.stringify({ ...header, programs }, null, 1) + "\n",
);
console.log(
  `${vectors.length} vectors, ${rejected.length} rejected, ${warned.length} warned, ${programs.length} programs`,
);
await Deno.remove(TMP, { recursive: true });
