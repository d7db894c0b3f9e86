// Tests for the logger (levels, filtering) and the -d argument rewriting.
import assert from "node:assert/strict";
import { Logger, parseLogLevel, resolveLogLevel } from "../../src/service/logger.ts";
import { withoutDaemonFlag } from "../../src/service/daemonize.ts";

Deno.test("logger: level parsing and filtering", () => {
  assert.equal(parseLogLevel("DEBUG"), "debug");
  assert.equal(parseLogLevel("verbose"), undefined);
  assert.equal(resolveLogLevel(undefined, "warn"), "warn");
  assert.equal(resolveLogLevel(undefined, "junk"), "info");
  assert.equal(resolveLogLevel("error", "debug"), "error");
  assert.equal(resolveLogLevel("bad", "debug"), undefined);
  const lines: string[] = [];
  const log = new Logger("warn", (_l, s) => lines.push(s));
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  assert.deepEqual(lines, ["warn: w", "error: e"]);
  log.level = "debug";
  log.debug("d");
  log.info("i");
  assert.deepEqual(lines.slice(2), ["debug: d", "i"]);
});

Deno.test("daemonize: -d is removed from the re-spawned arguments", () => {
  assert.deepEqual(withoutDaemonFlag(["run", "-d", "/h", "-p9993"]), ["run", "/h", "-p9993"]);
  assert.deepEqual(withoutDaemonFlag(["run", "-dU", "/h"]), ["run", "-U", "/h"]);
  assert.deepEqual(withoutDaemonFlag(["run", "--daemon"]), ["run"]);
  assert.deepEqual(withoutDaemonFlag(["run", "/home/dd"]), ["run", "/home/dd"]);
});
