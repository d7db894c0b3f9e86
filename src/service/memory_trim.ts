// Gives start-up-only memory back to the system once the node is running (Linux).
//
// A Deno process touches far more of its own binary while it starts (module loading, the
// snapshot, code caches, the compilers warming up) than it runs afterwards, and those clean file
// pages stay mapped, counted in its resident set and kept from cheap reclaim, for the life of the
// process. One trim, after start-up has settled, unmaps them: `madvise(MADV_DONTNEED)` over the
// present pages of every read-only file mapping that still hold the file's own bytes (per
// /proc/self/pagemap: a private mapping's page that was ever written, as relocated read-only data
// is, holds anonymous memory and is left alone). The pages stay in the page cache, unmapped, so
// the kernel may drop them at no cost; code the process still runs faults back in from the cache.
// The identity hash's 2 MiB scratch memory, which every hash rewrites before reading, is unmapped
// too (zero pages until the next hash). Then glibc's `malloc_trim(0)` returns free malloc memory. No content changes, so this is safe
// at any time; it costs a few minor faults of the hot code afterwards.
import { dlopenFirst } from "../../ffi/dlopen_first.ts";
import { releasableIdentityScratch } from "../vl1/identity_hash.ts";

/** `MADV_DONTNEED`: unmap these pages (file pages refault from the page cache). */
const MADV_DONTNEED = 4;
const PAGE = 4096;
/** /proc/self/pagemap entry bits: page present; page is a file page (or shared anonymous). */
const PM_PRESENT = 1n << 63n;
const PM_FILE = 1n << 61n;

const open = dlopenFirst(
  ["libc.so.6"],
  {
    madvise: { parameters: ["usize", "usize", "i32"], result: "i32" },
    // glibc only (musl has none): optional, so the library still opens without it
    malloc_trim: { parameters: ["usize"], result: "i32", optional: true },
  } as const,
);

/** One address range of a mapping, [start, end), and whether it is a private mapping. */
export interface MappingRange {
  start: bigint;
  end: bigint;
  private: boolean;
}

/**
 * The ranges of `/proc/self/maps` text worth trimming: mappings of a regular file (a path that is
 * not under /dev and not a memfd or a deleted file) that are not writable. Malformed lines are
 * skipped; never throws.
 */
export function trimmableMappings(maps: string): MappingRange[] {
  const out: MappingRange[] = [];
  for (const line of maps.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][ps]) [0-9a-f]+ \S+ \d+\s+(\/.*)$/.exec(line);
    if (m === null) continue;
    const [, lo, hi, perms, path] = m;
    if (perms[1] === "w" || perms[0] !== "r") continue;
    if (path.startsWith("/dev/") || path.startsWith("/memfd:") || path.endsWith(" (deleted)")) {
      continue;
    }
    const start = BigInt("0x" + lo);
    const end = BigInt("0x" + hi);
    if (end > start) out.push({ start, end, private: perms[3] === "p" });
  }
  return out;
}

/** `VmRSS` of `/proc/self/status` text in bytes, or undefined. */
export function vmRssBytes(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return m === null ? undefined : Number(m[1]) * 1024;
}

/**
 * The runs of pages in `[start, start + entries.length pages)` that may be dropped, from their
 * pagemap entries: present pages holding file bytes. Pages that are anonymous (a private
 * mapping's written copy) or absent split the runs.
 */
export function droppableRuns(
  start: bigint,
  entries: BigUint64Array,
): MappingRange[] {
  const out: MappingRange[] = [];
  let runStart = -1;
  for (let i = 0; i <= entries.length; i++) {
    const e = i < entries.length ? entries[i] : 0n;
    const ok = (e & PM_PRESENT) !== 0n && (e & PM_FILE) !== 0n;
    if (ok && runStart < 0) runStart = i;
    else if (!ok && runStart >= 0) {
      out.push({
        start: start + BigInt(runStart * PAGE),
        end: start + BigInt(i * PAGE),
        private: true,
      });
      runStart = -1;
    }
  }
  return out;
}

/** What one trim did: resident set before and after (bytes), page runs advised. */
export interface TrimResult {
  before: number;
  after: number;
  ranges: number;
}

