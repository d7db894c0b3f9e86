// Network-namespace lab for e2e tests: a switch namespace with a bridge, hosts, NAT routers, cleanup.
//
// Everything lives in namespaces named `zt<6 hex>-<role>` (unique per lab); the root namespace is
// never touched except for creating/deleting those namespaces. Underlay addresses come only from
// 198.18.0.0/16: the bridge segment is 198.18.0.0/24, private sides behind NATs are 198.18.N.0/24.
// No namespace gets a default route; hosts behind a NAT get a route to the bridge segment only.

/** The shared bridge segment (the "internet" of the lab). */
export const LAB_SEGMENT = "198.18.0.0/24";
/** Prefix length of every lab subnet. */
const PREFIX = 24;
/** Name of the bridge inside the switch namespace. */
const BRIDGE = "br0";
/** Default limit for one command run in a namespace. */
const EXEC_TIMEOUT_MS = 10_000;

/** Result of a command run by {@link exec}. */
export interface ExecResult {
  /** Exit code (-1 when killed on timeout). */
  code: number;
  /** Standard output as text. */
  stdout: string;
  /** Standard error as text. */
  stderr: string;
}

/** Options of {@link exec}. */
export interface ExecOptions {
  /** Kill the command after this many ms (default 10 s). */
  timeoutMs?: number;
  /** Throw on a non-zero exit (default true). */
  check?: boolean;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/**
 * Why the e2e tests cannot run here, or undefined if they can. They need root; without root
 * and outside CI they skip, in CI (env CI set) they must run, so no reason is given there and
 * the tests fail loudly instead.
 */
export function e2eSkipReason(): string | undefined {
  if (Deno.env.get("CI")) return undefined;
  if (Deno.uid() !== 0) return "netns e2e tests need root (run as root, or set CI=true to force)";
  for (const tool of ["ip", "iptables", "curl"]) {
    if (!commandExists(tool)) return `netns e2e tests need \`${tool}\` (run scripts/setup.sh)`;
  }
  return undefined;
}

/** Whether `name` is an executable on PATH (or in /usr/sbin, /sbin). */
function commandExists(name: string): boolean {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"]);
  for (const d of dirs) {
    if (!d) continue;
    try {
      if (Deno.statSync(`${d}/${name}`).isFile) return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** Prints the skip reason once per test file (call at module level). */
export function announceSkip(file: string): string | undefined {
  const reason = e2eSkipReason();
  if (reason) console.log(`SKIP ${file}: ${reason}`);
  return reason;
}

const decoder = new TextDecoder();

/** Runs a command in the root namespace (used for `ip netns add/del` only). */
async function run(cmd: string[], o: ExecOptions = {}): Promise<ExecResult> {
  const timeoutMs = o.timeoutMs ?? EXEC_TIMEOUT_MS;
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: o.env,
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const r: ExecResult = {
    code: timedOut ? -1 : out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
  if (timedOut) {
    throw new Error(`timed out after ${timeoutMs} ms: ${cmd.join(" ")}\n${r.stdout}${r.stderr}`);
  }
  if ((o.check ?? true) && r.code !== 0) {
    throw new Error(`failed (exit ${r.code}): ${cmd.join(" ")}\n${r.stdout}${r.stderr}`);
  }
  return r;
}

/** Runs `cmd` inside namespace `ns` (`ip netns exec <ns> ...`), bounded in time. */
export function exec(ns: string, cmd: string[], o: ExecOptions = {}): Promise<ExecResult> {
  return run(["ip", "netns", "exec", ns, ...cmd], o);
}

/** Options of {@link spawn}. */
export interface SpawnOptions {
  /** File receiving the process's stdout and stderr (appended). */
  logFile: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** A long-running process inside a namespace. */
export class NsProcess {
  /** Namespace it runs in. */
  readonly ns: string;
  /** Its command line. */
  readonly cmd: string[];
  /** Where its output goes. */
  readonly logFile: string;
  readonly #child: Deno.ChildProcess;
  #exited: Deno.CommandStatus | undefined;
  readonly #status: Promise<Deno.CommandStatus>;

  /** @internal use {@link spawn}. */
  constructor(ns: string, cmd: string[], o: SpawnOptions) {
    this.ns = ns;
    this.cmd = cmd;
    this.logFile = o.logFile;
    // `ip netns exec` and `sh -c exec` both exec in place: the pid is the command's own.
    this.#child = new Deno.Command("ip", {
      args: ["netns", "exec", ns, "sh", "-c", 'exec "$@" >>"$ZT_LAB_LOG" 2>&1', "sh", ...cmd],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      env: { ...o.env, ZT_LAB_LOG: o.logFile },
    }).spawn();
    this.#status = this.#child.status.then((s) => (this.#exited = s));
    liveProcesses.add(this);
  }

  /** Process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Exit status once it has exited, else undefined. */
  get exitStatus(): Deno.CommandStatus | undefined {
    return this.#exited;
  }

  /** Resolves with the exit status. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#status;
  }

  /** Sends `signal`, then SIGKILL if it is still running after `graceMs`; waits for the exit. */
  async stop(signal: Deno.Signal = "SIGTERM", graceMs = 3000): Promise<Deno.CommandStatus> {
    if (this.#exited === undefined) {
      try {
        this.#child.kill(signal);
      } catch {
        // already exited
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          try {
            this.#child.kill("SIGKILL");
          } catch {
            // exited meanwhile
          }
          resolve();
        }, graceMs);
      });
      await Promise.race([this.#status, killed]);
      clearTimeout(timer);
    }
    const s = await this.#status;
    liveProcesses.delete(this);
    return s;
  }

  /** Kills without waiting (for the unload handler). */
  killNow(): void {
    if (this.#exited !== undefined) return;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // gone
    }
  }

  /** The last `lines` lines of its log. */
  logTail(lines = 60): string {
    try {
      const all = Deno.readTextFileSync(this.logFile).split("\n");
      return all.slice(-lines - 1).join("\n");
    } catch (e) {
      return `(no log at ${this.logFile}: ${e instanceof Error ? e.message : e})`;
    }
  }
}

/** Starts `cmd` inside namespace `ns`, output appended to `o.logFile`. */
export function spawn(ns: string, cmd: string[], o: SpawnOptions): NsProcess {
  return new NsProcess(ns, cmd, o);
}

/**
 * Polls `probe` every `intervalMs` until it returns something other than undefined/false, or
 * throws `timed out after N ms waiting for <what>` (plus `detail()` if given).
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  o: { intervalMs?: number; detail?: () => string | Promise<string> } = {},
): Promise<T> {
  const start = Date.now();
  const interval = o.intervalMs ?? 250;
  let lastError = "";
  for (let i = 0; i < 100_000; i++) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      lastError = "";
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() - start >= timeoutMs) break;
    await new Promise((r) => setTimeout(r, interval));
  }
  const detail = o.detail ? await o.detail() : "";
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}` +
      (lastError ? ` (last error: ${lastError})` : "") + (detail ? `\n${detail}` : ""),
  );
}

/** Processes and labs still alive; the unload handler cleans them up. */
const liveProcesses = new Set<NsProcess>();
const liveLabs = new Set<Lab>();

/** Synchronous last-resort cleanup (unload / signals): kill processes, delete namespaces. */
function emergencyCleanup(): void {
  for (const p of liveProcesses) p.killNow();
  liveProcesses.clear();
  for (const lab of liveLabs) lab.deleteNamespacesSync();
  liveLabs.clear();
}

let unloadInstalled = false;
/** Ctrl-C / SIGTERM while a lab is up: clean up, then exit as the signal would. */
const signalHandlers: [Deno.Signal, () => void][] = [];

/** Installs the unload handler (once) and, while labs are live, SIGINT/SIGTERM handlers. */
function installHandlers(): void {
  if (!unloadInstalled) {
    unloadInstalled = true;
    globalThis.addEventListener("unload", emergencyCleanup);
  }
  if (signalHandlers.length > 0) return;
  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    const fn = () => {
      console.error(`netns lab: ${sig}, deleting lab namespaces`);
      emergencyCleanup();
      Deno.exit(code);
    };
    try {
      Deno.addSignalListener(sig, fn);
      signalHandlers.push([sig, fn]);
    } catch {
      // not supported here
    }
  }
}

/** Removes the signal handlers once no lab is live (keeps test sanitizers quiet). */
function releaseHandlers(): void {
  if (liveLabs.size > 0) return;
  for (const [sig, fn] of signalHandlers.splice(0)) {
    try {
      Deno.removeSignalListener(sig, fn);
    } catch {
      // already gone
    }
  }
}

/** Where live labs are registered (`<lab id>` → owner pid and directory), for stale cleanup. */
export const LAB_REGISTRY = "/tmp/zt-e2e-labs";

/** A registry entry. */
interface LabRecord {
  /** Owning process, or 0 for a manual lab (scripts/netns.sh up). */
  pid: number;
  /** The lab directory. */
  dir: string;
}

/** Namespaces currently present whose names start with `<id>-`. */
function namespacesOf(id: string): string[] {
  const out = new Deno.Command("ip", { args: ["netns", "list"], stderr: "null" }).outputSync();
  return decoder.decode(out.stdout).split("\n").map((l) => l.split(" ")[0])
    .filter((n) => n.startsWith(`${id}-`));
}

/** Kills what runs in `ns` and deletes it (best effort, synchronous). */
function deleteNamespaceSync(ns: string): void {
  try {
    const pids = new Deno.Command("ip", { args: ["netns", "pids", ns], stderr: "null" })
      .outputSync();
    for (const pid of decoder.decode(pids.stdout).split(/\s+/).filter((x) => x)) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch {
        // gone
      }
    }
    new Deno.Command("ip", { args: ["netns", "del", ns], stderr: "null" }).outputSync();
  } catch {
    // best effort
  }
  try {
    // per-namespace files a test made for `ip netns exec` (e.g. resolv.conf of DNS tests)
    Deno.removeSync(`/etc/netns/${ns}`, { recursive: true });
  } catch {
    // none
  }
}

/** Deletes a registered lab's namespaces, directory and registry entry. */
function removeLab(id: string, rec: LabRecord | undefined): void {
  for (const ns of namespacesOf(id)) deleteNamespaceSync(ns);
  if (rec?.dir && rec.dir.startsWith("/tmp/zt") && !Deno.env.get("ZT_E2E_KEEP")) {
    try {
      Deno.removeSync(rec.dir, { recursive: true });
    } catch {
      // gone
    }
  }
  try {
    Deno.removeSync(`${LAB_REGISTRY}/${id}`);
  } catch {
    // gone
  }
}

/**
 * Removes labs left behind by runs that died without cleaning up (owner pid gone; with
 * `includeManual`, also labs made by scripts/netns.sh). Only registered labs are touched.
 * Returns the ids removed.
 */
export function sweepStaleLabs(includeManual = false): string[] {
  const removed: string[] = [];
  let entries: Deno.DirEntry[] = [];
  try {
    entries = [...Deno.readDirSync(LAB_REGISTRY)];
  } catch {
    return removed;
  }
  for (const e of entries) {
    if (!/^zt[0-9a-f]{6}$/.test(e.name)) continue;
    let rec: LabRecord | undefined;
    try {
      rec = JSON.parse(Deno.readTextFileSync(`${LAB_REGISTRY}/${e.name}`));
    } catch {
      rec = undefined;
    }
    const pid = rec?.pid ?? -1;
    let alive = false;
    if (pid > 0) {
      try {
        alive = Deno.statSync(`/proc/${pid}`).isDirectory;
      } catch {
        alive = false;
      }
    }
    if (alive || (pid === 0 && !includeManual)) continue;
    removeLab(e.name, rec);
    removed.push(e.name);
  }
  return removed;
}

/** An IPv4 address with prefix, e.g. "198.18.0.1/24". */
function cidr(ip: string): string {
  return `${ip}/${PREFIX}`;
}

/** Checks that an address is lab underlay space (198.18.0.0/16); throws otherwise. */
export function assertLabAddress(ip: string): void {
  const m = /^198\.18\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) {
    throw new Error(`${ip} is not a lab address (198.18.0.0/16 only)`);
  }
}

