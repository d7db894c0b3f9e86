// netns e2e: the node as a daemon: listeningOn skips our own interfaces, no start-up noise, local.conf re-read live, `zt run -d`.
import assert from "node:assert/strict";
import { announceSkip, waitFor, withLab } from "./netns.ts";
import { CLI, explainFailure, labWorld, prepareHome, ZT_V8_FLAGS, ZtNode } from "./zt_lab.ts";

const SKIP = announceSkip("daemon_test.ts");

/** The node's underlay address on the lab bridge. */
const A_IP = "198.18.0.3";
/** Extra interfaces in the node's namespace: name → address (all lab addresses). */
const EXTRA = {
  zt5test: "198.18.77.1", // named like our own TAPs: never listed
  tap7: "198.18.78.1", // another tunnel: never listed
  dum0: "198.18.79.1", // an ordinary (veth) interface, until local.conf blacklists its prefix
};

/**
 * local.conf with what every lab node must set (no port mapping, no TCP relay), and no secondary
 * port, so listeningOn holds the primary port's addresses only.
 */
const LAB_SETTINGS = {
  portMappingEnabled: false,
  allowTcpFallbackRelay: false,
  allowSecondaryPort: false,
};

Deno.test({
  name:
    "e2e daemon: listeningOn without zt*/tap* interfaces, no start-up warnings, local.conf applied live, run -d keeps flags and logs to zt.log",
  ignore: SKIP !== undefined,
  fn: async () => {
    const world = await labWorld();
    await withLab(async (lab) => {
      const a = await lab.addHost("a", A_IP);
      for (const [name, ip] of Object.entries(EXTRA)) {
        await lab.exec(
          a.ns,
          name === "dum0"
            ? ["ip", "link", "add", name, "type", "veth", "peer", "name", `${name}p`]
            : ["ip", "tuntap", "add", "dev", name, "mode", "tap"],
        );
        await lab.exec(a.ns, ["ip", "addr", "add", `${ip}/24`, "dev", name]);
        await lab.exec(a.ns, ["ip", "link", "set", name, "up"]);
      }
      const home = lab.path("a");
      const id = world.ids[1];
      const token = `tok-a-${id.address}`;
      prepareHome(home, id, world.planet, token);
      const writeConf = (v: unknown) =>
        Deno.writeTextFileSync(`${home}/local.conf`, JSON.stringify(v, null, 2));
      writeConf({ settings: LAB_SETTINGS });
      const node = new ZtNode(lab, { name: "a", ns: a.ns, home, id, token, runner: "zt-run" });
      const listening = async () =>
        ((await node.status()).config as { settings: { listeningOn: string[] } }).settings
          .listeningOn;
      await explainFailure([node], async () => {
        const first = await waitFor("the API", 15_000, () => listening());
        assert.deepEqual(first.sort(), [`${A_IP}/9993`, `${EXTRA.dum0}/9993`]);
        const log = Deno.readTextFileSync(node.logFile);
        assert.doesNotMatch(log, /^(warn|error): /m, "start-up warnings with a plain local.conf");
        assert.doesNotMatch(log, /allowSecondaryPort|portMappingEnabled/);

        // Live: a new interface prefix blacklist; restart-only: the port.
        writeConf({ settings: { ...LAB_SETTINGS, interfacePrefixBlacklist: ["dum"] } });
        await waitFor("dum0 to leave listeningOn", 10_000, async () => {
          const l = await listening();
          return l.length === 1 && l[0] === `${A_IP}/9993`;
        });
        writeConf({
          settings: { ...LAB_SETTINGS, interfacePrefixBlacklist: ["dum"], primaryPort: 9995 },
        });
        await waitFor(
          "the restart note",
          10_000,
          () =>
            /settings\.primaryPort changed; restart zt to apply/.test(
              Deno.readTextFileSync(node.logFile),
            ),
        );
        // A file that does not parse: logged, the node keeps running with what it had.
        Deno.writeTextFileSync(`${home}/local.conf`, '{"settings": {"primaryPort": 9993,,}}');
        await waitFor(
          "the parse error",
          10_000,
          () =>
            /error: .*local\.conf: invalid JSON at line 1, .*keeping the previous settings/.test(
              Deno.readTextFileSync(node.logFile),
            ),
        );
        const s = await node.status();
        const settings = (s.config as { settings: Record<string, unknown> }).settings;
        assert.deepEqual(settings.interfacePrefixBlacklist, ["dum"]);
        assert.equal(settings.primaryPort, 9993); // the port it is bound to
        assert.equal(node.proc.exitStatus, undefined);
      });
      await node.stop();

      // `zt run -d`: the child keeps the runtime flags and the arguments, and logs to zt.log.
      writeConf({ settings: LAB_SETTINGS });
      const bg = await lab.exec(a.ns, [
        Deno.execPath(),
        "run",
        "--allow-all",
        ZT_V8_FLAGS,
        CLI,
        "run",
        "-d",
        "--log-level",
        "debug",
        "-p",
        "9993",
        home,
      ], { timeoutMs: 30_000, env: { NO_COLOR: "1", ZT_LOG: "error" } });
      const pid = Number(bg.stdout.trim());
      assert.ok(Number.isInteger(pid) && pid > 0, bg.stdout + bg.stderr);
      try {
        assert.match(
          bg.stderr,
          new RegExp(`running in the background \\(pid ${pid}\\), logging to ${home}/zt\\.log`),
        );
        const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").filter((x) => x);
        assert.deepEqual(argv.slice(1), [
          "run",
          "--allow-all",
          ZT_V8_FLAGS,
          CLI,
          "run",
          "--log-level",
          "debug",
          "-p",
          "9993",
          home,
        ]);
        const st = await waitFor("the background node's API", 10_000, () => node.status());
        assert.equal(st.address, id.address);
        const log = Deno.readTextFileSync(`${home}/zt.log`);
        assert.match(log, /^\S+Z zt: node [0-9a-f]{10} started \(home /m);
        assert.match(log, /^\S+Z debug: /m); // --log-level debug reached the child (ZT_LOG=error did not win)
      } finally {
        try {
          Deno.kill(pid, "SIGTERM");
        } catch {
          // already gone
        }
        await waitFor("the background node to stop", 10_000, () => {
          try {
            return /^\d+ \(.*\) Z /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
          } catch {
            return true;
          }
        });
      }
      assert.match(Deno.readTextFileSync(`${home}/zt.log`), /zt: node [0-9a-f]{10} stopped/);
    });
  },
});
