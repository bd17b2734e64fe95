/**
 * sys_kexec_load and compat_sys_kexec_load for 2.6.8.1-kexec3 and 2.6.13 (reference
 * kexec-kernel.md §1): capability, flag and architecture checks, KEXEC_SEGMENT_MAX, destination
 * limits, alignment, overlap, bufsz > memsz, kexec_lock (EBUSY), the crash slot and unload, with
 * the exact errno values and check order of each version.
 *
 * @module
 */

import { ERRNO, type Errno, KernelError } from "./errno.ts";
import type { KexecArch, KexecServices } from "./arch.ts";
import { KEXEC_TYPE_CRASH, type KexecSegment, Kimage } from "./kimage.ts";

/** KEXEC_ON_CRASH. */
export const KEXEC_ON_CRASH = 0x00000001;
/** KEXEC_ARCH_MASK. */
export const KEXEC_ARCH_MASK = 0xffff0000;
/** KEXEC_ARCH_DEFAULT. */
export const KEXEC_ARCH_DEFAULT = 0;
/** KEXEC_ARCH_386. */
export const KEXEC_ARCH_386 = 3 << 16;
/** KEXEC_ARCH_X86_64. */
export const KEXEC_ARCH_X86_64 = 62 << 16;
/** KEXEC_ARCH_PPC. */
export const KEXEC_ARCH_PPC = 20 << 16;
/** KEXEC_FLAGS: legal low bits (2.6.13). */
export const KEXEC_FLAGS: number = KEXEC_ON_CRASH;

/** A segment as user space passes it (numbers or bigints; buf null = a faulting pointer). */
export interface UserSegment {
  /** Data (the user buffer). */
  readonly buf: Uint8Array | null;
  /** Bytes the caller claims at buf (default buf.length). */
  readonly bufsz?: bigint | number;
  /** Physical destination. */
  readonly mem: bigint | number;
  /** Bytes of destination memory (default bufsz). */
  readonly memsz?: bigint | number;
}

/** Arguments of kexec_load as the model accepts them. */
export interface KexecLoadArgs {
  /** Entry point (physical). */
  readonly entry: bigint | number;
  /** Segment array; null when the array pointer itself faults. */
  readonly segments: readonly UserSegment[] | null;
  /** nr_segments (default segments.length). */
  readonly nrSegments?: number;
  /** Flags word (default 0). */
  readonly flags?: number;
  /** Set KEXEC_ON_CRASH in the flags (the scenario's `crash: true`). */
  readonly crash?: boolean;
  /** Word size of the calling process: 64-bit callers on x86_64 are native; 32 uses compat. */
  readonly caller?: 32 | 64;
  /** The caller has CAP_SYS_BOOT (default true). */
  readonly capSysBoot?: boolean;
}

/** Result of a system call: 0, a positive byte count (copy quirk), or an errno. */
export interface SyscallResult {
  /** The return value as user space sees it (negative errno on failure). */
  readonly ret: number;
  /** Errno name, or 0 for success. */
  readonly errno: 0 | Errno;
  /** Why it failed, when it failed. */
  readonly reason?: string;
}

/** Ok result. */
export const OK: SyscallResult = { ret: 0, errno: 0 };

/** Turn a thrown KernelError into a result; anything else is re-thrown. */
export function toResult(e: unknown): SyscallResult {
  if (e instanceof KernelError) return { ret: -ERRNO[e.errno], errno: e.errno, reason: e.message };
  throw e;
}

/** The kexec state of the kernel: the two image slots, the lock and crashk_res. */
export interface KexecState {
  /** kexec_image. */
  image: Kimage | null;
  /** kexec_crash_image (2.6.13). */
  crashImage: Kimage | null;
  /** kexec_lock (2.6.13). */
  locked: boolean;
  /** crashk_res bounds (both 0 without crashkernel=). */
  crashRegion: { start: bigint; end: bigint };
}

