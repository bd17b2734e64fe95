// Bad input as a user writes it, through the CLI on the real machine model: every case ends with
// a message at the file's line and column, the right exit code and no stack trace.
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./testdata/cli_harness.ts";

const SCENARIOS = new URL("../scenarios/", import.meta.url);
const HELLO = new URL("bootsector_hello.yaml", SCENARIOS);
const BAD_BOOT_FLAG = new URL("image_bad_boot_flag.yaml", SCENARIOS);

async function cli(args: string[]) {
  const r = await runCli(args);
  return { code: r.code, out: r.stdout + r.stderr };
}

interface Case {
  /** What the user got wrong. */
  what: string;
  /** The scenario it starts from. */
  from: URL;
  /** The edit: [text in the scenario, replacement]. */
  edit: [string, string];
  /** Extra files beside the scenario. */
  files?: Record<string, Uint8Array>;
  /** Exit code. */
  code: 1 | 2;
  /** `line:col: message start` after the file name. */
  at: string;
  /** More text the message must contain. */
  also?: string;
}

const GOOD_BZIMAGE = await Deno.readFile(new URL("images/good.bzImage", SCENARIOS));
// A deterministic pattern with no ELF magic, boot sector signature or DOL header.
const JUNK = new Uint8Array(4096).map((_, i) => (i * 0x9e + 0x37) & 0xff);

