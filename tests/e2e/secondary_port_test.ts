// netns e2e: the secondary UDP port is bound and answers: a leaf whose planet lists the root only at its secondary port comes online; /status reports the ports.
import assert from "node:assert/strict";
import { announceSkip, exec, withLab } from "./netns.ts";
import {
  explainFailure,
  generateIdentities,
  makeLabPlanet,
  pathAddress,
  ROOT_IP,
  startNode,
  ZT_PORT,
  type ZtNode,
} from "./zt_lab.ts";

const SKIP = announceSkip("secondary_port_test.ts");

/** The root's fixed secondary port. */
const ROOT_SECONDARY = 29993;

/** UDP ports bound in `node`'s namespace (`ss -Huln`). */
async function udpPorts(node: ZtNode): Promise<number[]> {
  const r = await exec(node.ns, ["ss", "-Huln"]);
  return r.stdout.split("\n").map((l) => /:(\d+)\s/.exec(l)?.[1]).filter((p) => p !== undefined)
    .map(Number);
}

Deno.test({
  name: "e2e secondary port: bound, reported in /status, and answering a leaf that knows only it",
  ignore: SKIP !== undefined,
  fn: async () => {
    await withLab(async (lab) => {
      const dir = lab.path("ids");
      Deno.mkdirSync(dir);
      const [rid, aid] = await generateIdentities(dir, 2);
      const planet = await makeLabPlanet(dir, rid, pathAddress(ROOT_IP, ROOT_SECONDARY));
      const r = await lab.addHost("r", ROOT_IP);
      const h = await lab.addHost("a", "198.18.0.11");
      const root = startNode(lab, {
        name: "root",
        ns: r.ns,
        id: rid,
        planet,
        settings: { allowSecondaryPort: true, secondaryPort: ROOT_SECONDARY },
      });
      const a = startNode(lab, {
        name: "a",
        ns: h.ns,
        id: aid,
        planet,
        settings: { allowSecondaryPort: true },
      });
      await explainFailure([root, a], async () => {
        const rs = await root.waitOnline(25_000);
        const settings = (rs.config as Record<string, Record<string, unknown>>).settings;
        assert.equal(settings.secondaryPort, ROOT_SECONDARY);
        assert.equal(settings.tertiaryPort, 0, "no tertiary port without port mapping");
        const listening = settings.listeningOn as string[];
        assert.ok(listening.includes(pathAddress(ROOT_IP, ZT_PORT)), listening.join(" "));
        assert.ok(listening.includes(pathAddress(ROOT_IP, ROOT_SECONDARY)), listening.join(" "));
        assert.ok((await udpPorts(root)).includes(ROOT_SECONDARY));

        // a knows the root only at its secondary port: online means that port answered
        const as = await a.waitOnline(25_000);
        const peer = await a.peer(root.address);
        assert.ok(
          peer?.paths.some((p) => p.address === pathAddress(ROOT_IP, ROOT_SECONDARY) && !p.expired),
          JSON.stringify(peer?.paths),
        );
        // a's own secondary port is random in the reference's range and bound
        const aSecondary = (as.config as Record<string, Record<string, unknown>>).settings
          .secondaryPort as number;
        assert.ok(aSecondary >= 20000 && aSecondary <= 65535, String(aSecondary));
        assert.ok((await udpPorts(a)).includes(aSecondary));
      });
    });
  },
});