function big(v: bigint | number): bigint {
  return typeof v === "bigint" ? v : BigInt(v);
}

/**
 * The generic kexec code of one kernel.
 *
 * @example
 * ```ts ignore
 * const kexec = new Kexec({ services, arch });
 * kexec.load({ entry: 0x100000, segments: [{ buf, mem: 0x100000, memsz: 0x2000 }] }); // { ret: 0, errno: 0 }
 * ```
 */
export class Kexec {
  /** Slots, lock and crash region. */
  readonly state: KexecState = {
    image: null,
    crashImage: null,
    locked: false,
    crashRegion: { start: 0n, end: 0n },
  };
  readonly #k: KexecServices;
  readonly #arch: KexecArch;

  /** Create the generic code over the services and the architecture hooks. */
  constructor(options: { services: KexecServices; arch: KexecArch }) {
    this.#k = options.services;
    this.#arch = options.arch;
  }

  /** The architecture hooks. */
  get arch(): KexecArch {
    return this.#arch;
  }

  #log(fn: string, msg: string): void {
    this.#k.log(fn, msg);
  }

  #wordMask(): bigint {
    return this.#arch.limits.wordBytes === 4 ? 0xffffffffn : 0xffffffffffffffffn;
  }

  /** kexec_load system call from a caller of the given word size. */
  load(args: KexecLoadArgs): SyscallResult {
    const cfg = this.#k.config;
    const b = cfg.behaviour;
    if (!cfg.patch("kexec-generic") || !cfg.patch("kexec-arch")) {
      this.#log("sys_kexec_load", "not implemented (patch off): -ENOSYS");
      return { ret: -ERRNO.ENOSYS, errno: "ENOSYS", reason: "ENOSYS: no kexec_load system call" };
    }
    const caller = args.caller ?? (this.#arch.limits.wordBytes === 8 ? 64 : 32);
    if (caller === 64 && this.#arch.limits.wordBytes === 4) {
      throw new TypeError(`Caller word size 64 is impossible on ${this.#arch.name}`);
    }
    if (caller === 32 && this.#arch.limits.wordBytes === 8) {
      if (!b.compatEntry) {
        this.#log("ia32 syscall 283", "ni_syscall: -ENOSYS (no compat entry in this version)");
        return { ret: -ERRNO.ENOSYS, errno: "ENOSYS", reason: "ENOSYS: no compat kexec_load" };
      }
      return this.#compat(args);
    }
    return this.#sys(args, args.segments);
  }

  #compat(args: KexecLoadArgs): SyscallResult {
    const flags = ((args.flags ?? 0) | (args.crash ? KEXEC_ON_CRASH : 0)) >>> 0;
    const nr = args.nrSegments ?? args.segments?.length ?? 0;
    if (((flags & KEXEC_ARCH_MASK) >>> 0) === KEXEC_ARCH_DEFAULT) {
      this.#log("compat_sys_kexec_load", "KEXEC_ARCH_DEFAULT from a 32-bit caller: -EINVAL");
      return {
        ret: -ERRNO.EINVAL,
        errno: "EINVAL",
        reason: "EINVAL: compat caller must name the arch",
      };
    }
    if (nr > this.#k.config.behaviour.segmentMax) {
      return { ret: -ERRNO.EINVAL, errno: "EINVAL", reason: "EINVAL: too many segments" };
    }
    if (args.segments === null || args.segments.length < nr) {
      return { ret: -ERRNO.EFAULT, errno: "EFAULT", reason: "EFAULT: compat segment array faults" };
    }
    // 16-byte compat segments: every field is 32 bits wide.
    const converted = args.segments.slice(0, nr).map((s) => ({
      buf: s.buf,
      bufsz: big(s.bufsz ?? s.buf?.length ?? 0) & 0xffffffffn,
      mem: big(s.mem) & 0xffffffffn,
      memsz: big(s.memsz ?? s.bufsz ?? s.buf?.length ?? 0) & 0xffffffffn,
    }));
    this.#log("compat_sys_kexec_load", `converted ${nr} compat segments`);
    return this.#sys({ ...args, caller: 64 }, converted);
  }

  #sys(args: KexecLoadArgs, segs: readonly UserSegment[] | null): SyscallResult {
    const cfg = this.#k.config;
    const b = cfg.behaviour;
    const flags = ((args.flags ?? 0) | (args.crash ? KEXEC_ON_CRASH : 0)) >>> 0;
    const nr = args.nrSegments ?? segs?.length ?? 0;
    const fail = (errno: Errno, reason: string): SyscallResult => {
      this.#log("sys_kexec_load", `${reason}: -${errno}`);
      return { ret: -ERRNO[errno], errno, reason: `${errno}: ${reason}` };
    };
    if (args.capSysBoot === false) return fail("EPERM", "no CAP_SYS_BOOT");
    if (b.flagsRule === "zero") {
      if (flags !== 0) return fail("EINVAL", `flags 0x${flags.toString(16)} must be 0`);
    } else {
      if ((flags & KEXEC_FLAGS) !== (flags & ~KEXEC_ARCH_MASK)) {
        return fail("EINVAL", `unknown flag bits 0x${(flags & 0xfffe).toString(16)}`);
      }
      const a = (flags & KEXEC_ARCH_MASK) >>> 0;
      if (a !== this.#arch.limits.kexecArch && a !== KEXEC_ARCH_DEFAULT) {
        return fail("EINVAL", `architecture field 0x${a.toString(16)} is not this kernel's`);
      }
    }
    if (nr > b.segmentMax) {
      return fail("EINVAL", `nr_segments ${nr} > KEXEC_SEGMENT_MAX ${b.segmentMax}`);
    }
    if (b.kexecLock) {
      if (this.state.locked) return fail("EBUSY", "kexec_lock is held");
      this.state.locked = true;
    }
    const crash = b.crashImage && (flags & KEXEC_ON_CRASH) !== 0;
    let image: Kimage | null = null;
    let result: SyscallResult = OK;
    try {
      if (nr > 0) {
        if (crash) {
          const old = this.state.crashImage;
          this.state.crashImage = null;
          if (old) this.#log("sys_kexec_load", "freeing the loaded crash image before loading");
          this.free(old);
        }
        const r = this.#alloc(args, segs, nr, crash);
        if (typeof r === "number") {
          result = { ret: r, errno: 0, reason: `copy_from_user left ${r} bytes` };
          this.#log("kimage_alloc", `segment array copy faulted: returns ${r}`);
        } else {
          image = r;
          this.#arch.machineKexecPrepare(this.#k, image);
          for (const seg of image.segments) image.loadSegment(seg);
          image.terminate();
          this.#log(
            "sys_kexec_load",
            `${crash ? "crash " : ""}image loaded: head=0x${image.head.toString(16)} control=0x${
              image.controlCodePage.toString(16)
            } entry=0x${image.start.toString(16)}`,
          );
        }
      } else this.#log("sys_kexec_load", `unload ${crash ? "crash image" : "image"}`);
      if (result.ret === 0) {
        const old = crash ? this.state.crashImage : this.state.image;
        if (crash) this.state.crashImage = image;
        else this.state.image = image;
        image = old;
      }
    } catch (e) {
      result = toResult(e);
      this.#log("sys_kexec_load", `failed: ${result.reason}`);
    } finally {
      if (b.kexecLock) this.state.locked = false;
      this.free(image);
    }
    return result;
  }

  #alloc(
    args: KexecLoadArgs,
    segs: readonly UserSegment[] | null,
    nr: number,
    crash: boolean,
  ): Kimage | number {
    const b = this.#k.config.behaviour;
    const limits = this.#arch.limits;
    const mask = this.#wordMask();
    const entry = big(args.entry) & mask;
    const region = this.state.crashRegion;
    if (crash && (entry < region.start || entry > region.end)) {
      throw new KernelError(
        "EADDRNOTAVAIL",
        `crash entry 0x${entry.toString(16)} outside crashkernel [0x${
          region.start.toString(16)
        }, 0x${region.end.toString(16)}]`,
      );
    }
    const segBytes = limits.wordBytes * 4;
    if (segs === null || segs.length < nr) {
      const copied = segs === null ? 0 : segs.length;
      return (nr - copied) * segBytes;
    }
    const segments: KexecSegment[] = segs.slice(0, nr).map((s) => {
      const bufsz = big(s.bufsz ?? s.buf?.length ?? 0) & mask;
      return {
        buf: s.buf,
        bufsz,
        mem: big(s.mem) & mask,
        memsz: big(s.memsz ?? bufsz) & mask,
      };
    });
    segments.forEach((s, i) => {
      const mstart = s.mem, mend = (s.mem + s.memsz) & mask;
      if (b.alignmentCheck && ((mstart & 0xfffn) !== 0n || (mend & 0xfffn) !== 0n)) {
        throw new KernelError(
          "EADDRNOTAVAIL",
          `segment ${i} [0x${mstart.toString(16)}, 0x${mend.toString(16)}) is not page aligned`,
        );
      }
      if (mend >= limits.destinationMemoryLimit) {
        throw new KernelError(
          "EADDRNOTAVAIL",
          `segment ${i} ends at 0x${mend.toString(16)} >= KEXEC_DESTINATION_MEMORY_LIMIT`,
        );
      }
    });
    if (b.overlapCheck) {
      for (let i = 0; i < segments.length; i++) {
        const ms = segments[i].mem, me = (ms + segments[i].memsz) & mask;
        for (let j = 0; j < i; j++) {
          const ps = segments[j].mem, pe = (ps + segments[j].memsz) & mask;
          if (me > ps && ms < pe) {
            throw new KernelError("EINVAL", `segment ${i} overlaps segment ${j}`);
          }
        }
      }
    }
    if (b.bufszCheck) {
      segments.forEach((s, i) => {
        if (s.bufsz > s.memsz) throw new KernelError("EINVAL", `segment ${i} has bufsz > memsz`);
      });
    }
    const image = new Kimage({
      memory: this.#k.machine.memory,
      pages: this.#k.pages,
      limits,
      behaviour: b,
      segments,
      start: entry,
      type: crash ? KEXEC_TYPE_CRASH : 0,
      crashRegion: crash ? region : undefined,
      log: (fn, m) => this.#log(fn, m),
    });
    try {
      if (crash) {
        segments.forEach((s, i) => {
          // mend = mstart + memsz - 1 in unsigned long: a zero-length segment at 0 wraps to ~0.
          if (s.mem < region.start || ((s.mem + s.memsz - 1n) & mask) > region.end) {
            throw new KernelError(
              "EADDRNOTAVAIL",
              `crash segment ${i} outside the crashkernel region`,
            );
          }
        });
      }
      const order = Math.max(0, Math.ceil(Math.log2(limits.controlCodeSize / 4096)));
      const page = image.allocControlPages(order);
      if (page === null) {
        this.#log("kimage_alloc", "Could not allocate control_code_buffer");
        throw new KernelError("ENOMEM", "Could not allocate control_code_buffer");
      }
      image.controlCodePage = page;
      this.#log("kimage_alloc", `control code page 0x${page.toString(16)} (order ${order})`);
    } catch (e) {
      this.free(image);
      throw e;
    }
    return image;
  }

  /** kimage_free (NULL-safe). */
  free(image: Kimage | null): void {
    if (!image) return;
    image.freeEntries();
    this.#arch.machineKexecCleanup(this.#k, image);
    image.freeControlPages();
  }

  /** Take the normal image out of its slot (kernel_kexec's xchg). */
  takeImage(): Kimage | null {
    const img = this.state.image;
    this.state.image = null;
    return img;
  }
}
