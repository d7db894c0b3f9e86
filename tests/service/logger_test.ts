// Tests for the logger (levels, filtering) and the -d argument rewriting.
import assert from "node:assert/strict";
import { Logger, parseLogLevel, resolveLogLevel } from "../../src/service/logger.ts";
import {
  DEFAULT_RUNTIME_FLAGS,
  runtimePrefix,
  selfCommand,
  withoutDaemonFlag,
} from "../../src/service/daemonize.ts";

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

Deno.test("daemonize: arguments after -- are kept as given", () => {
  assert.deepEqual(withoutDaemonFlag(["run", "-d", "--", "-d"]), ["run", "--", "-d"]);
});

Deno.test("daemonize: the child gets this process's runtime flags, whatever they are", () => {
  const user = ["run", "-d", "--log-level", "debug", "/h"];
  const cmdline = [
    "/usr/bin/deno",
    "run",
    "--allow-all",
    "--v8-flags=--max-semi-space-size=64",
    "--config",
    "/x/deno.json",
    "/x/cli.ts",
    ...user,
  ];
  assert.deepEqual(runtimePrefix(user, cmdline, true), cmdline.slice(1, 7));
  const c = selfCommand(withoutDaemonFlag(user), runtimePrefix(user, cmdline, true));
  assert.deepEqual(c.args, [...cmdline.slice(1, 7), "run", "--log-level", "debug", "/h"]);
  // Compiled binary: the flags are built in, nothing precedes the user arguments.
  assert.deepEqual(runtimePrefix(user, ["/usr/bin/zt", ...user], false), []);
  // A command line that does not end with the user arguments: zt's own defaults.
  const dflt = runtimePrefix(user, ["/usr/bin/deno", "something", "else"], true);
  assert.deepEqual(dflt, ["run", ...DEFAULT_RUNTIME_FLAGS, Deno.mainModule]);
  assert.deepEqual(runtimePrefix(user, undefined, true), dflt);
});

Deno.test("daemonize: this very process's command line is recognized", () => {
  // deno test runs this file with its own flags: the prefix is what precedes Deno.args.
  const raw = Deno.readTextFileSync("/proc/self/cmdline").split("\0").filter((a) => a !== "");
  assert.deepEqual(runtimePrefix([]), raw.slice(1));
});
