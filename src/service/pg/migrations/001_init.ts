// Schema migration 1 of the PostgreSQL controller store: networks, members, member IPs, change feed.

/** SQL of migration 1 (zt's own schema; see docs/architecture.md). */
export const MIGRATION_001_INIT = `
-- zt controller schema, version 1: networks and members as full JSON plus queried columns.
CREATE TABLE zt_network (
  network_id text PRIMARY KEY CHECK (network_id ~ '^[0-9a-f]{16}$'),
  revision bigint NOT NULL,
  doc jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE zt_member (
  network_id text NOT NULL REFERENCES zt_network (network_id) ON DELETE CASCADE,
  member_id text NOT NULL CHECK (member_id ~ '^[0-9a-f]{10}$'),
  revision bigint NOT NULL,
  authorized boolean NOT NULL DEFAULT false,
  doc jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz,
  physical_address text,
  client_version text,
  seen_by text,
  PRIMARY KEY (network_id, member_id)
);
CREATE INDEX zt_member_authorized ON zt_member (network_id, authorized);
CREATE INDEX zt_member_last_seen ON zt_member (network_id, last_seen);

-- One row per assigned IP: the primary key makes an IP belong to one member of a network.
CREATE TABLE zt_member_ip (
  network_id text NOT NULL,
  ip text NOT NULL,
  member_id text NOT NULL,
  PRIMARY KEY (network_id, ip),
  FOREIGN KEY (network_id, member_id) REFERENCES zt_member (network_id, member_id)
    ON DELETE CASCADE
);
CREATE INDEX zt_member_ip_member ON zt_member_ip (network_id, member_id);

-- Change feed for other instances: "<table>|<op>|<network>|<member>|<revision>|<origin>".
CREATE FUNCTION zt_notify_network() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r zt_network;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  PERFORM pg_notify('zt_controller', concat_ws('|', 'n', TG_OP, r.network_id, '', r.revision,
    coalesce(current_setting('zt.origin', true), '')));
  RETURN NULL;
END $$;

CREATE FUNCTION zt_notify_member() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r zt_member;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  PERFORM pg_notify('zt_controller', concat_ws('|', 'm', TG_OP, r.network_id, r.member_id,
    r.revision, coalesce(current_setting('zt.origin', true), '')));
  RETURN NULL;
END $$;

CREATE TRIGGER zt_network_notify AFTER INSERT OR DELETE ON zt_network
  FOR EACH ROW EXECUTE FUNCTION zt_notify_network();
CREATE TRIGGER zt_network_notify_update AFTER UPDATE ON zt_network
  FOR EACH ROW WHEN (OLD.revision IS DISTINCT FROM NEW.revision OR OLD.doc IS DISTINCT FROM NEW.doc)
  EXECUTE FUNCTION zt_notify_network();
CREATE TRIGGER zt_member_notify AFTER INSERT OR DELETE ON zt_member
  FOR EACH ROW EXECUTE FUNCTION zt_notify_member();
CREATE TRIGGER zt_member_notify_update AFTER UPDATE ON zt_member
  FOR EACH ROW WHEN (OLD.revision IS DISTINCT FROM NEW.revision OR OLD.doc IS DISTINCT FROM NEW.doc)
  EXECUTE FUNCTION zt_notify_member();
`;
