/**
 * Generates kernel/image/testdata/kexec_tools_2.0.25.json: segment lists (and the bytes of the
 * zero page / parameter segments) that the real kexec-tools computes for synthetic images built
 * by kernel/image's builders, with a fake memory map.
 *
 * How: for each case, in a private mount namespace (`unshare -m`, needs root), a directory of fake
 * `<n>/{start,end,type}` files is bind-mounted over /sys/firmware/memmap (and a fake file over
 * /proc/cmdline for --reuse-cmdline), then `kexec -l --debug` runs with an LD_PRELOAD shim
 * (C source below, built with cc) that intercepts `syscall(SYS_kexec_load, ...)`, writes every
 * segment buffer to a directory and fails with ENOSYS. The `--debug` text printed before the
 * syscall gives the segment list; the dumped buffers give the contents.
 *
 * Run as root: `deno run -A tools/gen_kexec_tools_vectors.ts` (Debian's kexec-tools, cc).
 *
 * @module
 */

import type { MemoryMapEntry } from "../kernel/image/kexec_tools_memory.ts";
import { caseImage, caseInitrd, CASES } from "../kernel/image/testdata/kexec_tools_cases.ts";

const SHIM = `
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
struct seg { const void *buf; size_t bufsz; const void *mem; size_t memsz; };
long syscall(long n, ...) {
  va_list ap; long a[6]; int i;
  va_start(ap, n); for (i = 0; i < 6; i++) a[i] = va_arg(ap, long); va_end(ap);
  if (n == SYS_kexec_load) {
    const char *dir = getenv("KEXEC_DUMP_DIR");
    const struct seg *s = (const struct seg *)a[2];
    for (i = 0; dir && i < (int)a[1]; i++) {
      char path[512]; FILE *f;
      snprintf(path, sizeof path, "%s/%d.bin", dir, i);
      f = fopen(path, "wb"); if (f) { fwrite(s[i].buf, 1, s[i].bufsz, f); fclose(f); }
    }
    errno = ENOSYS; return -1;
  }
  long (*real)(long, ...) = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  return real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
`;

const SYSFS_TYPE: Record<MemoryMapEntry["type"], string> = {
  ram: "System RAM",
  reserved: "Reserved",
  acpi: "ACPI Tables",
  nvs: "ACPI Non-volatile Storage",
  unusable: "Unusable memory",
  uncached: "Uncached RAM",
  pmem: "Persistent Memory",
  pram: "Persistent Memory (legacy)",
};

async function run(cmd: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    stderr: "piped",
    stdout: "piped",
  })
    .output();
  return {
    code: r.code,
    stdout: new TextDecoder().decode(r.stdout),
    stderr: new TextDecoder().decode(r.stderr),
  };
}

function parseDebug(stderr: string) {
  const m = /kexec_load: entry = (0x[0-9a-f]+) flags = (0x[0-9a-f]+)\n/.exec(stderr);
  if (!m) return undefined;
  const after = stderr.slice(m.index);
  const n = Number(/nr_segments = (\d+)/.exec(after)![1]);
  const segments = [];
  for (let i = 0; i < n; i++) {
    const f = (k: string) =>
      new RegExp(`segment\\[${i}\\]\\.${k}\\s*= (0x[0-9a-f]+)`).exec(after)![1];
    segments.push({ bufsz: f("bufsz"), mem: f("mem"), memsz: f("memsz") });
  }
  return { entry: m[1], flags: m[2], segments };
}

if (import.meta.main) {
  const version = (await run(["kexec", "--version"])).stdout.trim() ||
    (await run(["kexec", "--version"])).stderr.trim();
  const dpkg = (await run(["dpkg-query", "-W", "-f", "${Version}", "kexec-tools"])).stdout.trim();
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/shim.c`, SHIM);
  const cc = await run([
    "cc",
    "-shared",
    "-fPIC",
    "-O2",
    "-o",
    `${dir}/shim.so`,
    `${dir}/shim.c`,
    "-ldl",
  ]);
  if (cc.code !== 0) throw new Error(cc.stderr);
  const out: Record<string, unknown>[] = [];
  for (const c of CASES) {
    const cdir = `${dir}/${c.name}`;
    await Deno.mkdir(`${cdir}/memmap`, { recursive: true });
    await Deno.mkdir(`${cdir}/dump`, { recursive: true });
    c.memoryMap.forEach((e, i) => {
      Deno.mkdirSync(`${cdir}/memmap/${i}`);
      Deno.writeTextFileSync(`${cdir}/memmap/${i}/start`, `0x${e.base.toString(16)}\n`);
      Deno.writeTextFileSync(
        `${cdir}/memmap/${i}/end`,
        `0x${(e.base + e.size - 1n).toString(16)}\n`,
      );
      Deno.writeTextFileSync(`${cdir}/memmap/${i}/type`, SYSFS_TYPE[e.type] + "\n");
    });
    await Deno.writeFile(`${cdir}/image`, caseImage(c));
    const initrd = caseInitrd(c);
    const args = ["-l", "--debug", ...c.args];
    if (initrd) {
      await Deno.writeFile(`${cdir}/initrd`, initrd);
      args.push(`--initrd=${cdir}/initrd`);
    }
    args.push(`${cdir}/image`);
    await Deno.writeTextFile(`${cdir}/cmdline`, (c.procCmdline ?? "") + "\n");
    const script = [
      "set -e",
      `mount --bind ${cdir}/memmap /sys/firmware/memmap`,
      `mount --bind ${cdir}/cmdline /proc/cmdline`,
      `exec env LD_PRELOAD=${dir}/shim.so KEXEC_DUMP_DIR=${cdir}/dump kexec ${
        args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ")
      }`,
    ].join("\n");
    const r = await run(["unshare", "-m", "sh", "-c", script]);
    const text = r.stderr.split("\n").filter((l) => !/^(sym:|R_X86_64| {2})/.test(l)).join("\n")
      .replaceAll(cdir, "<case>").replace(/^kernel: 0x[0-9a-f]+ /m, "kernel: <ptr> ")
      .replace(/(segment\[\d+\]\.buf\s*= )0x[0-9a-f]+/g, "$1<ptr>");
    const parsed = parseDebug(r.stderr);
    const buffers: Record<string, string> = {};
    if (parsed) {
      for (let i = 0; i < parsed.segments.length; i++) {
        const b = await Deno.readFile(`${cdir}/dump/${i}.bin`).catch(() => undefined);
        // Only small non-purgatory buffers are kept (zero page, notes, setup_data).
        if (b && b.length <= 0x4000 && b.length !== 0x70e0) {
          buffers[i] = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
        }
      }
    }
    const error = parsed ? undefined : text.trim().split("\n").at(-1);
    out.push({
      name: c.name,
      exitCode: r.code,
      ...(parsed ?? {}),
      buffers,
      error,
      debugText: text,
    });
    console.error(
      `${c.name}: ${parsed ? `${parsed.segments.length} segments` : `error: ${error}`}`,
    );
  }
  const json = {
    generator: "tools/gen_kexec_tools_vectors.ts",
    kexecVersion: version,
    debianPackage: `kexec-tools ${dpkg}`,
    host: (await run(["uname", "-srm"])).stdout.trim(),
    cases: out,
  };
  await Deno.writeTextFile(
    new URL("../kernel/image/testdata/kexec_tools_2.0.25.json", import.meta.url),
    JSON.stringify(json, null, 1) + "\n",
  );
  await Deno.remove(dir, { recursive: true });
}