/** A host attached to the lab. */
export interface LabHost {
  /** Namespace name. */
  ns: string;
  /** Its underlay address. */
  ip: string;
}

/** A host behind its own MASQUERADE NAT router. */
export interface NattedHost extends LabHost {
  /** The router's namespace. */
  natNs: string;
  /** The router's address on the bridge segment (the host's public address). */
  publicIp: string;
}

/**
 * One lab: a switch namespace holding bridge br0 (198.18.0.0/24), plus hosts and NAT routers,
 * all in namespaces `zt<hex>-<role>`. Create with {@link Lab.create}; always {@link Lab.close}
 * (or use {@link withLab}).
 */
export class Lab {
  /** Unique prefix of this lab's namespaces, e.g. "zt3fa1c2". */
  readonly id: string;
  /** Namespaces created, in order. */
  readonly namespaces: string[] = [];
  /** Processes started through {@link Lab.spawn}. */
  readonly processes: NsProcess[] = [];
  /** Directory for logs and node homes (removed on close unless ZT_E2E_KEEP is set). */
  readonly dir: string;
  #ports = 0;
  #closed = false;

  private constructor(id: string, dir: string) {
    this.id = id;
    this.dir = dir;
  }

  /** The switch namespace (holds the bridge). */
  get switchNs(): string {
    return `${this.id}-sw`;
  }

