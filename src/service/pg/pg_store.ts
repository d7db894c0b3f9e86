// Controller store in PostgreSQL: in-memory copy, queued batched writes, LISTEN/NOTIFY from other instances.
import postgres from "postgres";
import { ipKey } from "../../controller/ip_assignment.ts";
import type { JsonObject } from "../../util/json.ts";
import { isJsonObject, jsonEqual } from "../../util/json.ts";
import { CachedStore, StoreUnavailableError } from "../../controller/store.ts";
import { describeConnInfo, pgClientOptions, type PgConnInfo } from "./pg_conninfo.ts";
import { migrate } from "./migrations.ts";

/** Outcome of one queued write. */
type Outcome = "ok" | "conflict" | "failed";

/** One queued write (saves of the same record still queued are merged into one). */
interface Entry {
  kind: "net" | "mem" | "delnet" | "delmem";
  nwid: string;
  addr: string;
  /** The record to write (saves). */
  rec?: JsonObject;
  /** Revision the row must have (null: must not exist yet). */
  expect: number | null;
  /** IP keys of the record as the database has it (at `expect`). */
  baseIps: string[];
  done: Promise<Outcome>;
  finish: (o: Outcome) => void;
}

/** A change another instance made, applied to the in-memory copy. */
export interface RemoteChange {
  /** Network or member. */
  kind: "network" | "member";
  nwid: string;
  /** Member address ("" for networks). */
  addr: string;
  /** Record before (undefined: did not exist). */
  before?: JsonObject;
  /** Record after (undefined: deleted). */
  after?: JsonObject;
}

/** What a config request told us about a member (written back in batches). */
export interface MemberStatusRow {
  /** Time of the request (ms). */
  lastSeen: number;
  /** `ip/port` or null. */
  physicalAddress: string | null;
  /** `major.minor.revision` or null. */
  clientVersion: string | null;
}

/** Options of {@link PgStore.open}. */
export interface PgStoreOptions {
  /** Where the database is. */
  conn: PgConnInfo;
  /** Name of this instance (origin of our change notifications; `seen_by` of member status). */
  instance: string;
  /** Diagnostics. */
  log?: (level: "info" | "warn", message: string) => void;
  /** Connection pool size (default 4). */
  maxConnections?: number;
  /** How long an API change may wait for its commit before answering 503 (ms, default 5000). */
  commitTimeoutMs?: number;
}

/** Most records in one write transaction. */
const BATCH = 500;
/** Retry period of writes and health checks while the database is unreachable (ms). */
const RETRY_MS = 500;
/** Health check period while the database is reachable (ms). */
const HEALTH_MS = 2000;
/** Status write-back period (ms). */
const STATUS_MS = 1000;

/**
 * Whether an uncaught error is postgres.js writing to the socket of a connection that is already
 * gone: when the server dies while writes are in flight, its `nextWrite` (run from a
 * `setImmediate`, outside any promise of ours) can find the socket nulled by the close and throw
 * a TypeError that nothing can catch, which would end the process. The connection is lost
 * either way, and the store's own error handling and health checks see the outage.
 */
export function isClosedSocketWrite(e: unknown): boolean {
  return e instanceof TypeError && /\(reading 'write'\)/.test(e.message) &&
    /[\\/]postgres[\\/][^\n]*[\\/]connection\.js:/.test(e.stack ?? "");
}

/** Where {@link containClosedSocketWrites} reports; the last store opened. */
let closedWriteLog: ((level: "warn", message: string) => void) | undefined;
let closedWriteGuard = false;

/**
 * Keeps {@link isClosedSocketWrite} errors from ending the process (once per process: a global
 * `error` listener that cancels only those, with a warning); every other uncaught error goes on
 * as before.
 */
export function containClosedSocketWrites(log?: (level: "warn", message: string) => void): void {
  if (log) closedWriteLog = log;
  if (closedWriteGuard) return;
  closedWriteGuard = true;
  globalThis.addEventListener("error", (ev) => {
    if (!isClosedSocketWrite(ev.error)) return;
    ev.preventDefault();
    closedWriteLog?.("warn", "controller database: a write hit a connection already closed");
  });
}

/** True for an error that means "no connection" rather than "the database refused this". */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
    // SQLSTATE: connection exceptions (08), shutdown/crash (57P01-57P03), too many connections
    return code.startsWith("08") || code.startsWith("57P") || code === "53300";
  }
  return true;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Sorted IP keys of a record's `ipAssignments`. */
