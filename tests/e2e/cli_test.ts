// netns e2e: every zerotier-cli command of `zt` against running zt nodes (text and -j forms vs the recorded formats, error cases, a real moon).
import assert from "node:assert/strict";
import { fixtureText } from "../fixtures.ts";
import { announceSkip, type ExecResult, waitFor, withLab } from "./netns.ts";
import { explainFailure, ztCli, type ZtNode } from "./zt_lab.ts";
import {
  authorize,
  CONTROLLER_IP,
  createNetwork,
  startVl2Lab,
  waitStatus,
  ztIn,
} from "./vl2_lab.ts";

const SKIP = announceSkip("cli_test.ts");

/** Lines of a CLI output (no trailing empty line). */
function lines(text: string): string[] {
  return text.replace(/\n$/, "").split("\n");
}

/** Recorded zerotier-cli output of lab host `h` (fixtures cli/<h>-<cmd>.txt). */
function recorded(h: string, cmd: string): string[] {
  return lines(fixtureText(`cli/${h}-${cmd}.txt`));
}

/** Row shapes of the text outputs (checked against the recordings too, so they are not vacuous). */
const ROW = {
  info: /^200 info [0-9a-f]{10} \d+\.\d+\.\d+ (ONLINE|OFFLINE|TUNNELED)$/,
  listpeers:
    /^200 listpeers [0-9a-f]{10} (\S+\/\d+;-?\d+;-?\d+|-) -?\d+ (\d+\.\d+\.\d+|-) (LEAF|MOON|PLANET)$/,
  peers:
    /^[0-9a-f]{10} (\d+\.\d+\.\d+|-) +(LEAF|MOON|PLANET) +-?\d+ (DIRECT +-?\d+ +-?\d+ +\S+\/\d+|RELAY)$/,
  listnetworks:
    /^200 listnetworks [0-9a-f]{16} \S* ([0-9a-f]{2}:){5}[0-9a-f]{2} (REQUESTING_CONFIGURATION|OK|ACCESS_DENIED|NOT_FOUND|PORT_ERROR|CLIENT_TOO_OLD|AUTHENTICATION_REQUIRED) (PRIVATE|PUBLIC) \S* \S+$/,
};

/** Checks a text output: the header lines equal the recording's, every row matches `row`. */
function checkTable(out: string[], rec: string[], headerLines: number, row: RegExp): string[] {
  assert.deepEqual(out.slice(0, headerLines), rec.slice(0, headerLines), "header lines");
  for (const r of rec.slice(headerLines)) assert.match(r, row, "the shape fits the recording");
  const rows = out.slice(headerLines);
  for (const r of rows) assert.match(r, row);
  return rows;
}

/** Asserts `obj` has every key of `ref` (extra keys allowed). */
function hasKeys(obj: unknown, ref: unknown, what: string): void {
  assert.ok(typeof obj === "object" && obj !== null, `${what}: not an object`);
  const missing = Object.keys(ref as object).filter((k) => !(k in (obj as object)));
  assert.deepEqual(missing, [], `${what}: keys missing`);
}

/** Runs `zt` in `node`'s namespace; asserts the exit status; returns the result. */
async function zt(node: ZtNode, args: string[], code = 0): Promise<ExecResult> {
  const r = await ztIn(node, args);
  assert.equal(r.code, code, `zt ${args.join(" ")} → ${r.code}\n${r.stdout}${r.stderr}`);
  return r;
}

/** `zt -j ...` output parsed. */
async function ztJson(node: ZtNode, args: string[]): Promise<unknown> {
  const r = await zt(node, [...args, "-j"]);
  return JSON.parse(r.stdout);
}