const CASES: Case[] = [
  {
    what: "invalid asm",
    from: HELLO,
    edit: ["mov dx, 0xe9", "mov dx, [bx+"],
    code: 2,
    at: "17:27: asm: Expected an expression but found end of line",
  },
  {
    what: "invalid asm in a quoted scalar (reported at the scalar, with the asm line)",
    from: new URL("testdata/quoted_asm.yaml", import.meta.url),
    edit: ["nop", "frob eax"],
    code: 2,
    at: "7:52: asm (line 3, column 2 of the asm text): Unknown instruction: frob",
  },
  {
    what: "unknown board",
    from: HELLO,
    edit: ["board: pc-legacy", "board: pc-legasy"],
    code: 2,
    at: '7:10: Impossible machine: Unknown board: pc-legasy (did you mean "pc-legacy"?)',
  },
  {
    what: "unknown CPU model",
    from: HELLO,
    edit: ["model: i486", "model: i487"],
    code: 2,
    at: '8:17: Impossible machine: Unknown CPU model: i487 (did you mean "i486"?)',
  },
  {
    what: "more RAM than the CPU can address",
    from: HELLO,
    edit: ["memory: 16M", "memory: 1000T"],
    code: 2,
    at: "9:11: Impossible machine: 1024000 GiB of RAM on board pc-legacy needs addresses",
  },
  {
    what: "a size beyond 64 bits",
    from: HELLO,
    edit: ["memory: 16M", "memory: 99999999999999999999999T"],
    code: 2,
    at: "9:11: machine.memory: Value does not fit in 64 bits",
  },
  {
    what: "a string where a number goes",
    from: HELLO,
    edit: ["memory: 16M", "memory: lots"],
    code: 2,
    at: '9:11: machine.memory: Not an integer: "lots"',
  },
  {
    what: "a RAM size that is not a whole number of pages",
    from: HELLO,
    edit: ["memory: 16M", "memory: 16777217"],
    code: 2,
    at: "9:11: Impossible machine: RAM size is not a whole number of pages: 0x1000001 bytes " +
      "(expected a multiple of 4 KiB)",
  },
  {
    what: "SMP without local APICs",
    from: HELLO,
    edit: ["model: i486 }", "model: i386, count: 4 }"],
    code: 2,
    at: "8:30: Impossible machine: 4 CPUs need local APICs for INIT/SIPI and IPIs",
  },
  {
    what: "an unknown step",
    from: HELLO,
    edit: ["- run:", "- rnu:"],
    code: 2,
    at: "28:5: steps[1]: Unknown step: rnu: expected one of power_on, boot, kexec_load",
  },
  {
    what: "a zero instruction budget",
    from: HELLO,
    edit: ["max_instructions: 10_000", "max_instructions: 0"],
    code: 2,
    at: "28:43: steps[1].run.max_instructions: Value too small: 0: expected at least 1",
  },
  {
    what: "an expectation on a CPU the machine does not have",
    from: HELLO,
    edit: ["    0: { state: stopped", "    3: { state: stopped"],
    code: 2,
    at: '32:5: expect.cpu[3]: the state has no key 3 (did you mean "0"?): it has 0',
  },
  {
    what: "a misspelled snapshot key",
    from: HELLO,
    edit: ["eflags: {", "eflagz: {"],
    code: 2,
    at: '32:38: expect.cpu[0].eflagz: the state has no key eflagz (did you mean "eflags"?)',
  },
  {
    what: "a number where the state is text",
    from: HELLO,
    edit: ["0: { state: stopped,", "0: { state: 5,"],
    code: 2,
    at: '32:17: expect.cpu[0].state: 0x5 is a number, but this state is text (now "stopped")',
  },
  {
    what: "an expected value wider than its bit field",
    from: HELLO,
    edit: ["eflags: { if: 0,", "eflags: { if: 2,"],
    code: 2,
    at: "32:52: expect.cpu[0].eflags.if: 0x2 does not fit in a 1-bit field: expected at most 0x1",
  },
  {
    what: "an expected value wider than its register",
    from: HELLO,
    edit: ["0: { state: stopped,", "0: { eip: 0x1_0000_0000, state: stopped,"],
    code: 2,
    at:
      "32:15: expect.cpu[0].eip: 0x100000000 does not fit in 32 bits: expected at most 0xffffffff",
  },
  {
    what: "a matrix reference without a matrix",
    from: HELLO,
    edit: ["model: i486", 'model: "${cpu}"'],
    code: 2,
    at: "8:17: machine.cpu.model: ${cpu} refers to a matrix axis, but the scenario has no matrix",
  },
  {
    what: "a matrix reference to an undefined axis",
    from: HELLO,
    edit: [
      "machine:\n  board: pc-legacy",
      'matrix:\n  board: [pc-legacy]\nmachine:\n  board: "${bord}"',
    ],
    code: 2,
    at: "9:10: machine.board: Unknown matrix axis: ${bord}: expected one of board",
  },
  {
    what: "a missing image file",
    from: BAD_BOOT_FLAG,
    edit: ["file: images/good.bzImage", "file: images/missing.bzImage"],
    code: 2,
    at: "24:39: Image file ",
    also: "images/missing.bzImage: file not found",
  },
  {
    what: "a truncated bzImage (kexec-tools refuses it: ENOEXEC where success was expected)",
    from: BAD_BOOT_FLAG,
    edit: ["file: images/good.bzImage", "file: images/truncated.bzImage"],
    files: { "images/truncated.bzImage": GOOD_BZIMAGE.subarray(0, 700) },
    code: 1,
    at: "24:7: steps[2].kexec_load: The step kexec_load failed: ENOEXEC: kexec-tools cannot " +
      "load the bzImage image: Setup code extends beyond the end of the image: 4 sectors need " +
      "0xa00 bytes, the image has 0x2bc (bzImage offset 0x1f1)",
  },
  {
    what: "a garbage file as bzImage",
    from: BAD_BOOT_FLAG,
    edit: ["file: images/good.bzImage", "file: images/junk.bin"],
    files: { "images/junk.bin": JUNK },
    code: 1,
    at: "24:7: steps[2].kexec_load: The step kexec_load failed: ENOEXEC: kexec-tools cannot " +
      "load the bzImage image: Cannot determine the file type: no loader (ELF, bzImage, DOL) " +
      "recognises these 4096 bytes\n",
  },
];

for (const c of CASES) {
  Deno.test(`bad input through the CLI: ${c.what}`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const text = await Deno.readTextFile(c.from);
      assert.ok(text.includes(c.edit[0]), `the scenario must contain ${c.edit[0]}`);
      const name = c.from.pathname.split("/").pop()!;
      const file = join(dir, name);
      await Deno.writeTextFile(file, text.replace(c.edit[0], c.edit[1]));
      await Deno.mkdir(join(dir, "images"));
      for (const image of ["bad_boot_flag.bzImage", "good.bzImage"]) {
        await Deno.copyFile(new URL(`images/${image}`, SCENARIOS), join(dir, "images", image));
      }
      for (const [path, bytes] of Object.entries(c.files ?? {})) {
        await Deno.writeFile(join(dir, path), bytes);
      }
      const r = await cli([file]);
      assert.equal(r.code, c.code, r.out);
      assert.ok(r.out.includes(`${file}:${c.at}`), r.out);
      if (c.also) assert.ok(r.out.includes(c.also), r.out);
      assert.doesNotMatch(r.out, /^\s+at .*:\d+:\d+\)?$/m, "no stack trace");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
