// Test helper: a private PostgreSQL cluster in a temp dir, unix socket only, removed after use.
import { runCommand } from "./run_command.ts";

/** Directory holding initdb/pg_ctl (Debian: /usr/lib/postgresql/<ver>/bin), or undefined. */
export function postgresBinDir(): string | undefined {
  const versions: number[] = [];
  try {
    for (const e of Deno.readDirSync("/usr/lib/postgresql")) {
      if (/^[0-9]+$/.test(e.name)) versions.push(Number(e.name));
    }
  } catch {
    // not installed the Debian way
  }
  versions.sort((a, b) => b - a);
  for (const v of versions) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    try {
      Deno.statSync(`${dir}/initdb`);
      Deno.statSync(`${dir}/pg_ctl`);
      return dir;
    } catch {
      // incomplete install; try the next version
    }
  }
  return undefined;
}

/**
 * Whether PostgreSQL tests can run here. With CI=true a missing PostgreSQL is an error (the
 * test fails), never a skip.
 */
export function postgresAvailable(): boolean {
  const ok = postgresBinDir() !== undefined;
  if (!ok && Deno.env.get("CI") === "true") {
    throw new Error("PostgreSQL is not installed (scripts/setup.sh installs Debian's postgresql)");
  }
  return ok;
}

/** The unprivileged uid/gid postgres runs as when we are root (postgres refuses root). */
const NOBODY = 65534;

/**
 * A throw-away PostgreSQL cluster: `initdb` into a temp dir, `pg_ctl start` with
 * `listen_addresses=''` (no TCP) and its socket in the same dir. As root, the cluster runs as
 * `nobody`. {@link PgCluster.url} is a `postgres:` keyword string for zt.
 */
export class PgCluster {
  private constructor(
    /** Temp dir (data in `data/`, socket in the dir itself). */
    readonly dir: string,
    private readonly bin: string,
    private readonly asNobody: boolean,
  ) {}

  /** Creates and starts a cluster with superuser `zt` and trust auth on the socket. */
  static async start(): Promise<PgCluster> {
    const bin = postgresBinDir();
    if (!bin) throw new Error("PostgreSQL is not installed");
    const dir = await Deno.makeTempDir({ prefix: "zt-pg-" });
    const asNobody = Deno.uid() === 0;
    if (asNobody) await Deno.chown(dir, NOBODY, NOBODY);
    const c = new PgCluster(dir, bin, asNobody);
    const r = await c.run([
      `${bin}/initdb`,
      "-D",
      `${dir}/data`,
      "-U",
      "zt",
      "--auth=trust",
      "-E",
      "UTF8",
      "--no-sync",
    ]);
    if (r.code !== 0) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw new Error(`initdb failed: ${r.err || r.out}`);
    }
    await Deno.writeTextFile(
      `${dir}/data/postgresql.auto.conf`,
      `listen_addresses = ''\nunix_socket_directories = '${dir}'\nfsync = off\n` +
        `max_connections = 200\nshared_buffers = 32MB\n`,
      { append: true },
    );
    await c.startServer();
    return c;
  }

  /** Runs a command, as nobody when we are root. */
  private run(cmd: string[], timeoutMs = 60_000) {
    const full = this.asNobody
      ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", ...cmd]
      : cmd;
    return runCommand(full, timeoutMs);
  }

  /** Starts the server (again, after {@link stopServer}). */
  async startServer(): Promise<void> {
    const r = await this.run([
      `${this.bin}/pg_ctl`,
      "-D",
      `${this.dir}/data`,
      "-l",
      `${this.dir}/log`,
      "-w",
      "-t",
      "60",
      "start",
    ]);
    if (r.code !== 0) {
      let log = "";
      try {
        log = Deno.readTextFileSync(`${this.dir}/log`);
      } catch {
        // no log
      }
      throw new Error(`pg_ctl start failed: ${r.err || r.out} ${log}`);
    }
  }

  /** Stops the server (`immediate`: like a crash, no checkpoint). */
  async stopServer(mode: "fast" | "immediate" = "immediate"): Promise<void> {
    await this.run([`${this.bin}/pg_ctl`, "-D", `${this.dir}/data`, "-m", mode, "-w", "stop"]);
  }

  /** A zt `postgres:` keyword string for database `db` (created by {@link createDb}). */
  url(db = "postgres"): string {
    return `postgres:host=${this.dir} dbname=${db} user=zt`;
  }

  /** Creates database `name` (fresh, empty). */
  async createDb(name: string): Promise<string> {
    const r = await this.run([`${this.bin}/createdb`, "-h", this.dir, "-U", "zt", name]);
    if (r.code !== 0) throw new Error(`createdb failed: ${r.err}`);
    return this.url(name);
  }

  /** Runs SQL through psql; returns its output (unaligned, tuples only). */
  async psql(db: string, sql: string): Promise<string> {
    const r = await this.run([
      `${this.bin}/psql`,
      "-h",
      this.dir,
      "-U",
      "zt",
      "-d",
      db,
      "-At",
      "-c",
      sql,
    ]);
    if (r.code !== 0) throw new Error(`psql failed: ${r.err}`);
    return r.out;
  }

  /** Stops the server and removes the directory. */
  async destroy(): Promise<void> {
    await this.stopServer("immediate").catch(() => {});
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
