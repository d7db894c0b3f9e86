// Controller database interface and the shared cached implementation with revision bumping.
import type { JsonObject } from "../util/json.ts";
import { canonicalJson, cloneJson } from "../util/json.ts";
import { ipKey } from "./ip_assignment.ts";

/** Outcome of a save: the record as stored and whether anything really changed. */
export interface SaveResult {
  /** The stored record (a copy; `revision` bumped if changed). */
  record: JsonObject;
  /** False if the content equalled the stored one (ignoring `revision`): nothing was written. */
  changed: boolean;
}

/**
 * Storage of network and member records (spec §10.2). IDs are lower-case hex strings (16 digits
 * for networks, 10 for members). Every returned object is a copy. Saves bump `revision` by one
 * only when the content (ignoring `revision`) differs from what is stored.
 */
export interface ControllerStore {
  /** All network IDs, sorted. */
  listNetworkIds(): string[];
  /** One network, or undefined. */
  getNetwork(nwid: string): JsonObject | undefined;
  /** Saves (creates or replaces) a network; its `id` names it. */
  saveNetwork(network: JsonObject): SaveResult;
  /** Deletes a network and all its members; returns the deleted network. */
  deleteNetwork(nwid: string): JsonObject | undefined;
  /** Members of a network, sorted by address. */
  listMembers(nwid: string): JsonObject[];
  /** One member, or undefined. */
  getMember(nwid: string, address: string): JsonObject | undefined;
  /** Saves a member; its `nwid` and `id` name it. */
  saveMember(member: JsonObject): SaveResult;
  /** Deletes one member; returns it. */
  deleteMember(nwid: string, address: string): JsonObject | undefined;
  /** Addresses of the members of `nwid` with `activeBridge: true`, sorted. */
  activeBridges(nwid: string): string[];
  /**
   * True if a member of `nwid` other than `except` has an `ipAssignments` entry with IP key
   * `key` (see `ipKey`). Used for pool assignment without scanning every member.
   */
  ipTaken(nwid: string, key: string, except: string): boolean;
  /**
   * Stores whose records live in a remote database (PostgreSQL) run every API change through
   * this: `op` runs synchronously against the in-memory copy, then the promise resolves once its
   * writes are committed (re-running `op` after a concurrent change by another instance). It
   * rejects with {@link StoreUnavailableError} when the database is unreachable. Local stores
   * leave it out: their writes are durable when `op` returns.
   */
  commit?<T>(op: () => T): Promise<T>;
}

/** A change could not be made durable: the database is unreachable or kept refusing it. */
export class StoreUnavailableError extends Error {
  /** `message` is shown to API clients (503). */
  constructor(message: string) {
    super(message);
    this.name = "StoreUnavailableError";
  }
}

/** Content of a record ignoring its revision, for change detection. */
function contentKey(o: JsonObject): string {
  const c = { ...o };
  delete c.revision;
  return canonicalJson(c);
}

/** The revision a changed record gets. */
function nextRevision(old: JsonObject | undefined, incoming: JsonObject): number {
  const base = old ?? incoming;
  const r = typeof base.revision === "number" && Number.isFinite(base.revision) ? base.revision : 0;
  return r + 1;
}

/**
 * A store that keeps everything in memory and reports real changes to persistence hooks
 * (no-ops here; {@link FileStore} writes files). The revision rule lives here so every backend
 * behaves the same.
 */
export abstract class CachedStore implements ControllerStore {
  /** nwid -> network record. */
  protected readonly networks = new Map<string, JsonObject>();
  /** nwid -> (address -> member record). */
  protected readonly members = new Map<string, Map<string, JsonObject>>();
  /** nwid -> addresses of active bridges (kept in step with `members`). */
  private readonly bridgeIndex = new Map<string, Set<string>>();
  /** nwid -> (IP key -> addresses that have it in `ipAssignments`), kept in step with `members`. */
  private readonly ipIndex = new Map<string, Map<string, Set<string>>>();

  /** Persists a changed network (called after the cache would change; throw to abort). */
  protected abstract persistNetwork(network: JsonObject): void;
  /** Persists a changed member. */
  protected abstract persistMember(member: JsonObject): void;
  /** Removes a network and its members from persistent storage. */
  protected abstract removeNetwork(nwid: string): void;
  /** Removes a member from persistent storage. */
  protected abstract removeMember(nwid: string, address: string): void;

  /** Puts a loaded record into the cache as is (no revision change, no persistence). */
  protected loadNetwork(n: JsonObject): void {
    this.networks.set(String(n.id), n);
  }

  /** Puts a loaded member into the cache as is. */
  protected loadMember(m: JsonObject): void {
    this.putMember(String(m.nwid), String(m.id), m);
  }

  /** Drops a cached member (changed elsewhere: no persistence). */
  protected evictMember(nwid: string, address: string): void {
    this.putMember(nwid, address, undefined);
  }

