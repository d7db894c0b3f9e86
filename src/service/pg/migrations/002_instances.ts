// Schema migration 2 of the PostgreSQL controller store: instance heartbeats (takeover of members).

/** SQL of migration 2: one row per running controller instance, refreshed every few seconds. */
export const MIGRATION_002_INSTANCES = `
CREATE TABLE zt_instance (
  name text PRIMARY KEY,
  heartbeat timestamptz NOT NULL
);
CREATE INDEX zt_member_seen_by ON zt_member (seen_by, last_seen);
`;