  /** Creates the switch namespace and its bridge. */
  static async create(o: { manual?: boolean } = {}): Promise<Lab> {
    sweepStaleLabs();
    if (!o.manual) installHandlers();
    const rnd = crypto.getRandomValues(new Uint8Array(3));
    const id = "zt" + [...rnd].map((b) => b.toString(16).padStart(2, "0")).join("");
    const lab = new Lab(id, Deno.makeTempDirSync({ prefix: `${id}-` }));
    Deno.mkdirSync(LAB_REGISTRY, { recursive: true });
    const rec: LabRecord = { pid: o.manual ? 0 : Deno.pid, dir: lab.dir };
    Deno.writeTextFileSync(`${LAB_REGISTRY}/${id}`, JSON.stringify(rec));
    if (!o.manual) liveLabs.add(lab);
    try {
      await lab.addNamespace("sw");
      await lab.exec(lab.switchNs, ["ip", "link", "add", BRIDGE, "type", "bridge"]);
      await lab.exec(lab.switchNs, ["ip", "link", "set", BRIDGE, "up"]);
    } catch (e) {
      await lab.close();
      throw e;
    }
    return lab;
  }

  /** Namespace name for a role ("r", "a", "nat-a"...). */
  nsName(role: string): string {
    const name = `${this.id}-${role}`;
    if (!/^[a-z0-9-]{1,15}$/.test(role) || name.length > 30) throw new Error(`bad role ${role}`);
    return name;
  }

