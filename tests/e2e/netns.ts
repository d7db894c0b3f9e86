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

let handlersInstalled = false;
/** Installs the unload handler (once). */
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  globalThis.addEventListener("unload", emergencyCleanup);
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
  static async create(): Promise<Lab> {
    installHandlers();
    const rnd = crypto.getRandomValues(new Uint8Array(3));
    const id = "zt" + [...rnd].map((b) => b.toString(16).padStart(2, "0")).join("");
    const lab = new Lab(id, Deno.makeTempDirSync({ prefix: `${id}-` }));
    liveLabs.add(lab);
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
    await this.exec(natNs, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
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
    for (const ns of [...this.namespaces].reverse()) {
      try {
        const pids = new Deno.Command("ip", { args: ["netns", "pids", ns], stderr: "null" })
          .outputSync();
        for (const pid of decoder.decode(pids.stdout).split(/\s+/).filter((s) => s)) {
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
    }
    this.namespaces.length = 0;
  }

  /** Stops processes, deletes namespaces and (unless ZT_E2E_KEEP is set) the lab directory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.processes.map((p) => p.stop("SIGTERM", 2000).catch(() => {})));
    this.deleteNamespacesSync();
    liveLabs.delete(this);
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
