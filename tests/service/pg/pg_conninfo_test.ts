// Tests parsing of PostgreSQL controllerDbPath forms and password redaction.
import assert from "node:assert/strict";
import { parsePgConnInfo, redactDbPath } from "../../../src/service/pg/pg_conninfo.ts";

Deno.test("pg conninfo: libpq keyword strings, unix sockets, quoting", () => {
  assert.deepEqual(parsePgConnInfo("postgres:host=/run/postgresql dbname=zt user=zt"), {
    port: 5432,
    path: "/run/postgresql/.s.PGSQL.5432",
    database: "zt",
    username: "zt",
  });
  assert.deepEqual(
    parsePgConnInfo(
      "postgres:host=db.example port=6432 user='a b' password='x\\'y' sslmode=require",
    ),
    { port: 6432, host: "db.example", username: "a b", password: "x'y", ssl: "require" },
  );
  assert.match(parsePgConnInfo("postgres:host=db bogus=1") as string, /unsupported keyword bogus/);
  assert.match(parsePgConnInfo("postgres:port=99999") as string, /port/);
  assert.match(parsePgConnInfo("postgres:host='x") as string, /unterminated/);
  assert.match(parsePgConnInfo("postgres:host") as string, /keyword=value/);
});

Deno.test("pg conninfo: postgres:// and postgresql:// URLs", () => {
  assert.deepEqual(parsePgConnInfo("postgresql://zt:p%40ss@db:5433/ztdb?sslmode=disable"), {
    port: 5433,
    host: "db",
    database: "ztdb",
    username: "zt",
    password: "p@ss",
    ssl: "disable",
  });
  assert.deepEqual(parsePgConnInfo("postgres:///zt?host=/tmp/s"), {
    port: 5432,
    path: "/tmp/s/.s.PGSQL.5432",
    database: "zt",
  });
  assert.match(parsePgConnInfo("postgres://h/db?nope=1") as string, /unsupported URL parameter/);
});

Deno.test("pg conninfo: passwords are redacted in every form", () => {
  assert.equal(
    redactDbPath("postgres:host=h password=secret user=u"),
    "postgres:host=h password=*** user=u",
  );
  assert.equal(redactDbPath("postgres:password='se cret' host=h"), "postgres:password=*** host=h");
  assert.equal(redactDbPath("postgres://u:secret@h/db"), "postgres://u:***@h/db");
  assert.equal(
    redactDbPath("postgresql://h/db?password=secret&x=1"),
    "postgresql://h/db?password=***&x=1",
  );
  assert.equal(redactDbPath("/var/lib/zt/controller.d"), "/var/lib/zt/controller.d");
  for (const s of ["postgres:password=secret", "postgres://u:secret@h/d"]) {
    assert.ok(!redactDbPath(s).includes("secret"));
  }
});