function ipKeys(m: JsonObject | undefined): string[] {
  if (!m || !Array.isArray(m.ipAssignments)) return [];
  const out = new Set<string>();
  for (const s of m.ipAssignments) {
    const k = typeof s === "string" ? ipKey(s) : undefined;
    if (k !== undefined) out.add(k);
  }
  return [...out].sort();
}

function revisionOf(o: JsonObject | undefined): number | null {
  return o && typeof o.revision === "number" ? o.revision : o ? 0 : null;
}

/** True if `doc` (read from the database) has a lower revision than the cached `cur`. */
function isOlder(doc: JsonObject | undefined, cur: JsonObject | undefined): boolean {
  if (!doc || !cur) return false;
  return (revisionOf(doc) ?? 0) < (revisionOf(cur) ?? 0);
}

/** Thrown inside a savepoint to roll one record's write back. */
class Conflict extends Error {}

/**
 * The controller database in PostgreSQL (zt's own schema, see migrations/). All records are
 * loaded at start and served from memory (the {@link CachedStore} the file store uses), so the
 * synchronous store interface and config requests need no database round trip. Changes are
 * queued and written by one writer in batched transactions; each save is conditional on the
 * row's revision (optimistic concurrency) and each member's IPs go into `zt_member_ip`, whose
 * primary key (network, ip) makes an IP belong to one member across every instance. A write
 * that loses (another instance changed the row, or took the IP) is rolled back and the record
 * reloaded; API changes are then re-applied ({@link commit}), config replies are dropped (the
 * member asks again). Other instances' changes arrive by LISTEN/NOTIFY (and a full resync after
 * each reconnect). While the database is unreachable, reads keep working, writes stay queued
 * and are retried, and {@link commit} rejects with {@link StoreUnavailableError}.
 */
export class PgStore extends CachedStore {
  readonly #sql: postgres.Sql;
  readonly #opts: PgStoreOptions;
  #queue: Entry[] = [];
  /** Key → the queued (not yet running) save entry of that record. */
  #queued = new Map<string, Entry>();
  /** Key → number of queued or running entries. */
  #pending = new Map<string, number>();
  #writing = false;
  #down: string | undefined;
  #tracking: Entry[] | undefined;
  #timers: ReturnType<typeof setInterval>[] = [];
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #refreshKeys = new Set<string>();
  /** Changed elsewhere while a write of ours to the record was pending: reloaded once it settles. */
  #deferred = new Set<string>();
  #refreshing = false;
  #listening = false;
  #status = new Map<string, MemberStatusRow>();
  /** Commits waiting on their writes, told at once when the database is found gone. */
  #downWaiters = new Set<() => void>();
  #remote: Array<(c: RemoteChange) => void> = [];
  /** Writes committed, conflicts, batches, changes from others, batch retries (deadlocks). */
  readonly counters = { committed: 0, conflicts: 0, batches: 0, remoteChanges: 0, retries: 0 };

  private constructor(sql: postgres.Sql, opts: PgStoreOptions) {
    super();
    this.#sql = sql;
    this.#opts = opts;
  }

  /**
   * Connects, applies migrations, subscribes to change notifications and loads every record.
   * @throws on connection failure (see {@link isConnectionError}) or a newer schema.
   */
  static async open(opts: PgStoreOptions): Promise<PgStore> {
    const c = opts.conn;
    const sql = postgres({
      ...pgClientOptions(c),
      max: opts.maxConnections ?? 4,
      idle_timeout: 0,
      connect_timeout: c.connectTimeout ?? 5,
      onnotice: () => {},
      connection: { application_name: c.applicationName ?? `zt-controller ${opts.instance}` },
    });
    containClosedSocketWrites(opts.log);
    const store = new PgStore(sql, opts);
    try {
      await migrate(sql);
      await store.#listen();
      await store.#loadAll();
    } catch (e) {
      await sql.end({ timeout: 1 }).catch(() => {});
      throw e;
    }
    store.#timers.push(setInterval(() => store.#health(), HEALTH_MS));
    store.#timers.push(setInterval(() => store.#flushStatus(), STATUS_MS));
    opts.log?.("info", `controller database: ${describeConnInfo(c)}`);
    return store;
  }

