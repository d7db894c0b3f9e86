// Lossless copy of controller records between a controller.d directory and PostgreSQL, both ways.
import { stringifyJson64 } from "../../util/json64.ts";
import postgres from "postgres";
import { FileStore } from "../controller_file_store.ts";
import { ipKey } from "../../controller/ip_assignment.ts";
import type { JsonObject } from "../../util/json.ts";
import { isJsonObject } from "../../util/json.ts";
import { migrate } from "./migrations.ts";
import {
  isPostgresDbPath,
  parsePgConnInfo,
  pgClientOptions,
  type PgConnInfo,
} from "./pg_conninfo.ts";

/** Every network and member record, exactly as stored (revisions kept). */
export interface ControllerRecords {
  /** Network records. */
  networks: JsonObject[];
  /** Member records (each with `nwid` and `id`). */
  members: JsonObject[];
}

/** A file store that can write records as they are (no revision bump): the import target. */
class RawFileStore extends FileStore {
  writeNetwork(n: JsonObject): void {
    this.persistNetwork(n);
  }
  writeMember(m: JsonObject): void {
    this.persistMember(m);
  }
}

/** Opens a short-lived connection for a transfer. */
export function pgConnect(c: PgConnInfo): postgres.Sql {
  return postgres({
    ...pgClientOptions(c),
    max: 2,
    connect_timeout: c.connectTimeout ?? 10,
    onnotice: () => {},
  });
}

/** Reads every record of a controller.d directory (which must exist). */
export function readDir(dir: string): ControllerRecords {
  Deno.statSync(`${dir}/network`); // NotFound: not a controller database
  const s = new FileStore(dir);
  const networks: JsonObject[] = [];
  const members: JsonObject[] = [];
  for (const id of s.listNetworkIds()) {
    networks.push(s.getNetwork(id)!);
    members.push(...s.listMembers(id));
  }
  return { networks, members };
}

/** Writes records into a controller.d directory that holds none yet. */
export function writeDir(dir: string, r: ControllerRecords): void {
  const s = new RawFileStore(dir);
  const have = s.listNetworkIds().length;
  if (have > 0) throw new Error(`${dir} already holds ${have} network(s); use an empty target`);
  for (const n of r.networks) s.writeNetwork(n);
  for (const m of r.members) s.writeMember(m);
}

/** Reads every record from PostgreSQL (migrating the schema first). */
export async function readPg(sql: postgres.Sql): Promise<ControllerRecords> {
  await migrate(sql);
  const networks: JsonObject[] = [];
  const members: JsonObject[] = [];
  for (const row of await sql`select network_id, doc from zt_network order by network_id`) {
    if (isJsonObject(row.doc)) networks.push({ ...row.doc, id: row.network_id });
  }
  const rows = await sql`select network_id, member_id, doc from zt_member
    order by network_id, member_id`;
  for (const row of rows) {
    if (isJsonObject(row.doc)) {
      members.push({ ...row.doc, id: row.member_id, nwid: row.network_id });
    }
  }
  return { networks, members };
}

/** Writes records into a PostgreSQL database that holds none yet, in one transaction. */
export async function writePg(sql: postgres.Sql, r: ControllerRecords): Promise<void> {
  await migrate(sql);
  await sql.begin(async (tx) => {
    const [{ n }] = await tx`select count(*)::int as n from zt_network`;
    if (n > 0) throw new Error(`the database already holds ${n} network(s); use an empty one`);
    await tx`select set_config('zt.origin', 'import', true)`;
    for (const net of r.networks) {
      const id = String(net.id).toLowerCase();
      await tx`insert into zt_network (network_id, revision, doc)
        values (${id}, ${Number(net.revision ?? 0)}, ${tx.json(net as postgres.JSONValue)})`;
    }
    // members in chunks, one statement each (100,000 members take seconds, not minutes)
    for (let i = 0; i < r.members.length; i += 2000) {
      const chunk = r.members.slice(i, i + 2000);
      const n: string[] = [], a: string[] = [], rev: number[] = [], auth: boolean[] = [];
      const docs: string[] = [], ipN: string[] = [], ipA: string[] = [], ipK: string[] = [];
      for (const m of chunk) {
        const nwid = String(m.nwid).toLowerCase();
        const addr = String(m.id).toLowerCase();
        n.push(nwid);
        a.push(addr);
        rev.push(Number(m.revision ?? 0));
        auth.push(m.authorized === true);
        docs.push(stringifyJson64(m)); // 64-bit tag values stay exact
        const ips = new Set<string>();
        if (Array.isArray(m.ipAssignments)) {
          for (const s of m.ipAssignments) {
            const k = typeof s === "string" ? ipKey(s) : undefined;
            if (k !== undefined) ips.add(k);
          }
        }
        for (const k of ips) {
          ipN.push(nwid);
          ipA.push(addr);
          ipK.push(k);
        }
      }
      await tx`insert into zt_member (network_id, member_id, revision, authorized, doc)
        select * from unnest(${n}::text[], ${a}::text[], ${rev.map(String)}::text[]::bigint[], ${
        auth.map(String)
      }::text[]::bool[],
          ${docs}::text[]::jsonb[])`;
      // a duplicate IP (possible in a file database) is kept in the record, indexed once
      if (ipK.length > 0) {
        await tx`insert into zt_member_ip (network_id, member_id, ip)
          select * from unnest(${ipN}::text[], ${ipA}::text[], ${ipK}::text[])
          on conflict do nothing`;
      }
    }
  });
}

/** Reads records from a directory or a PostgreSQL location. */
export async function readRecords(where: string): Promise<ControllerRecords> {
  if (!isPostgresDbPath(where)) return readDir(where);
  const c = parsePgConnInfo(where);
  if (typeof c === "string") throw new Error(c);
  const sql = pgConnect(c);
  try {
    return await readPg(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Writes records to a directory or a PostgreSQL location (which must hold no networks). */
export async function writeRecords(where: string, r: ControllerRecords): Promise<void> {
  if (!isPostgresDbPath(where)) return writeDir(where, r);
  const c = parsePgConnInfo(where);
  if (typeof c === "string") throw new Error(c);
  const sql = pgConnect(c);
  try {
    await writePg(sql, r);
  } finally {
    await sql.end({ timeout: 1 });
  }
}