/** Reads the pagemap entries of `r` (one u64 per page), or undefined. */
function pagemapOf(pm: Deno.FsFile, r: MappingRange): BigUint64Array | undefined {
  const pages = Number((r.end - r.start) / BigInt(PAGE));
  const buf = new Uint8Array(pages * 8);
  try {
    pm.seekSync(Number(r.start / BigInt(PAGE)) * 8, Deno.SeekMode.Start);
    let got = 0;
    while (got < buf.length) {
      const n = pm.readSync(buf.subarray(got));
      if (n === null || n === 0) return undefined;
      got += n;
    }
  } catch {
    return undefined;
  }
  return new BigUint64Array(buf.buffer);
}

function readRss(): number {
  try {
    return vmRssBytes(Deno.readTextFileSync("/proc/self/status")) ?? 0;
  } catch {
    return 0;
  }
}

/**
 * Trims this process's resident set (see the file comment). Undefined where it cannot run (not
 * Linux, no libc through FFI, no /proc); never throws.
 */
export function trimResidentSet(): TrimResult | undefined {
  if (Deno.build.os !== "linux") return undefined;
  const lib = open();
  if (lib === undefined) return undefined;
  let maps: string;
  try {
    maps = Deno.readTextFileSync("/proc/self/maps");
  } catch {
    return undefined;
  }
  let pm: Deno.FsFile;
  try {
    pm = Deno.openSync("/proc/self/pagemap");
  } catch {
    return undefined;
  }
  const before = readRss();
  // first every run to drop, then the madvise calls in one tight loop: work done between the calls
  // (reading maps and pagemap, parsing) would fault the code it runs straight back in
  const runs: MappingRange[] = [];
  try {
    for (const m of trimmableMappings(maps)) {
      // a shared mapping always holds the file's bytes; a private one only where never written
      if (m.private) {
        const entries = pagemapOf(pm, m);
        if (entries !== undefined) runs.push(...droppableRuns(m.start, entries));
      } else runs.push(m);
    }
  } finally {
    pm.close();
  }
  // the identity hash's 2 MiB scratch memory: rewritten in full by every hash
  const id = releasableIdentityScratch();
  if (id !== undefined) {
    try {
      const base = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(id.buffer)));
      const lo = (base + BigInt(id.offset) + BigInt(PAGE - 1)) & ~BigInt(PAGE - 1);
      const hi = (base + BigInt(id.offset + id.length)) & ~BigInt(PAGE - 1);
      if (base !== 0n && hi > lo) runs.push({ start: lo, end: hi, private: true });
    } catch {
      // leave it
    }
  }
  let ranges = 0;
  const madvise = lib.madvise;
  for (let i = 0; i < runs.length; i++) {
    try {
      if (madvise(runs[i].start, runs[i].end - runs[i].start, MADV_DONTNEED) === 0) ranges++;
    } catch {
      // refused: leave it
    }
  }
  try {
    lib.malloc_trim?.(0n);
  } catch {
    // not glibc
  }
  return { before, after: readRss(), ranges };
}

/** Options of {@link IdleTrimPolicy}. */
export interface IdleTrimOptions {
  /** How long the process must have been quiet before it trims again (ms). */
  quietMs: number;
  /** "Quiet": at most this share of one core used over those `quietMs` (default 0.01). */
  quietCpuShare?: number;
  /** CPU time the process must have spent since the last trim before another pays (default 250 ms). */
  minWorkMs?: number;
}

/**
 * When a running node trims again: after it has worked (carried traffic, answered the API,
 * compiled hot code: at least `minWorkMs` of CPU since the last trim) and then stayed quiet (at
 * most `quietCpuShare` of a core for `quietMs`). Work touches code and buffers that an idle node no
 * longer needs. A busy node is not trimmed; an idle one again only once its own housekeeping adds
 * up to another `minWorkMs` (a minute or two at the default). Fed
 * with samples of the process's total CPU time; pure (no clock, no I/O) so it can be tested.
 */
export class IdleTrimPolicy {
  readonly #quietMs: number;
  readonly #share: number;
  readonly #minWorkMs: number;
  /** Samples (time, CPU ms) of the last `quietMs` and one before, oldest first. */
  #samples: Array<[number, number]> = [];
  #cpuAtTrim: number | undefined;

  constructor(o: IdleTrimOptions) {
    this.#quietMs = o.quietMs;
    this.#share = o.quietCpuShare ?? 0.01;
    this.#minWorkMs = o.minWorkMs ?? 250;
  }