  /** Why the database cannot take writes now (undefined: it can, as far as we know). */
  get unavailable(): string | undefined {
    return this.#down;
  }

  /** Writes queued or running. */
  get pendingWrites(): number {
    return this.#queue.length + (this.#writing ? 1 : 0);
  }

  /** Subscribes to changes made by other instances (after they are in memory). */
  onRemoteChange(cb: (c: RemoteChange) => void): void {
    this.#remote.push(cb);
  }

  // ---- loading and remote changes ------------------------------------------------------------

  async #loadAll(): Promise<void> {
    const nets = await this.#sql`select network_id, doc from zt_network`;
    for (const r of nets) {
      if (isJsonObject(r.doc)) this.loadNetwork({ ...r.doc, id: r.network_id });
    }
    const cursor = this.#sql`select network_id, member_id, doc from zt_member`.cursor(5000);
    for await (const rows of cursor) {
      for (const r of rows) {
        if (isJsonObject(r.doc)) {
          this.loadMember({ ...r.doc, id: r.member_id, nwid: r.network_id });
        }
      }
    }
  }

  async #listen(): Promise<void> {
    await this.#sql.listen("zt_controller", (payload) => this.#onNotify(payload), () => {
      // (re)subscribed: after a reconnect we may have missed notifications
      if (this.#listening) this.#resync().catch(() => {});
      this.#listening = true;
    });
  }

  #onNotify(payload: string): void {
    const [t, , nwid, addr, , origin] = payload.split("|");
    if (origin === this.#opts.instance) return;
    if (t !== "n" && t !== "m") return;
    this.#refreshKeys.add(t === "n" ? `n/${nwid}` : `m/${nwid}/${addr}`);
    if (!this.#refreshing) queueMicrotask(() => this.#refresh());
  }

  /** Compares every revision with the database and reloads what differs. */
  async #resync(): Promise<void> {
    const nets = await this.#sql`select network_id, revision from zt_network`;
    const seenNets = new Set<string>();
    for (const r of nets) {
      seenNets.add(r.network_id);
      if (revisionOf(this.networks.get(r.network_id)) !== Number(r.revision)) {
        this.#refreshKeys.add(`n/${r.network_id}`);
      }
    }
    for (const id of this.networks.keys()) if (!seenNets.has(id)) this.#refreshKeys.add(`n/${id}`);
    const mems = await this.#sql`select network_id, member_id, revision from zt_member`;
    const seen = new Set<string>();
    for (const r of mems) {
      const k = `m/${r.network_id}/${r.member_id}`;
      seen.add(k);
      const cur = this.members.get(r.network_id)?.get(r.member_id);
      if (revisionOf(cur) !== Number(r.revision)) this.#refreshKeys.add(k);
    }
    for (const [nwid, ms] of this.members) {
      for (const a of ms.keys()) {
        if (!seen.has(`m/${nwid}/${a}`)) this.#refreshKeys.add(`m/${nwid}/${a}`);
      }
    }
    await this.#refresh();
  }

  /**
   * Reloads the records named in #refreshKeys. A record with a write of ours pending is deferred:
   * it is reloaded (and its change announced) once that write settles.
   */
  async #refresh(): Promise<void> {
    if (this.#refreshing) return;
    this.#refreshing = true;
    try {
      while (this.#refreshKeys.size > 0) {
        const keys = [...this.#refreshKeys].slice(0, 1000);
        const now: string[] = [];
        for (const k of keys) {
          this.#refreshKeys.delete(k);
          if (this.#pending.has(k)) this.#deferred.add(k);
          else now.push(k);
        }
        await this.#reload(now, "remote");
      }
    } catch (e) {
      this.#log("warn", `controller database: reloading changed records: ${message(e)}`);
    } finally {
      this.#refreshing = false;
    }
  }

  /**
   * Loads `keys` (`n/<nwid>`, `m/<nwid>/<addr>`) from the database into memory.
   * - "remote": changed by another instance; a record with a write of ours pending (started
   *   meanwhile) is deferred, a row older than what we hold is skipped; changes are announced.
   * - "conflict": our write lost to another instance's; what it holds replaces ours and is
   *   announced (a revocation made there must reach the members this instance serves).
   * - "failed": our write was refused; the database's record is put back quietly.
   */
  async #reload(keys: string[], mode: "remote" | "conflict" | "failed"): Promise<void> {
    if (keys.length === 0) return;
    const remote = mode === "remote";
    const nets = keys.filter((k) => k.startsWith("n/")).map((k) => k.slice(2));
    const mn: string[] = [];
    const ma: string[] = [];
    for (const k of keys) {
      if (!k.startsWith("m/")) continue;
      const [, n, a] = k.split("/");
      mn.push(n);
      ma.push(a);
    }
    const changes: RemoteChange[] = [];
    if (nets.length > 0) {
      const rows = await this.#sql`select network_id, doc from zt_network
        where network_id = any(${nets}::text[])`;
      const got = new Map(rows.map((r) => [r.network_id as string, r.doc as JsonObject]));
      for (const id of nets) {
        const before = this.networks.get(id);
        const doc = got.get(id);
        // a write of ours started meanwhile, or the row read is older than what we hold
        if (remote && this.#pending.has(`n/${id}`)) {
          this.#deferred.add(`n/${id}`);
          continue;
        }
        if (remote && isOlder(doc, before)) continue;
        if (doc && isJsonObject(doc)) {
          if (before && jsonEqual(before, { ...doc, id })) continue;
          this.loadNetwork({ ...doc, id });
          changes.push({ kind: "network", nwid: id, addr: "", before, after: doc });
        } else if (before) {
          this.evictNetwork(id);
          changes.push({ kind: "network", nwid: id, addr: "", before });
        }
      }
    }
    if (mn.length > 0) {
      const rows = await this.#sql`select m.network_id, m.member_id, m.doc from zt_member m
        join unnest(${mn}::text[], ${ma}::text[]) as k(n, a)
          on m.network_id = k.n and m.member_id = k.a`;
      const got = new Map(
        rows.map((r) => [`${r.network_id}/${r.member_id}`, r.doc as JsonObject]),
      );
      for (let i = 0; i < mn.length; i++) {
        const before = this.members.get(mn[i])?.get(ma[i]);
        const doc = got.get(`${mn[i]}/${ma[i]}`);
        if (remote && this.#pending.has(`m/${mn[i]}/${ma[i]}`)) {
          this.#deferred.add(`m/${mn[i]}/${ma[i]}`);
          continue;
        }
        if (remote && isOlder(doc, before)) continue;
        if (doc && isJsonObject(doc)) {
          if (before && jsonEqual(before, { ...doc, id: ma[i], nwid: mn[i] })) continue;
          this.loadMember({ ...doc, id: ma[i], nwid: mn[i] });
          changes.push({ kind: "member", nwid: mn[i], addr: ma[i], before, after: doc });
        } else if (before) {
          this.evictMember(mn[i], ma[i]);
          changes.push({ kind: "member", nwid: mn[i], addr: ma[i], before });
        }
      }
    }
    if (mode === "failed") return;
    for (const c of changes) {
      this.counters.remoteChanges++;
      for (const cb of this.#remote) {
        try {
          cb(c);
        } catch {
          // a listener's failure must not stop the others
        }
      }
    }
  }

  // ---- writes ----------------------------------------------------------------------------------

  #log(level: "info" | "warn", m: string): void {
    this.#opts.log?.(level, m);
  }

  #enqueue(
    kind: Entry["kind"],
    nwid: string,
    addr: string,
    rec: JsonObject | undefined,
    old: JsonObject | undefined,
  ): void {
    const key = kind === "net" || kind === "delnet" ? `n/${nwid}` : `m/${nwid}/${addr}`;
    const q = this.#queued.get(key);
    if (q && q.kind === kind && rec) {
      q.rec = rec; // merged: still conditional on the revision the database has
      this.#tracking?.push(q);
      return;
    }
    let finish!: (o: Outcome) => void;
    const done = new Promise<Outcome>((r) => finish = r);
    const e: Entry = {
      kind,
      nwid,
      addr,
      rec,
      expect: revisionOf(old),
      baseIps: ipKeys(old),
      done,
      finish,
    };
    this.#queue.push(e);
    if (kind === "net" || kind === "mem") this.#queued.set(key, e);
    else this.#queued.delete(key);
    this.#pending.set(key, (this.#pending.get(key) ?? 0) + 1);
    this.#tracking?.push(e);
    if (!this.#writing && this.#retryTimer === undefined) queueMicrotask(() => this.#write());
  }

  protected persistNetwork(network: JsonObject): void {
    const id = String(network.id).toLowerCase();
    this.#enqueue("net", id, "", network, this.networks.get(id));
  }

  protected persistMember(member: JsonObject): void {
    const nwid = String(member.nwid).toLowerCase();
    const addr = String(member.id).toLowerCase();
    this.#enqueue("mem", nwid, addr, member, this.members.get(nwid)?.get(addr));
  }

  protected removeNetwork(nwid: string): void {
    this.#enqueue("delnet", nwid, "", undefined, this.networks.get(nwid));
  }

  protected removeMember(nwid: string, address: string): void {
    this.#enqueue("delmem", nwid, address, undefined, this.members.get(nwid)?.get(address));
  }

  #keyOf(e: Entry): string {
    return e.kind === "net" || e.kind === "delnet" ? `n/${e.nwid}` : `m/${e.nwid}/${e.addr}`;
  }

  #settle(e: Entry, o: Outcome): void {
    const k = this.#keyOf(e);
    const n = (this.#pending.get(k) ?? 1) - 1;
    if (n <= 0) {
      this.#pending.delete(k);
      if (this.#deferred.delete(k) && !this.#closed) {
        this.#refreshKeys.add(k);
        if (!this.#refreshing) queueMicrotask(() => this.#refresh());
      }
    } else this.#pending.set(k, n);
    e.finish(o);
  }

  /** Writes one batch from the queue; schedules itself again while there is more. */
  async #write(): Promise<void> {
    if (this.#writing || this.#closed || this.#queue.length === 0) return;
    this.#writing = true;
    const batch = this.#queue.splice(0, BATCH);
    for (const e of batch) {
      const k = this.#keyOf(e);
      if (this.#queued.get(k) === e) this.#queued.delete(k);
    }
    const outcomes: Outcome[] = [];
    try {
      await this.#sql.begin(async (tx) => {
        outcomes.length = 0;
        await tx`select set_config('zt.origin', ${this.#opts.instance}, true)`;
        for (const e of batch) outcomes.push(await this.#apply(tx, e));
      });
    } catch (e) {
      this.#writing = false;
      const code = (e as { code?: unknown }).code;
      if ((code === "40P01" || code === "40001") && !this.#closed) {
        // deadlock with another instance's batch (e.g. both took the same IPs): the other one
        // went through; run ours again, where the taken IPs now show up as conflicts
        this.counters.retries++;
        this.#queue.unshift(...batch);
        queueMicrotask(() => this.#write());
        return;
      }
      if (isConnectionError(e) && !this.#closed) {
        // retried in order once the database is back (later saves of these records were
        // queued as separate entries, so nothing merges into a retried one)
        this.#queue.unshift(...batch);
        this.#markDown(e);
        this.#retryTimer ??= setTimeout(() => {
          this.#retryTimer = undefined;
          this.#write();
        }, RETRY_MS);
        return;
      }
      this.#log("warn", `controller database: write refused: ${message(e)}`);
      for (const x of batch) this.#settle(x, "failed");
      await this.#reload(batch.map((x) => this.#keyOf(x)), "failed").catch(() => {});
      this.#next();
      return;
    }
    this.#markUp();
    this.counters.batches++;
    const lost: string[] = [];
    batch.forEach((e, i) => {
      if (outcomes[i] === "ok") this.counters.committed++;
      else {
        this.counters.conflicts++;
        lost.push(this.#keyOf(e));
      }
    });
    // reload what we lost before releasing the waiters, so a retried API change sees it
    if (lost.length > 0) {
      await this.#reload(lost, "conflict").catch(
        (e) => this.#log("warn", `controller database: reloading after conflict: ${message(e)}`),
      );
    }
    batch.forEach((e, i) => this.#settle(e, outcomes[i]));
    this.#next();
  }

  #next(): void {
    this.#writing = false;
    if (this.#queue.length > 0) queueMicrotask(() => this.#write());
  }

  /** One record's statements inside the batch transaction. */
  async #apply(tx: postgres.TransactionSql, e: Entry): Promise<Outcome> {
    switch (e.kind) {
      case "delnet":
        await tx`delete from zt_network where network_id = ${e.nwid}`;
        return "ok";
      case "delmem":
        await tx`delete from zt_member where network_id = ${e.nwid} and member_id = ${e.addr}`;
        return "ok";
      case "net": {
        const doc = tx.json(e.rec! as postgres.JSONValue);
        const rev = revisionOf(e.rec)!;
        const r = e.expect === null
          ? await tx`insert into zt_network (network_id, revision, doc)
              values (${e.nwid}, ${rev}, ${doc}) on conflict do nothing returning 1`
          : await tx`update zt_network set revision = ${rev}, doc = ${doc},
              updated_at = now() where network_id = ${e.nwid} and revision = ${e.expect}
              returning 1`;
        return r.length === 1 ? "ok" : "conflict";
      }
      case "mem": {
        const rec = e.rec!;
        const doc = tx.json(rec as postgres.JSONValue);
        const rev = revisionOf(rec)!;
        const auth = rec.authorized === true;
        const ips = ipKeys(rec);
        const sameIps = ips.join(",") === e.baseIps.join(",");
        try {
          await tx.savepoint(async (sp) => {
            const r = e.expect === null
              ? await sp`insert into zt_member (network_id, member_id, revision, authorized, doc)
                  values (${e.nwid}, ${e.addr}, ${rev}, ${auth}, ${doc})
                  on conflict do nothing returning 1`
              : await sp`update zt_member set revision = ${rev}, authorized = ${auth},
                  doc = ${doc}, updated_at = now()
                  where network_id = ${e.nwid} and member_id = ${e.addr}
                  and revision = ${e.expect} returning 1`;
            if (r.length !== 1) throw new Conflict();
            if (sameIps) return;
            // One round trip: drop the IPs it no longer has, add the new ones. An IP of `ips`
            // that is neither already this member's nor inserted now is held by another member
            // (the insert waits for a concurrent one and then skips it): that loses the race.
            const [{ n }] = await sp`with gone as (
                delete from zt_member_ip where network_id = ${e.nwid}
                and member_id = ${e.addr} and not (ip = any(${ips}::text[]))),
              mine as (
                select ip from zt_member_ip where network_id = ${e.nwid}
                and member_id = ${e.addr} and ip = any(${ips}::text[])),
              added as (
                insert into zt_member_ip (network_id, ip, member_id)
                select ${e.nwid}, x, ${e.addr} from unnest(${ips}::text[]) as x
                on conflict do nothing returning ip)
              select (${ips.length}::int - (select count(*) from mine)
                - (select count(*) from added))::int as n`;
            if (n > 0) throw new Conflict(); // another member holds one of these IPs
          });
          return "ok";
        } catch (err) {
          if (err instanceof Conflict) return "conflict";
          // the network was deleted by another instance meanwhile
          if ((err as { code?: string }).code === "23503") return "conflict";
          throw err;
        }
      }
    }
  }

  #markDown(e: unknown): void {
    for (const w of this.#downWaiters) w();
    this.#downWaiters.clear();
    const was = this.#down;
    this.#down = `controller database unreachable (${message(e)}); ` +
      "changes are not accepted until it is back";
    if (!was) this.#log("warn", this.#down);
  }

  #markUp(): void {
    if (this.#down) this.#log("info", "controller database reachable again");
    this.#down = undefined;
  }

  async #health(): Promise<void> {
    if (this.#closed) return;
    try {
      await this
        .#sql`insert into zt_instance (name, heartbeat) values (${this.#opts.instance}, now())
        on conflict (name) do update set heartbeat = now()`;
      const wasDown = this.#down !== undefined;
      this.#markUp();
      if (wasDown) {
        if (!this.#writing && this.#queue.length > 0) this.#write();
        await this.#resync();
      }
    } catch (e) {
      if (isConnectionError(e)) this.#markDown(e);
    }
  }

  /** Runs `op` and collects the write entries it queued. */
  track<T>(op: () => T): { result: T; entries: Promise<Outcome>[] } {
    const outer = this.#tracking;
    const mine: Entry[] = [];
    this.#tracking = mine;
    try {
      const result = op();
      return { result, entries: mine.map((e) => e.done) };
    } finally {
      this.#tracking = outer;
      outer?.push(...mine);
    }
  }

  async commit<T>(op: () => T): Promise<T> {
    const timeout = this.#opts.commitTimeoutMs ?? 5000;
    for (let attempt = 1;; attempt++) {
      if (this.#down) throw new StoreUnavailableError(this.#down);
      const { result, entries } = this.track(op);
      if (entries.length === 0) return result;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let onDown: (() => void) | undefined;
      const outcomes = await Promise.race([
        Promise.all(entries),
        new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), timeout)),
        new Promise<"timeout">((r) => this.#downWaiters.add(onDown = () => r("timeout"))),
      ]);
      clearTimeout(timer);
      if (onDown) this.#downWaiters.delete(onDown);
      if (outcomes === "timeout") {
        const why = this.#down ?? `controller database did not confirm within ${timeout} ms`;
        throw new StoreUnavailableError(
          `${why}; this change is not confirmed (it stays queued and is written when the ` +
            "database is back)",
        );
      }
      if (outcomes.every((o) => o === "ok")) return result;
      if (outcomes.includes("failed")) {
        throw new StoreUnavailableError("controller database refused the change (see the log)");
      }
      if (attempt >= 5) {
        throw new StoreUnavailableError(
          "controller database: the record kept changing (or an IP is assigned to another " +
            "member); try again",
        );
      }
    }
  }

  // ---- member status ---------------------------------------------------------------------------

  /**
   * Claims members that another instance served within the last 10 minutes but that have not
   * been heard from for 20 s while that instance stopped beating (killed, host lost): they are
   * marked as ours (`seen_by`) and returned, so this instance can contact them.
   */
  async claimOrphans(limit = 500): Promise<Array<{ nwid: string; addr: string }>> {
    if (this.#down || this.#closed) return [];
    const me = this.#opts.instance;
    const rows = await this.#sql`update zt_member m set seen_by = ${me}
      from (select m2.network_id, m2.member_id from zt_member m2
        left join zt_instance i on i.name = m2.seen_by
        where m2.authorized and m2.seen_by <> ${me}
          and m2.last_seen > now() - interval '10 minutes'
          and m2.last_seen < now() - interval '20 seconds'
          and (i.heartbeat is null or i.heartbeat < now() - interval '15 seconds')
        limit ${limit}) o
      where m.network_id = o.network_id and m.member_id = o.member_id
      returning m.network_id, m.member_id`;
    return rows.map((r) => ({ nwid: r.network_id as string, addr: r.member_id as string }));
  }

  /** Queues a member's status for the next batched write-back. */
  noteStatus(nwid: string, addr: string, s: MemberStatusRow): void {
    this.#status.set(`${nwid}/${addr}`, s);
  }

  async #flushStatus(): Promise<void> {
    if (this.#status.size === 0 || this.#down || this.#closed) return;
    // members whose record is still being written wait for the next round (the UPDATE would
    // find no row yet)
    const rows = [...this.#status].filter(([k]) => !this.#pending.has(`m/${k}`));
    if (rows.length === 0) return;
    for (const [k] of rows) this.#status.delete(k);
    const n: string[] = [], a: string[] = [], ls: string[] = [];
    const pa: (string | null)[] = [], cv: (string | null)[] = [];
    for (const [k, s] of rows) {
      const [x, y] = k.split("/");
      n.push(x);
      a.push(y);
      ls.push(new Date(s.lastSeen).toISOString());
      pa.push(s.physicalAddress);
      cv.push(s.clientVersion);
    }
    try {
      await this.#sql`update zt_member m set last_seen = s.ls, physical_address = s.pa,
        client_version = s.cv, seen_by = ${this.#opts.instance}
        from unnest(${n}::text[], ${a}::text[], ${ls}::timestamptz[], ${pa}::text[],
          ${cv}::text[]) as s(n, a, ls, pa, cv)
        where m.network_id = s.n and m.member_id = s.a`;
    } catch (e) {
      for (const [k, s] of rows) if (!this.#status.has(k)) this.#status.set(k, s);
      if (isConnectionError(e)) this.#markDown(e);
    }
  }

  /** Waits (bounded) until every queued write is committed. True if the queue emptied. */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.pendingWrites > 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.pendingWrites === 0;
  }

  /** Flushes status, stops timers and closes the connections (queued writes get `timeoutMs`). */
  async close(timeoutMs = 2000): Promise<void> {
    await this.#flushStatus();
    await this.drain(timeoutMs);
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    await this.#sql.end({ timeout: 1 }).catch(() => {});
  }
}
