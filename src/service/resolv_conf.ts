// The resolv.conf DNS backend: a managed block edited in place (never by rename), a record in the home to restore the file exactly, even after a crash.
import { writeFileAtomicSync } from "./atomic_write.ts";

/** First line of the managed block. */
export const BLOCK_BEGIN = "# >>> zt managed DNS (removed when zt leaves the network or stops) >>>";
/** Last line of the managed block. */
export const BLOCK_END = "# <<< zt managed DNS <<<";
/** Prefix put before the file's own `search`/`domain` lines while the block is in (glibc uses the last one). */
export const DISABLED_PREFIX = "#zt-disabled# ";

/** How many `nameserver` lines glibc reads. */
const GLIBC_MAXNS = 3;

/** One network's DNS as applied. */
export interface DnsEntry {
  /** Search domain (may be ""). */
  domain: string;
  /** Name server IPs. */
  servers: string[];
}

/** The file as it was before zt touched it: our block out, lines we disabled back. */
export function stripManaged(text: string): string {
  const out: string[] = [];
  let inBlock = false;
  for (const line of text.split("\n")) {
    if (!inBlock && line === BLOCK_BEGIN) {
      inBlock = true;
      continue;
    }
    if (inBlock) {
      if (line === BLOCK_END) inBlock = false;
      continue;
    }
    out.push(line.startsWith(DISABLED_PREFIX) ? line.slice(DISABLED_PREFIX.length) : line);
  }
  return out.join("\n");
}

const SEARCH_LINE = /^\s*(search|domain)(\s|$)/;

/**
 * `text` with our block for `entries` at the top: their name servers first (glibc asks them in
 * order and moves on after REFUSED, so other names still resolve), one `search` line with their
 * domains followed by the file's own search domains; the file's own `search`/`domain` lines
 * are disabled with {@link DISABLED_PREFIX} (the last one would win otherwise). Any earlier block
 * is replaced. At most 2 of our servers go in when the file has its own (3 without), as glibc
 * only reads 3 and one of the file's own must stay for other names. No entries: the file as it
 * was ({@link stripManaged}).
 * `stripManaged(withManaged(t, e)) === stripManaged(t)` for every t.
 */
export function withManaged(text: string, entries: DnsEntry[]): string {
  const base = stripManaged(text);
  const all = [...new Set(entries.flatMap((e) => e.servers))];
  if (all.length === 0) return base;
  // glibc reads only the first MAXNS (3) name servers: leave room for one of the file's own
  const ownServers = base.split("\n").some((l) => /^\s*nameserver\s/.test(l));
  const servers = all.slice(0, ownServers ? GLIBC_MAXNS - 1 : GLIBC_MAXNS);
  let ownSearch: string[] = [];
  const lines = base.split("\n").map((line) => {
    if (!SEARCH_LINE.test(line)) return line;
    ownSearch = line.trim().split(/\s+/).slice(1); // the last one wins, as in glibc
    return DISABLED_PREFIX + line;
  });
  const search = [...new Set([...entries.map((e) => e.domain).filter((d) => d), ...ownSearch])];
  const block = [
    BLOCK_BEGIN,
    ...servers.map((s) => `nameserver ${s}`),
    ...(search.length > 0 ? [`search ${search.join(" ")}`] : []),
    BLOCK_END,
  ];
  return [...block, ...lines].join("\n");
}

/** What {@link hostFileGuard} looks at. */
export interface NamespaceFacts {
  /** `readlink /proc/self/ns/net` (undefined if unreadable). */
  selfNet: string | undefined;
  /** `readlink /proc/1/ns/net` (undefined if unreadable). */
  initNet: string | undefined;
  /** `/proc/self/mountinfo` ("" if unreadable). */
  mountinfo: string;
  /** The `ip netns` name (`/run/netns/<name>`) of our network namespace, if it has one. */
  netnsName: string | undefined;
}

/** Whether we run in a network namespace other than the host's (named by `ip netns`, or not pid 1's). */
export function inOtherNetNamespace(f: NamespaceFacts): boolean {
  return f.netnsName !== undefined ||
    (f.selfNet !== undefined && f.initNet !== undefined && f.selfNet !== f.initNet);
}

/**
 * Why `path` must not be written, or undefined: inside a network namespace other than the
 * initial one, an /etc/resolv.conf that is not a mount of its own (as `ip netns exec` makes from
 * /etc/netns/<ns>/resolv.conf, or a container runtime does) is the host's file, and servers only
 * reachable inside the namespace would break the host's DNS.
 */