  /** Drops a cached network and its members (changed elsewhere: no persistence). */
  protected evictNetwork(nwid: string): void {
    this.networks.delete(nwid);
    this.members.delete(nwid);
    this.bridgeIndex.delete(nwid);
    this.ipIndex.delete(nwid);
  }

  /** Sets a cached member, updating the bridge and IP indexes. */
  private putMember(nwid: string, addr: string, m: JsonObject | undefined): void {
    let ms = this.members.get(nwid);
    const old = ms?.get(addr);
    if (old) this.index(nwid, addr, old, false);
    if (m === undefined) {
      ms?.delete(addr);
      return;
    }
    if (!ms) this.members.set(nwid, ms = new Map());
    ms.set(addr, m);
    this.index(nwid, addr, m, true);
  }

  /** Adds (or removes) a member's entries in the bridge and IP indexes. */
  private index(nwid: string, addr: string, m: JsonObject, add: boolean): void {
    if (m.activeBridge === true) {
      let b = this.bridgeIndex.get(nwid);
      if (!b) this.bridgeIndex.set(nwid, b = new Set());
      if (add) b.add(addr);
      else b.delete(addr);
    }
    if (!Array.isArray(m.ipAssignments)) return;
    let ips = this.ipIndex.get(nwid);
    if (!ips) this.ipIndex.set(nwid, ips = new Map());
    for (const s of m.ipAssignments) {
      const k = typeof s === "string" ? ipKey(s) : undefined;
      if (k === undefined) continue;
      let owners = ips.get(k);
      if (add) {
        if (!owners) ips.set(k, owners = new Set());
        owners.add(addr);
      } else if (owners) {
        owners.delete(addr);
        if (owners.size === 0) ips.delete(k);
      }
    }
  }

  activeBridges(nwid: string): string[] {
    return [...(this.bridgeIndex.get(nwid.toLowerCase()) ?? [])].sort();
  }

  ipTaken(nwid: string, key: string, except: string): boolean {
    const owners = this.ipIndex.get(nwid.toLowerCase())?.get(key);
    if (!owners) return false;
    return owners.size > (owners.has(except.toLowerCase()) ? 1 : 0);
  }

  listNetworkIds(): string[] {
    return [...this.networks.keys()].sort();
  }

  getNetwork(nwid: string): JsonObject | undefined {
    const n = this.networks.get(nwid.toLowerCase());
    return n ? cloneJson(n) : undefined;
  }

  saveNetwork(network: JsonObject): SaveResult {
    const id = String(network.id).toLowerCase();
    const old = this.networks.get(id);
    if (old && contentKey(old) === contentKey(network)) {
      return { record: cloneJson(old), changed: false };
    }
    const rec = cloneJson(network);
    rec.revision = nextRevision(old, network);
    this.persistNetwork(rec);
    this.networks.set(id, rec);
    return { record: cloneJson(rec), changed: true };
  }

  deleteNetwork(nwid: string): JsonObject | undefined {
    const id = nwid.toLowerCase();
    const old = this.networks.get(id);
    if (!old) return undefined;
    this.removeNetwork(id);
    this.networks.delete(id);
    this.members.delete(id);
    this.bridgeIndex.delete(id);
    this.ipIndex.delete(id);
    return cloneJson(old);
  }

  listMembers(nwid: string): JsonObject[] {
    const ms = this.members.get(nwid.toLowerCase());
    if (!ms) return [];
    return [...ms.keys()].sort().map((a) => cloneJson(ms.get(a)!));
  }

  getMember(nwid: string, address: string): JsonObject | undefined {
    const m = this.members.get(nwid.toLowerCase())?.get(address.toLowerCase());
    return m ? cloneJson(m) : undefined;
  }

  /** Whether the member exists (no copy of its record, unlike {@link getMember}). */
  hasMember(nwid: string, address: string): boolean {
    return this.members.get(nwid.toLowerCase())?.has(address.toLowerCase()) ?? false;
  }

  saveMember(member: JsonObject): SaveResult {
    const nwid = String(member.nwid).toLowerCase();
    const addr = String(member.id).toLowerCase();
    const old = this.members.get(nwid)?.get(addr);
    if (old && contentKey(old) === contentKey(member)) {
      return { record: cloneJson(old), changed: false };
    }
    const rec = cloneJson(member);
    rec.revision = nextRevision(old, member);
    this.persistMember(rec);
    this.putMember(nwid, addr, rec);
    return { record: cloneJson(rec), changed: true };
  }

  deleteMember(nwid: string, address: string): JsonObject | undefined {
    const id = nwid.toLowerCase();
    const addr = address.toLowerCase();
    const old = this.members.get(id)?.get(addr);
    if (!old) return undefined;
    this.removeMember(id, addr);
    this.putMember(id, addr, undefined);
    return cloneJson(old);
  }
}
