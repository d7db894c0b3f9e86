// Test helper: a real zt service on 127.0.0.1 (random high port) with a test planet and moon whose only root is 198.18.255.1/9993.
import { fixtureText } from "../fixtures.ts";
import { c25519Generate } from "../../src/crypto/c25519.ts";
import { Logger } from "../../src/service/logger.ts";
import { createNode } from "../../src/service/node_factory.ts";
import { Service, type ServiceOptions, systemRandom } from "../../src/service/service.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { serializeWorld, signWorld, WorldType } from "../../src/vl1/world.ts";

/** World id of the test planet (never the real one, 149604618). */
export const TEST_PLANET_ID = 0x7e57n;
/** The root's address (lab identity r), also the test moon's id and seed. */
export const ROOT_ADDRESS = "8fc24dde94";
/** The unreachable test endpoint of the only root. */
const ROOT_ENDPOINT = "198.18.255.1/9993";

/** A signed world (planet or moon) whose only root is lab identity r at 198.18.255.1/9993. */
export function testWorld(type: WorldType, id: bigint, timestamp = 1700000000000n): Uint8Array {
  const keys = c25519Generate(systemRandom);
  return serializeWorld(signWorld(
    {
      type,
      id,
      timestamp,
      updatesMustBeSignedBy: keys.publicKey,
      roots: [{
        identity: Identity.fromString(fixtureText("identities/r.public"))!,
        stableEndpoints: [InetAddress.parse(ROOT_ENDPOINT)!],
      }],
    },
    keys.privateKey,
    keys.publicKey,
  ));
}

/** A random high TCP port free at the time of asking. */
export function freePort(): number {
  for (let i = 0; i < 50; i++) {
    const port = 40000 + Math.floor(Math.random() * 20000);
    try {
      const l = Deno.listen({ hostname: "127.0.0.1", port });
      l.close();
      return port;
    } catch {
      // taken, try another
    }
  }
  throw new Error("no free port");
}

/** A running test service. */
export interface LiveService {
  service: Service;
  home: string;
  port: number;
  /** Log lines. */
  lines: string[];
  /** Stops the service and removes the home. */
  stop(): Promise<void>;
}

/**
 * Starts the service in-process: identity a, token `tok-a`, metrics token `met-a`, test planet,
 * local.conf binding 127.0.0.1 only (plus `o.settings`), `o.files` written into the home;
 * `extra` overrides service options.
 */
export async function startLiveService(
  extra: Partial<ServiceOptions> & {
    settings?: Record<string, unknown>;
    files?: Record<string, string>;
  } = {},
): Promise<LiveService> {
  const { settings, files, ...serviceOptions } = extra;
  const o = { settings, files };
  const home = Deno.makeTempDirSync({ prefix: "zt-live-test-" });
  Deno.writeTextFileSync(`${home}/identity.secret`, fixtureText("identities/a.secret"));
  Deno.writeTextFileSync(`${home}/authtoken.secret`, "tok-a");
  Deno.writeTextFileSync(`${home}/metricstoken.secret`, "met-a");
  Deno.writeFileSync(`${home}/planet`, testWorld(WorldType.PLANET, TEST_PLANET_ID));
  Deno.writeTextFileSync(
    `${home}/local.conf`,
    JSON.stringify({
      settings: { bind: ["127.0.0.1"], allowSecondaryPort: false, ...o.settings },
    }),
  );
  for (const [name, text] of Object.entries(o.files ?? {})) {
    Deno.writeTextFileSync(`${home}/${name}`, text);
  }
  const lines: string[] = [];
  let service: Service | undefined;
  let port = 0;
  for (let i = 0; i < 5 && !service; i++) {
    port = freePort();
    try {
      service = await Service.start({
        home,
        port,
        log: new Logger("debug", (_l, line) => lines.push(line)),
        apiHosts: ["127.0.0.1"],
        createNode,
        ...serviceOptions,
      });
    } catch (e) {
      if (i === 4) throw e;
    }
  }
  const svc = service!;
  return {
    service: svc,
    home,
    port,
    lines,
    stop: async () => {
      await svc.stop();
      Deno.removeSync(home, { recursive: true });
    },
  };
}