  /** Records that a trim ran, `cpuMs` being the CPU time right after it (its own cost excluded). */
  trimmed(now: number, cpuMs: number): void {
    this.#cpuAtTrim = cpuMs;
    this.#samples = [[now, cpuMs]];
  }

  /** Feeds one sample (`cpuMs`: the process's CPU time so far); true when a trim is due now. */
  sample(now: number, cpuMs: number): boolean {
    if (!Number.isFinite(now) || !Number.isFinite(cpuMs)) return false;
    const s = this.#samples;
    if (s.length > 0 && (now < s[s.length - 1][0] || cpuMs < s[s.length - 1][1])) {
      // clock or counter went backwards: start again, as after a trim
      this.#samples = [];
      this.#cpuAtTrim = undefined;
    }
    this.#samples.push([now, cpuMs]);
    // keep exactly one sample at or before the window's start
    while (this.#samples.length > 1 && this.#samples[1][0] <= now - this.#quietMs) {
      this.#samples.shift();
    }
    if (this.#cpuAtTrim === undefined) this.#cpuAtTrim = this.#samples[0][1];
    const first = this.#samples[0];
    if (now - first[0] < this.#quietMs) return false; // the window is not covered yet
    if (cpuMs - this.#cpuAtTrim < this.#minWorkMs) return false; // nothing worth giving back
    return cpuMs - first[1] <= this.#share * (now - first[0]);
  }
}

/** USER_HZ: the unit of /proc's utime and stime (100 on every Linux ABI). */
const USER_HZ = 100;

/**
 * CPU time (user + system, all threads) from `/proc/<pid>/stat` text, in clock ticks (USER_HZ),
 * or undefined. Fields are counted after the command name's closing parenthesis (the name may hold
 * spaces).
 */
export function procStatTicks(stat: string): number | undefined {
  const close = stat.lastIndexOf(")");
  if (close < 0) return undefined;
  const f = stat.slice(close + 2).split(" ");
  // after ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime) || utime < 0 || stime < 0) {
    return undefined;
  }
  return utime + stime;
}

/** {@link procStatTicks} in ms. */
export function procStatCpuMs(stat: string): number | undefined {
  const t = procStatTicks(stat);
  return t === undefined ? undefined : (t * 1000) / USER_HZ;
}

/** This process's CPU time so far in ms (Linux /proc), or undefined. */
export function processCpuMs(): number | undefined {
  try {
    return procStatCpuMs(Deno.readTextFileSync("/proc/self/stat"));
  } catch {
    return undefined;
  }
}

/** How often the idle check samples the process's CPU time (ms). */
export const IDLE_CHECK_MS = 5000;

/**
 * Runs the trims of a node process: once `startAfterMs` after start, then whenever
 * {@link IdleTrimPolicy} says the process went quiet after working (`idle`; none or `quietMs` 0:
 * never).
 * Its timers do not keep the process alive; `report` hears each trim's result.
 */
export class ResidentSetKeeper {
  #startTimer: ReturnType<typeof setTimeout> | undefined;
  #idleTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    startAfterMs: number,
    idle: IdleTrimOptions | undefined,
    report: (t: TrimResult, why: "start" | "idle") => void,
    trim: () => TrimResult | undefined = trimResidentSet,
    cpuMs: () => number | undefined = processCpuMs,
  ) {
    const quietMs = idle?.quietMs ?? 0;
    const policy = idle && quietMs > 0 ? new IdleTrimPolicy(idle) : undefined;
    const run = (why: "start" | "idle") => {
      const t = trim();
      if (t !== undefined) report(t, why);
      const c = cpuMs();
      if (policy && c !== undefined) policy.trimmed(Date.now(), c);
    };
    this.#startTimer = setTimeout(() => {
      this.#startTimer = undefined;
      run("start");
      if (policy === undefined) return;
      this.#idleTimer = setInterval(() => {
        const c = cpuMs();
        if (c !== undefined && policy.sample(Date.now(), c)) run("idle");
      }, Math.min(IDLE_CHECK_MS, Math.max(100, Math.floor(quietMs / 4))));
      Deno.unrefTimer(this.#idleTimer);
    }, startAfterMs);
    Deno.unrefTimer(this.#startTimer);
  }

  stop(): void {
    if (this.#startTimer !== undefined) clearTimeout(this.#startTimer);
    if (this.#idleTimer !== undefined) clearInterval(this.#idleTimer);
    this.#startTimer = this.#idleTimer = undefined;
  }
}
