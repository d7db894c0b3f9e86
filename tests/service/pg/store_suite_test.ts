// One controller scenario run on every store (memory, file, PostgreSQL): same API answers, same signed configs.
import assert from "node:assert/strict";
import { controllerApi } from "../../../src/service/controller_api.ts";
import { FileStore } from "../../../src/service/controller_file_store.ts";
import { MemoryStore } from "../../../src/controller/memory_store.ts";
import { ControllerResponder, type ResponderNode } from "../../../src/controller/responder.ts";
import type { ControllerStore } from "../../../src/controller/store.ts";
import { parsePgConnInfo, type PgConnInfo } from "../../../src/service/pg/pg_conninfo.ts";
import { PgStore } from "../../../src/service/pg/pg_store.ts";
import { transfer } from "../../../src/cli/controller_transfer.ts";
import { toHex } from "../../../src/util/hex.ts";
import type { Identity } from "../../../src/vl1/identity.ts";
import { InetAddress } from "../../../src/vl1/inet_address.ts";
import { encodeNetworkConfigRequest } from "../../../src/vl1/verbs/network_config.ts";
import {
  defaultConfigRequestMetadata,
  encodeConfigRequestMetadata,
} from "../../../src/vl2/config_request_metadata.ts";
import { FIXTURES } from "../../fixtures.ts";
import { PgCluster, postgresAvailable } from "../../helpers/pg_cluster.ts";
import { copyTree, labController, labIdentity, seededRandom } from "../../controller/helpers.ts";

const LAB = "5b1c20a311fca1ca";
const NEW = "5b1c20a311000042";
const A = labIdentity("a");
const B = labIdentity("b");
const C = labIdentity("c");
const REMOTE = InetAddress.parse("198.18.0.3/9993")!;

/** Fixture records as a memory store. */
function memoryStore(): MemoryStore {
  const f = new FileStore(copyFixture());
  const nets = f.listNetworkIds().map((id) => f.getNetwork(id)!);
  const mems = f.listNetworkIds().flatMap((id) => f.listMembers(id));
  return new MemoryStore(nets, mems);
}

/** Temp dirs of {@link copyFixture}, removed when the suite ends. */
const tempDirs: string[] = [];

function copyFixture(): string {
  const dir = Deno.makeTempDirSync({ prefix: "zt-suite-" });
  tempDirs.push(dir);
  copyTree(`${FIXTURES}controller/controller.d`, `${dir}/controller.d`);
  return `${dir}/controller.d`;
}

/** Records every packet the responder sends, as `dest verb hex`. */
function recorder(sent: string[]): ResponderNode {
  const known = new Map<number, Identity>([A, B, C].map((i) => [i.address.value, i]));
  return {
    address: C.address,
    sendPacket(_now, dest, verb, payload) {
      sent.push(`${dest} ${verb} ${toHex(payload)}`);
      return 1n;
    },
    peerIdentity: (a) => known.get(a.value),
  };
}

/** The scenario: API reads and writes and config requests; returns the transcript. */
async function scenario(store: ControllerStore): Promise<string[]> {
  const { ctl, clock } = labController(store);
  const app = controllerApi(ctl);
  const out: string[] = [];
  const sent: string[] = [];
  const responder = new ControllerResponder({
    node: recorder(sent),
    controller: ctl,
    random: seededRandom(9),
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await app.request(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    out.push(`${method} ${path} → ${r.status} ${await r.text()}`);
  };
  let pid = 100n;
  const ask = (who: Identity, nwid: string) => {
    clock.t += 1500;
    const payload = encodeNetworkConfigRequest({
      networkId: BigInt("0x" + nwid),
      metadata: encodeConfigRequestMetadata(defaultConfigRequestMetadata()),
    });
    sent.length = 0;
    responder.handle(clock.t, who.address, 0x0b, payload, {
      hops: 0,
      packetId: pid++,
      remote: REMOTE,
      localSocket: 0,
    });
    out.push(`ask ${who.address} ${nwid} → ${sent.join(" | ")}`);
  };

  await api("GET", "/controller/network");
  await api("GET", `/controller/network/${LAB}`);
  await api("GET", `/controller/network/${LAB}/member`);
  await api("POST", `/controller/network/${NEW}`, {
    name: "suite",
    private: false,
    v4AssignMode: { zt: true },
    v6AssignMode: { rfc4193: true, zt: false },
    ipAssignmentPools: [{ ipRangeStart: "10.9.0.1", ipRangeEnd: "10.9.0.254" }],
    routes: [{ target: "10.9.0.0/24" }],
  });
  ask(A, NEW);
  ask(B, NEW);
  ask(A, NEW);
  await api("GET", `/controller/network/${NEW}/member/${A.address}`);
  await api("POST", `/controller/network/${LAB}/member/${A.address}`, {
    name: "laptop",
    ipAssignments: ["10.147.17.77"],
  });
  ask(A, LAB);
  await api("POST", `/controller/network/${LAB}/member/${B.address}`, { authorized: false });
  ask(B, LAB);
  await api("POST", `/controller/network/${LAB}`, { name: 5 });
  await api("POST", `/controller/network/${LAB}`, { mtu: 2800, multicastLimit: 16 });
  ask(A, LAB);
  await api("DELETE", `/controller/network/${NEW}/member/${B.address}`);
  await api("GET", `/unstable/controller/network/${NEW}/member`);
  await api("DELETE", `/controller/network/${NEW}`);
  await api("GET", "/unstable/controller/network");
  responder.dispose();
  return out;
}

/** The API reads of a reopened store (durability). */
async function reads(store: ControllerStore): Promise<string[]> {
  const { ctl } = labController(store);
  const app = controllerApi(ctl);
  const out: string[] = [];
  for (
    const p of [
      "/controller/network",
      `/controller/network/${LAB}`,
      `/unstable/controller/network/${LAB}/member`,
    ]
  ) {
    const r = await app.request(p);
    out.push(`${p} ${r.status} ${await r.text()}`);
  }
  return out;
}

function pgConn(url: string): PgConnInfo {
  return parsePgConnInfo(url) as PgConnInfo;
}

Deno.test({
  name: "store suite: memory, file and PostgreSQL stores give the same answers and configs",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    try {
      const mem = await scenario(memoryStore());
      // OK (verb 3) with signed config chunks, and ERROR (verb 2) for the deauthorized member
      assert.ok(mem.some((l) => l.startsWith("ask") && l.includes(" 3 0b")), "no config was sent");
      assert.ok(mem.some((l) => l.startsWith("ask") && l.includes(" 2 0b")), "no error was sent");
      const dir = copyFixture();
      const file = await scenario(new FileStore(dir));
      assert.deepEqual(file, mem);
      const fileReads = await reads(new FileStore(dir));
      if (!postgresAvailable()) return;
      const pg = await PgCluster.start();
      try {
        await t.step("PostgreSQL", async () => {
          const url = await pg.createDb("suite");
          await transfer(`${FIXTURES}controller/controller.d`, url);
          const s = await PgStore.open({ conn: pgConn(url), instance: "suite" });
          const got = await scenario(s);
          await s.close();
          assert.deepEqual(got, mem);
          const again = await PgStore.open({ conn: pgConn(url), instance: "suite2" });
          assert.deepEqual(await reads(again), fileReads);
          await again.close();
        });
      } finally {
        await pg.destroy();
      }
    } finally {
      for (const d of tempDirs.splice(0)) Deno.removeSync(d, { recursive: true });
    }
  },
});
