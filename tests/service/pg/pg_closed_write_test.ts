// postgres.js writing to a connection the server already dropped must not end the process
// (seen in pg_crash_test: a TypeError thrown from its setImmediate'd nextWrite).
import assert from "node:assert/strict";
import {
  containClosedSocketWrites,
  isClosedSocketWrite,
} from "../../../src/service/pg/pg_store.ts";

/** The error as postgres.js 3.4.9 threw it when PostgreSQL was killed mid-write. */
function closedWrite(path = "registry.npmjs.org/postgres/3.4.9/src/connection.js"): TypeError {
  const e = new TypeError("Cannot read properties of null (reading 'write')");
  e.stack =
    `TypeError: ${e.message}\n    at Immediate.nextWrite (file:///root/.cache/deno/npm/${path}:255:22)\n` +
    "    at Immediate.callback (ext:deno_node/internal/timers.mjs:4:3069)";
  return e;
}

Deno.test("pg store: a write to a closed postgres.js connection is recognised, nothing else", () => {
  assert.equal(isClosedSocketWrite(closedWrite()), true);
  assert.equal(
    isClosedSocketWrite(closedWrite("registry.npmjs.org/other/1.0.0/src/connection.js")),
    false,
  );
  assert.equal(
    isClosedSocketWrite(closedWrite("registry.npmjs.org/postgres/3.4.9/src/query.js")),
    false,
  );
  const other = new TypeError("Cannot read properties of null (reading 'end')");
  other.stack = closedWrite().stack!.replace("'write'", "'end'");
  assert.equal(isClosedSocketWrite(other), false);
  assert.equal(isClosedSocketWrite(new Error("x")), false);
  assert.equal(isClosedSocketWrite("Cannot read properties of null (reading 'write')"), false);
  assert.equal(isClosedSocketWrite(undefined), false);
});

Deno.test("pg store: such a write, thrown where nothing can catch it, is contained with a warning", async () => {
  const warned: string[] = [];
  containClosedSocketWrites((_level, m) => warned.push(m));
  containClosedSocketWrites((_level, m) => warned.push(m)); // once per process: one listener
  setTimeout(() => {
    throw closedWrite();
  }, 0);
  const end = Date.now() + 5000;
  while (warned.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(warned, ["controller database: a write hit a connection already closed"]);
});