Deno.test({
  name:
    "e2e cli: info, listpeers, peers, listnetworks, join (wait/--no-wait), leave, set, get, listmoons, orbit, deorbit, raw path, errors",
  ignore: SKIP !== undefined,
  fn: async () => {
    const started = Date.now();
    await withLab(async (lab) => {
      const v = await startVl2Lab(lab, ["a"]);
      const { ctl } = v;
      const a = v.members.a;
      await explainFailure(v.all, async () => {
        const statusRec = JSON.parse(fixtureText("api/a-status.json"));
        const peerRec = JSON.parse(fixtureText("api/a-peer.json"))[0];
        const netRec = JSON.parse(fixtureText("api/a-network.json"))[0];

        // info / status (text and -j)
        const info = lines((await zt(a, ["info"])).stdout);
        assert.equal(info.length, 1);
        assert.match(recorded("a", "info")[0], ROW.info);
        assert.match(info[0], ROW.info);
        assert.equal(info[0], `200 info ${a.address} 1.14.1 ONLINE`);
        assert.deepEqual(lines((await zt(a, ["status"])).stdout), info);
        const infoJ = await ztJson(a, ["info"]) as Record<string, Record<string, unknown>>;
        const infoRec = JSON.parse(fixtureText("cli/a-info.json"));
        hasKeys(infoJ, infoRec, "info -j");
        hasKeys(infoJ.config.settings, infoRec.config.settings, "info -j config.settings");
        hasKeys(infoJ, statusRec, "info -j vs /status");
        assert.equal(infoJ.address, a.address as unknown);

        // listnetworks before joining: only the header
        assert.deepEqual(
          lines((await zt(a, ["listnetworks"])).stdout),
          recorded("r", "listnetworks"),
        );
        assert.deepEqual(await ztJson(a, ["listnetworks"]), []);

        // join with wait: authorized beforehand through the controller API → OK
        const n1 = await createNetwork(ctl);
        await authorize(ctl, n1, a, true);
        const t0 = Date.now();
        const j1 = lines((await zt(a, ["join", n1])).stdout);
        assert.deepEqual(j1, ["200 join OK", `200 join ${n1} OK`]);
        console.log(`cli: zt join (pre-authorized) → OK in ${Date.now() - t0} ms`);
        const ok1 = await waitStatus(a, n1, "OK", 10_000, (n) => n.portDeviceName !== "");

        // join --no-wait of a network a is not authorized on; then a waiting join ends ACCESS_DENIED
        const n2 = await createNetwork(ctl);
        assert.deepEqual(lines((await zt(a, ["join", "--no-wait", n2])).stdout), ["200 join OK"]);
        const j2 = await zt(a, ["join", n2, "--timeout", "20"], 2); // exit 2: ACCESS_DENIED
        assert.deepEqual(lines(j2.stdout), ["200 join OK", `200 join ${n2} ACCESS_DENIED`]);
        // -j --no-wait answers the network object
        hasKeys(await ztJson(a, ["join", "--no-wait", n2]), netRec, "join -j");

        // listnetworks: header + one row per network, -j keys like the recording
        const ln = checkTable(
          lines((await zt(a, ["listnetworks"])).stdout),
          recorded("a", "listnetworks"),
          1,
          ROW.listnetworks,
        );
        assert.equal(ln.length, 2);
        const row1 = ln.find((l) => l.includes(n1))!;
        assert.ok(row1.includes(` e2e-net ${ok1.mac} OK PRIVATE ${ok1.portDeviceName} `), row1);
        assert.ok(row1.endsWith(` ${(ok1.assignedAddresses as string[]).join(",")}`), row1);
        assert.ok(ln.find((l) => l.includes(n2))!.endsWith(" ACCESS_DENIED PRIVATE  -"));
        const lnJ = await ztJson(a, ["listnetworks"]) as unknown[];
        assert.equal(lnJ.length, 2);
        for (const n of lnJ) hasKeys(n, netRec, "listnetworks -j");

        // get: properties and the ip forms
        assert.equal((await zt(a, ["get", n1, "name"])).stdout, "e2e-net\n");
        assert.equal((await zt(a, ["get", n1, "status"])).stdout, "OK\n");
        const ip4 = lines((await zt(a, ["get", n1, "ip4"])).stdout);
        assert.equal(ip4.length, 1);
        assert.match(ip4[0], /^198\.19\.0\.\d+$/);
        const ip6 = lines((await zt(a, ["get", n1, "ip6"])).stdout).sort();
        assert.equal(ip6.length, 2);
        assert.match(ip6[0], /^fc[0-9a-f:]+$/);
        assert.match(ip6[1], /^fd[0-9a-f:]+$/);
        const ip = lines((await zt(a, ["get", n1, "ip"])).stdout).sort();
        assert.deepEqual(ip, [...ip4, ...ip6].sort());
        assert.deepEqual(lines((await zt(a, ["get", n1, "ip6plane"])).stdout), [ip6[0]]);
        const noProp = await zt(a, ["get", n1, "noSuchProperty"], 1);
        assert.equal(noProp.stdout, "");

        // set: prints the network JSON; the change sticks
        const set0 = JSON.parse((await zt(a, ["set", n1, "allowManaged=0"])).stdout);
        hasKeys(set0, netRec, "set");
        assert.equal(set0.allowManaged, false);
        assert.equal((await zt(a, ["get", n1, "allowManaged"])).stdout, "false\n");
        const setDns = JSON.parse((await zt(a, ["set", n1, "allowDNS=true"])).stdout);
        assert.equal(setDns.allowDNS, true);
        assert.equal(
          JSON.parse((await zt(a, ["set", n1, "allowManaged=1"])).stdout).allowManaged,
          true,
        );
        await zt(a, ["set", n1, "allowEverything=1"], 1);

        // leave (text and -j)
        assert.deepEqual(lines((await zt(a, ["leave", n2])).stdout), ["200 leave OK"]);
        assert.deepEqual(await ztJson(a, ["leave", n1]), { result: true });
        assert.deepEqual(await ztJson(a, ["listnetworks"]), []);

        // listpeers / peers (text and -j): root PLANET and the controller LEAF, direct
        const lp = checkTable(
          lines((await zt(a, ["listpeers"])).stdout),
          recorded("a", "listpeers"),
          1,
          ROW.listpeers,
        );
        assert.ok(lp.some((l) => l.startsWith(`200 listpeers ${v.root.address} 198.18.0.1/9993;`)));
        assert.ok(
          lp.some((l) => l.startsWith(`200 listpeers ${ctl.address} ${CONTROLLER_IP}/9993;`)),
        );
        assert.ok(lp.find((l) => l.includes(v.root.address))!.endsWith(" 1.14.1 PLANET"));
        const pe = checkTable(
          lines((await zt(a, ["peers"])).stdout),
          recorded("a", "peers"),
          2,
          ROW.peers,
        );
        assert.equal(pe.length, lp.length);
        for (const cmd of ["listpeers", "peers"]) {
          const pj = await ztJson(a, [cmd]) as unknown[];
          assert.equal(pj.length, lp.length);
          for (const p of pj) hasKeys(p, peerRec, `${cmd} -j`);
        }

        // raw GET
        const raw = JSON.parse((await zt(a, ["/status"])).stdout);
        assert.equal(raw.address, a.address);
        hasKeys(raw, statusRec, "raw /status");
        const raw404 = await zt(a, ["/nothing/here"], 1);
        assert.deepEqual(lines(raw404.stdout), ["404 /nothing/here {}"]);

        // moons: ctl becomes the root of a moon (restart with moons.d/<id>.moon), a orbits it
        const dir = lab.path("moon");
        Deno.mkdirSync(dir);
        Deno.writeTextFileSync(`${dir}/ctl.public`, ctl.id.public);
        const tpl = JSON.parse(await ztCli(["idtool", "initmoon", "ctl.public"], dir));
        tpl.roots[0].stableEndpoints = [`${CONTROLLER_IP}/9993`];
        Deno.writeTextFileSync(`${dir}/moon.json`, JSON.stringify(tpl));
        await ztCli(["idtool", "genmoon", "moon.json"], dir);
        const moonId16 = ctl.address.padStart(16, "0");
        Deno.mkdirSync(`${ctl.home}/moons.d`, { recursive: true });
        Deno.copyFileSync(`${dir}/${moonId16}.moon`, `${ctl.home}/moons.d/${moonId16}.moon`);
        await ctl.stop();
        ctl.restart();
        await ctl.waitOnline(25_000);

        assert.deepEqual(await ztJson(a, ["listmoons"]), []);
        assert.equal((await zt(a, ["listmoons"])).stdout, "[]\n");
        assert.deepEqual(lines((await zt(a, ["orbit", ctl.address, ctl.address])).stdout), [
          "200 orbit OK",
        ]);
        const moons = await waitFor("a has the moon", 20_000, async () => {
          const l = await ztJson(a, ["listmoons"]) as Array<Record<string, unknown>>;
          return l.length > 0 ? l : undefined;
        });
        assert.equal(moons.length, 1);
        assert.equal(moons[0].id, moonId16);
        hasKeys(moons[0], {
          id: 0,
          timestamp: 0,
          signature: 0,
          updatesMustBeSignedBy: 0,
          roots: 0,
          waiting: 0,
        }, "listmoons");
        const roots = moons[0].roots as Array<Record<string, unknown>>;
        assert.equal(roots[0].identity, ctl.id.public);
        assert.deepEqual(roots[0].stableEndpoints, [`${CONTROLLER_IP}/9993`]);
        // the moon root is listed with role MOON
        await waitFor("ctl listed as MOON", 10_000, async () => {
          const out = lines((await zt(a, ["listpeers"])).stdout);
          return out.some((l) =>
            l.startsWith(`200 listpeers ${ctl.address} `) && l.endsWith(" MOON")
          );
        });
        // orbiting again answers the moon itself (-j)
        const again = await ztJson(a, ["orbit", ctl.address, ctl.address]) as Record<
          string,
          unknown
        >;
        assert.equal(again.id, moonId16);
        assert.deepEqual(lines((await zt(a, ["deorbit", ctl.address])).stdout), ["200 deorbit OK"]);
        assert.deepEqual(await ztJson(a, ["listmoons"]), []);
        // orbit -j of a moon not known yet: the "waiting" object
        const waiting = await ztJson(a, ["orbit", "abcdef0123", ctl.address]);
        assert.deepEqual(waiting, {
          id: "000000abcdef0123",
          roots: [],
          signature: null,
          timestamp: 0,
          updatesMustBeSignedBy: null,
          waiting: true,
        });
        assert.deepEqual(await ztJson(a, ["deorbit", "abcdef0123"]), { result: true });

        // errors: bad network id, wrong token, service not running — one line, exit 1
        const badId = await zt(a, ["join", "12345"], 1);
        assert.equal(badId.stdout, "");
        assert.equal(lines(badId.stderr).length, 1);
        assert.match(badId.stderr, /invalid network id "12345"/);
        await zt(a, ["leave", "zz00000000000000"], 1);
        const wrong = await zt(a, ["info", "-T", "wrong-token"], 1);
        assert.deepEqual(lines(wrong.stdout), ["401 info {}"]);
        const wrongJ = await zt(a, ["listnetworks", "-T", "wrong-token"], 1);
        assert.deepEqual(lines(wrongJ.stdout), ["401 listnetworks {}"]);
        await a.stop();
        const down = await zt(a, ["info"], 1);
        assert.equal(down.stdout, "");
        assert.deepEqual(lines(down.stderr), [
          "zt: the zt service is not running (could not connect to 127.0.0.1:9993)",
        ]);
        await zt(a, ["listpeers", "-j"], 1);
      });
    });
    console.log(`cli e2e test took ${Date.now() - started} ms`);
  },
});
