// Test helper: homes for real `zt run` processes that never leave loopback (lab planet whose only root is 127.0.0.1/9, no port mapping, no TCP relay), process control and API calls.
import { c25519Generate } from "../../src/crypto/c25519.ts";
import { systemRandom } from "../../src/service/service.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { serializeWorld, signWorld, WorldType } from "../../src/vl1/world.ts";
import { freePort } from "../service/live_service.ts";

export { freePort };

/** The `zt` entry point (`ZT_CLI` may point at another build, for before/after measurements). */
export const CLI = Deno.env.get("ZT_CLI") ??
  new URL("../../cli.ts", import.meta.url).pathname;

/** A lab root's public identity (generated for these tests; it never runs anywhere). */
const LAB_ROOT =
  "07bae60d7e:0:41174a453b35676e980cb637b0c5d99932935c316069f3519165f618e29a2401fb17e3d0cb2e087b79b8dc264e386b47aa8313b7a87768b31b01777701dcc9cb";
/** The lab planet's id (never the real planet's 149604618). */
const LAB_PLANET_ID = 0x0e57_0b5n;
/** The root's only endpoint: loopback, a port nothing listens on. */
const LAB_ROOT_ENDPOINT = "127.0.0.1/9";

/** The token every lab home uses. */
export const TOKEN = "tok-reliability";

let cachedIdentity: Identity | undefined;

/** One identity for all homes of this test process (generating one takes a second or two). */
export function labIdentity(): Identity {
  return cachedIdentity ??= Identity.generate(systemRandom);
}

/** A signed planet whose only root is the lab root at 127.0.0.1/9. */
export function labPlanet(): Uint8Array {
  const keys = c25519Generate(systemRandom);
  return serializeWorld(signWorld(
    {
      type: WorldType.PLANET,
      id: LAB_PLANET_ID,
      timestamp: 1700000000000n,
      updatesMustBeSignedBy: keys.publicKey,
      roots: [{
        identity: Identity.fromString(LAB_ROOT)!,
        stableEndpoints: [InetAddress.parse(LAB_ROOT_ENDPOINT)!],
      }],
    },
    keys.privateKey,
    keys.publicKey,
  ));
}

/** A lab home: identity, token, lab planet, local.conf binding loopback without port mapping. */
export interface LabHome {
  /** The directory. */
  home: string;
  /** Primary (UDP and API) port. */
  port: number;
  /** The node's address. */
  address: string;
  /** Removes the directory. */
  remove(): void;
}

/** Creates a lab home in a new temporary directory. */
export function makeLabHome(prefix = "zt-rel-"): LabHome {
  const home = Deno.makeTempDirSync({ prefix });
  const id = labIdentity();
  Deno.writeTextFileSync(`${home}/identity.secret`, id.toString(true), { mode: 0o600 });
  Deno.writeTextFileSync(`${home}/authtoken.secret`, TOKEN, { mode: 0o600 });
  Deno.writeFileSync(`${home}/planet`, labPlanet());
  const port = freePort();
  Deno.writeTextFileSync(
    `${home}/local.conf`,
    JSON.stringify({
      settings: {
        primaryPort: port,
        bind: ["127.0.0.1"],
        allowSecondaryPort: false,
        portMappingEnabled: false,
        allowTcpFallbackRelay: false,
      },
    }),
  );
  return {
    home,
    port,
    address: id.address.toString(),
    remove: () => Deno.removeSync(home, { recursive: true }),
  };
}

/** A running `zt run` child. */
export interface ZtProcess {
  /** The child. */
  child: Deno.ChildProcess;
  /** Its pid. */
  pid: number;
  /** Resolves with the exit status and stderr once it exits. */
  done: Promise<{ code: number; signal: Deno.Signal | null; stderr: string }>;
  /** SIGKILL (ignored if it already exited). */
  kill9(): void;
}

/** Starts `zt run <home>` (stdout/stderr captured). */
export function spawnZt(home: string, extra: string[] = []): ZtProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", home, ...extra],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { ZT_LOG: "info" },
  }).spawn();
  const done = (async () => {
    const chunks: Uint8Array[] = [];
    for await (const c of child.stderr) chunks.push(c);
    const st = await child.status;
    const text = new TextDecoder().decode(
      chunks.length ? new Uint8Array(chunks.flatMap((c) => [...c])) : new Uint8Array(),
    );
    return { code: st.code, signal: st.signal, stderr: text };
  })();
  return {
    child,
    pid: child.pid,
    done,
    kill9: () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited already
      }
    },
  };
}

/** Sends SIGKILL to a pid we started (a detached daemon), ignoring a gone process. */
export function kill9Pid(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}

/** One API call on 127.0.0.1:port with the lab token; the body is read fully. */
export async function api(
  port: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; text: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { "X-ZT1-Auth": TOKEN, "Connection": "close" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `/status` until it answers 200 (bounded); throws with the child's stderr if it never does. */
export async function waitUp(p: ZtProcess, port: number, boundMs = 10000): Promise<void> {
  let exited = false;
  p.done.then(() => (exited = true));
  const t0 = performance.now();
  while (performance.now() - t0 < boundMs && !exited) {
    try {
      if ((await api(port, "GET", "/status")).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  p.kill9();
  const r = await p.done;
  throw new Error(`zt did not come up on port ${port} (exit ${r.code}):\n${r.stderr}`);
}

/** Resident memory of a process in KiB (Linux /proc). */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) : -1;
}

/** Waits until `pred()` holds, polling every 20 ms, at most `boundMs`; returns whether it did. */
export async function until(pred: () => boolean, boundMs = 10000): Promise<boolean> {
  const t0 = performance.now();
  while (!pred()) {
    if (performance.now() - t0 > boundMs) return false;
    await sleep(20);
  }
  return true;
}