  /** Creates namespace `<id>-<role>` with loopback up; returns its name. */
  async addNamespace(role: string): Promise<string> {
    const ns = this.nsName(role);
    await run(["ip", "netns", "add", ns]);
    this.namespaces.push(ns);
    await this.exec(ns, ["ip", "link", "set", "lo", "up"]);
    return ns;
  }

  /** Runs a command in one of this lab's namespaces. */
  exec(ns: string, cmd: string[], o?: ExecOptions): Promise<ExecResult> {
    return exec(ns, cmd, o);
  }

  /** Starts a process in a namespace; stopped by {@link Lab.close}. */
  spawn(ns: string, cmd: string[], o: SpawnOptions): NsProcess {
    const p = spawn(ns, cmd, o);
    this.processes.push(p);
    return p;
  }

  /**
   * Links namespace `ns` to the bridge with a veth pair: `ifname` inside `ns` (address `ip`),
   * `p<N>` on the switch side. Interfaces are created directly in their namespaces.
   */
  async plug(ns: string, ifname: string, ip: string): Promise<void> {
    assertLabAddress(ip);
    const port = `p${this.#ports++}`;
    await run([
      "ip",
      "-n",
      ns,
      "link",
      "add",
      ifname,
      "type",
      "veth",
      "peer",
      "name",
      port,
      "netns",
      this.switchNs,
    ]);
    await this.exec(this.switchNs, ["ip", "link", "set", port, "master", BRIDGE]);
    await this.exec(this.switchNs, ["ip", "link", "set", port, "up"]);
    await this.exec(ns, ["ip", "addr", "add", cidr(ip), "dev", ifname]);
    await this.exec(ns, ["ip", "link", "set", ifname, "up"]);
  }

  /** A host on the bridge segment at `ip` (198.18.0.x). */
  async addHost(role: string, ip: string): Promise<LabHost> {
    const ns = await this.addNamespace(role);
    await this.plug(ns, "eth0", ip);
    return { ns, ip };
  }

