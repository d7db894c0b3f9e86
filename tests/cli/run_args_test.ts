// `zt run` arguments read without commander (src/cli/run_args.ts) agree with the command tree.
import assert from "node:assert/strict";
import { Command } from "commander";
import { parseRunArgs } from "../../src/cli/run_args.ts";
import { registerRun, type RunOptions } from "../../src/cli/run.ts";
import { registerZerotierCli } from "../../src/cli/zerotier_cli.ts";

/** What commander hands `zt run`'s action for `args` (undefined if it refuses them). */
async function viaCommander(
  args: string[],
): Promise<{ home: string | undefined; options: RunOptions } | undefined> {
  let got: { home: string | undefined; options: RunOptions } | undefined;
  const program = new Command("zt").exitOverride().configureOutput({
    writeOut: () => {},
    writeErr: () => {},
  });
  registerRun(program, (home, options) => {
    got = { home, options };
    return Promise.resolve();
  });
  registerZerotierCli(program);
  for (const c of program.commands) c.exitOverride();
  try {
    await program.parseAsync(args, { from: "user" });
  } catch {
    return undefined;
  }
  return got;
}

/** Options without the keys commander leaves undefined. */
function defined(o: RunOptions): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

Deno.test("parseRunArgs: the plain forms give what commander gives", async () => {
  const plain: string[][] = [
    ["run"],
    ["run", "/var/lib/zt"],
    ["run", "/tmp/h", "-p9993"],
    ["run", "/tmp/h", "-p", "9993"],
    ["run", "-D", "/tmp/h", "--port", "0"],
    ["run", "-D/tmp/h", "--port=20001", "-U"],
    ["run", "--home=/tmp/h", "-d", "--log-file", "/tmp/zt.log", "--log-level", "debug"],
    ["run", "-U", "--userspace", "--proxy", "127.0.0.1:1081", "/tmp/h"],
    ["run", "--userspace", "--forward", "tcp:8080=10.0.0.1:80", "--forward=tcp:8081=10.0.0.2:80"],
    ["run", "--userspace", "--expose", "tcp:80=127.0.0.1:8080", "--proxy=off"],
    ["run", "--planet-fallback", "/tmp/h", "--daemon"],
  ];
  for (const args of plain) {
    const fast = parseRunArgs(args);
    assert.ok(fast, `fast path for ${args.join(" ")}`);
    const slow = await viaCommander(args);
    assert.ok(slow, `commander accepts ${args.join(" ")}`);
    assert.equal(fast.home, slow.home, args.join(" "));
    assert.deepEqual(defined(fast.options), defined(slow.options), args.join(" "));
  }
});

Deno.test("parseRunArgs: anything else is left to commander", () => {
  const other: string[][] = [
    [],
    ["info"],
    ["-D", "/tmp/h", "run"],
    ["run", "--help"],
    ["run", "-h"],
    ["run", "-Ud"],
    ["run", "-x"],
    ["run", "--nosuch"],
    ["run", "--daemon=yes"],
    ["run", "-p"],
    ["run", "--port"],
    ["run", "-p", "-U"],
    ["run", "--port=", "/tmp/h"],
    ["run", "-p1", "-p2"],
    ["run", "/a", "/b"],
    ["run", "--", "/tmp/h"],
    ["run", "-"],
  ];
  for (const args of other) assert.equal(parseRunArgs(args), undefined, args.join(" "));
});