export function hostFileGuard(path: string, f: NamespaceFacts): string | undefined {
  if (path !== "/etc/resolv.conf" || !inOtherNetNamespace(f)) return undefined;
  const mounted = f.mountinfo.split("\n").some((l) => l.split(" ")[4] === "/etc/resolv.conf");
  if (mounted) return undefined;
  return `network namespace ${f.netnsName ?? f.selfNet} has no resolv.conf of its own, and ` +
    `/etc/resolv.conf is the host's (create /etc/netns/${
      f.netnsName ?? "<namespace>"
    }/resolv.conf before starting zt there)`;
}

/** The running process's {@link NamespaceFacts}. */
export function namespaceFacts(): NamespaceFacts {
  const link = (p: string) => {
    try {
      return Deno.readLinkSync(p);
    } catch {
      return undefined;
    }
  };
  let mountinfo = "";
  try {
    mountinfo = Deno.readTextFileSync("/proc/self/mountinfo");
  } catch {
    // not Linux
  }
  let netnsName: string | undefined;
  try {
    const self = Deno.statSync("/proc/self/ns/net");
    for (const e of Deno.readDirSync("/run/netns")) {
      try {
        const st = Deno.statSync(`/run/netns/${e.name}`);
        if (st.ino === self.ino && st.dev === self.dev) {
          netnsName = e.name;
          break;
        }
      } catch {
        // not a namespace file
      }
    }
  } catch {
    // no /run/netns: not in a named namespace
  }
  return {
    selfNet: link("/proc/self/ns/net"),
    initNet: link("/proc/1/ns/net"),
    mountinfo,
    netnsName,
  };
}

/** What we keep in the home while the block is in: enough to put the file back exactly. */
export interface ResolvConfRecord {
  /** The file changed. */
  path: string;
  /** Its content before zt touched it. */
  original: string;
  /** What zt wrote last. */
  written: string;
}

/** Parses a record file; undefined if missing or malformed. */
export function parseRecord(text: string | undefined): ResolvConfRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text);
    if (
      typeof r === "object" && r !== null && typeof r.path === "string" &&
      typeof r.original === "string" && typeof r.written === "string"
    ) return { path: r.path, original: r.original, written: r.written };
  } catch {
    // malformed
  }
  return undefined;
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Writes `text` into the existing file `path` in place (open, truncate, write: same inode). */
function writeInPlace(path: string, text: string): void {
  Deno.writeTextFileSync(path, text, { create: true });
}

/**
 * Applies and removes the managed block of one resolv.conf (in place: inside a network
 * namespace the file is a bind mount, and a renamed temporary file would land in the host's
 * /etc). Before the first change it records the original content in `recordPath` (written
 * atomically, in the home); {@link restore} puts it back exactly if nobody else changed the
 * file since, else it only takes our lines out. A record found at start means zt did not get
 * to restore (crash): call {@link restore} first.
 */
export class ResolvConfFile {
  /** The resolv.conf. */
  readonly path: string;
  /** The record file. */
  readonly recordPath: string;

  /** Manages `path`, keeping its record at `recordPath`. */
  constructor(path: string, recordPath: string) {
    this.path = path;
    this.recordPath = recordPath;
  }

  /** The record left by an earlier apply, if any. */
  record(): ResolvConfRecord | undefined {
    return parseRecord(readText(this.recordPath));
  }

  /**
   * Writes the block for `entries` (none: same as {@link restore}). Returns the new content.
   * @throws on I/O errors (the file is then unchanged or restored by a later restore()).
   */
  apply(entries: DnsEntry[]): string {
    if (entries.every((e) => e.servers.length === 0)) {
      this.restore();
      return readText(this.path) ?? "";
    }
    const current = readText(this.path) ?? "";
    const rec = this.record();
    const original = rec && rec.path === this.path && current === rec.written
      ? rec.original
      : stripManaged(current);
    const next = withManaged(original, entries);
    writeFileAtomicSync(
      this.recordPath,
      new TextEncoder().encode(JSON.stringify({ path: this.path, original, written: next })),
      { skipUnchanged: true },
    );
    if (next !== current) writeInPlace(this.path, next);
    return next;
  }

  /**
   * Puts the file back: the recorded original if the file still holds what we wrote, else the
   * file with our lines taken out; then drops the record. Returns what happened ("none": no
   * record; "exact": original written back; "stripped": changed by someone else since).
   */
  restore(): "none" | "exact" | "stripped" {
    const rec = this.record();
    if (!rec) {
      this.#dropRecord();
      return "none";
    }
    const current = readText(rec.path);
    let how: "exact" | "stripped" = "exact";
    if (current === rec.written) {
      writeInPlace(rec.path, rec.original);
    } else {
      how = "stripped";
      if (current !== undefined) {
        const s = stripManaged(current);
        if (s !== current) writeInPlace(rec.path, s);
      }
    }
    this.#dropRecord();
    return how;
  }

  #dropRecord(): void {
    try {
      Deno.removeSync(this.recordPath);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}
