// Numbered schema migrations of the PostgreSQL controller store, applied in one transaction at start.
import type postgres from "postgres";
import { MIGRATION_001_INIT } from "./migrations/001_init.ts";
import { MIGRATION_002_INSTANCES } from "./migrations/002_instances.ts";

/** One schema step. Versions are consecutive from 1; never edit a released one, add a new one. */
export interface Migration {
  /** Schema version after this step. */
  version: number;
  /** Short name. */
  name: string;
  /** SQL (several statements). */
  sql: string;
}

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "init", sql: MIGRATION_001_INIT },
  { version: 2, name: "instances", sql: MIGRATION_002_INSTANCES },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Advisory lock key serializing migrations of instances starting at once ("ztschema"). */
const MIGRATION_LOCK = 0x7a74_7363_6865_6dn;

/** The database's schema is newer than this build understands. */
export class SchemaTooNewError extends Error {
  constructor(found: number) {
    super(
      `controller database schema version ${found} is newer than this zt understands ` +
        `(${SCHEMA_VERSION}); upgrade zt`,
    );
    this.name = "SchemaTooNewError";
  }
}

/**
 * Brings the schema to {@link SCHEMA_VERSION} in one transaction (under an advisory lock, so
 * instances starting together apply each step once). Returns the version found before.
 * @throws SchemaTooNewError if the database is newer than this build.
 */
export async function migrate(sql: postgres.Sql): Promise<number> {
  let before = 0;
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK.toString()}::bigint)`;
    await tx`create table if not exists zt_schema (
      version integer primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )`;
    const [row] = await tx`select coalesce(max(version), 0)::int as v from zt_schema`;
    before = Number(row.v);
    if (before > SCHEMA_VERSION) throw new SchemaTooNewError(before);
    for (const m of MIGRATIONS) {
      if (m.version <= before) continue;
      await tx.unsafe(m.sql).simple();
      await tx`insert into zt_schema (version, name) values (${m.version}, ${m.name})`;
    }
  });
  return before;
}