  /**
   * A host behind its own NAT router: router namespace `nat<role>` on the bridge at `publicIp`
   * with iptables MASQUERADE out of its bridge side, private subnet 198.18.`subnet`.0/24 (router
   * .1, host .2). The host's only route beyond its subnet is to the bridge segment via the router.
   */
  async addNattedHost(role: string, publicIp: string, subnet: number): Promise<NattedHost> {
    if (!Number.isInteger(subnet) || subnet < 1 || subnet > 255) throw new Error("bad subnet");
    const routerIp = `198.18.${subnet}.1`;
    const ip = `198.18.${subnet}.2`;
    const natNs = await this.addNamespace(`nat${role}`);
    await this.plug(natNs, "wan", publicIp);
    const ns = await this.addNamespace(role);
    await run(["ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "lan"]);
    await run(["ip", "-n", ns, "link", "set", "lan", "netns", natNs]);
    await this.exec(natNs, ["ip", "addr", "add", cidr(routerIp), "dev", "lan"]);
    await this.exec(natNs, ["ip", "link", "set", "lan", "up"]);
    await this.exec(ns, ["ip", "addr", "add", cidr(ip), "dev", "eth0"]);
    await this.exec(ns, ["ip", "link", "set", "eth0", "up"]);
    await this.exec(ns, ["ip", "route", "add", LAB_SEGMENT, "via", routerIp]);
    // /proc/sys/net is per namespace for a process inside it (no procps needed).
    await this.exec(natNs, ["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);
    await this.exec(natNs, [
      "iptables",
      "-t",
      "nat",
      "-A",
      "POSTROUTING",
      "-s",
      `198.18.${subnet}.0/${PREFIX}`,
      "-o",
      "wan",
      "-j",
      "MASQUERADE",
    ]);
    // Unsolicited traffic from the segment is dropped, as a home router's firewall does. Dropping
    // it in INPUT also keeps conntrack from recording it: otherwise a hole-punch packet arriving
    // before our own host's first packet leaves a stale entry for the same 4-tuple, and MASQUERADE
    // then has to pick another source port for that host (the punch fails). On the real Internet
    // the path delay between the NATs hides this race; on a bridge it takes microseconds.
    await this.exec(natNs, [
      "iptables",
      "-A",
      "INPUT",
      "-i",
      "wan",
      "-m",
      "conntrack",
      "--ctstate",
      "NEW,INVALID",
      "-j",
      "DROP",
    ]);
    await this.exec(natNs, [
      "iptables",
      "-A",
      "FORWARD",
      "-i",
      "wan",
      "-m",
      "conntrack",
      "!",
      "--ctstate",
      "ESTABLISHED,RELATED",
      "-j",
      "DROP",
    ]);
    return { ns, ip, natNs, publicIp };
  }

  /** A new path under the lab directory. */
  path(name: string): string {
    return `${this.dir}/${name}`;
  }

  /** Deletes all namespaces synchronously (also kills anything left inside them). */
  deleteNamespacesSync(): void {
    for (const ns of [...this.namespaces].reverse()) deleteNamespaceSync(ns);
    this.namespaces.length = 0;
    try {
      Deno.removeSync(`${LAB_REGISTRY}/${this.id}`);
    } catch {
      // gone
    }
  }

  /** Stops processes, deletes namespaces and (unless ZT_E2E_KEEP is set) the lab directory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.processes.map((p) => p.stop("SIGTERM", 2000).catch(() => {})));
    this.deleteNamespacesSync();
    liveLabs.delete(this);
    releaseHandlers();
    if (!Deno.env.get("ZT_E2E_KEEP")) {
      try {
        Deno.removeSync(this.dir, { recursive: true });
      } catch {
        // already gone
      }
    } else {
      console.log(`lab ${this.id}: kept ${this.dir}`);
    }
  }
}

/** Runs `fn` with a fresh lab and always closes it. */
export async function withLab<T>(fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.create();
  try {
    return await fn(lab);
  } finally {
    await lab.close();
  }
}

/** `up [bridge|nat]`: builds a lab that stays up (root at .1, leaves a and b); prints it. */
async function manualUp(kind: string): Promise<void> {
  const lab = await Lab.create({ manual: true });
  try {
    const lines = [`lab ${lab.id} (dir ${lab.dir}); switch namespace ${lab.switchNs}`];
    const r = await lab.addHost("r", "198.18.0.1");
    lines.push(`  ${r.ns}: ${r.ip}`);
    if (kind === "nat") {
      for (const [role, pub, sub] of [["a", "198.18.0.21", 1], ["b", "198.18.0.22", 2]] as const) {
        const h = await lab.addNattedHost(role, pub, sub);
        lines.push(`  ${h.ns}: ${h.ip} behind ${h.natNs} (MASQUERADE as ${h.publicIp})`);
      }
    } else {
      for (const [role, ip] of [["a", "198.18.0.11"], ["b", "198.18.0.12"]] as const) {
        const h = await lab.addHost(role, ip);
        lines.push(`  ${h.ns}: ${h.ip}`);
      }
    }
    lines.push(`run things with: ip netns exec ${lab.id}-a <command>; remove with: down`);
    console.log(lines.join("\n"));
  } catch (e) {
    lab.deleteNamespacesSync();
    throw e;
  }
}

if (import.meta.main) {
  const [cmd, arg] = Deno.args;
  if (cmd === "up" && (arg === undefined || arg === "bridge" || arg === "nat")) {
    await manualUp(arg ?? "bridge");
  } else if (cmd === "down") {
    const ids = sweepStaleLabs(true);
    console.log(ids.length ? `removed ${ids.join(" ")}` : "no labs to remove");
  } else {
    console.error("usage: netns.ts up [bridge|nat] | down");
    Deno.exit(2);
  }
}
