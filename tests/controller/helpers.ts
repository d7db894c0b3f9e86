// Shared helpers for controller tests: temp copies of the fixture database, identities, a controller.
import { Identity } from "../../src/vl1/identity.ts";
import { Controller } from "../../src/controller/controller.ts";
import { FileStore } from "../../src/service/controller_file_store.ts";
import type { ControllerStore } from "../../src/controller/store.ts";
import { FIXTURES, fixtureText } from "../fixtures.ts";
import { seededRandom } from "../helpers/seeded_random.ts";
import { copyTree } from "../helpers/copy_tree.ts";
import { type RequestMetadata, requestMetadataFrom } from "../../src/controller/config_decision.ts";
export { copyTree, seededRandom };

/** The fixture controller database folder. */
export const FIXTURE_DB = FIXTURES + "controller/controller.d";
/** Lab network IDs. */
export const LAB_NET = "5b1c20a311fca1ca";
/** Rules network ID. */
export const RULES_NET = "5b1c20a311309832";
/** Member addresses. */
export const ADDR_A = "98bec71608";
/** Member b. */
export const ADDR_B = "beccf08a89";

const tempDirs: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const d of tempDirs) {
    try {
      Deno.removeSync(d, { recursive: true });
    } catch {
      // already gone
    }
  }
});

/** A temp directory removed when the test process ends. */
export function tempDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "zt-ctl-" });
  tempDirs.push(dir);
  return dir;
}

/** A temp copy of the fixture database; returns its path. */
export function tempFixtureDb(): string {
  const dir = tempDir();
  copyTree(FIXTURE_DB, `${dir}/controller.d`);
  return `${dir}/controller.d`;
}

/** Identity of host `h` from the fixtures (secret if available). */
export function labIdentity(h: "a" | "b" | "c" | "r", secret = false): Identity {
  return Identity.fromString(fixtureText(`identities/${h}.${secret ? "secret" : "public"}`))!;
}

/** A controller with c's identity over `store`, with a settable clock. */
export function labController(
  store: ControllerStore,
  clock = { t: 1_795_303_700_000 },
): { ctl: Controller; clock: { t: number } } {
  const ctl = new Controller({
    identity: labIdentity("c", true),
    store,
    random: seededRandom(7),
    now: () => clock.t,
  });
  return { ctl, clock };
}

/** Opens a FileStore over a temp copy of the fixture database. */
export function fixtureFileStore(): { store: FileStore; dir: string } {
  const dir = tempFixtureDb();
  return { store: new FileStore(dir), dir };
}

/** Every file under `dir` with its content (for "nothing changed on disk" checks). */
export function snapshotTree(dir: string, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) {
      for (const [k, v] of snapshotTree(p, `${prefix}${e.name}/`)) out.set(k, v);
    } else out.set(prefix + e.name, Deno.readTextFileSync(p));
  }
  return out;
}

/** Metadata a 1.14.1 node sends (spec §7.2). */
export const META_114: RequestMetadata = requestMetadataFrom((k) =>
  ({
    v: "7",
    vend: "1",
    pv: "c",
    majv: "1",
    minv: "e",
    revv: "1",
    mr: "400",
    mc: "80",
    mcr: "40",
    mt: "80",
    f: "0",
    revr: "1",
    o: "linux/x86_64",
  } as Record<string, string>)[k]
);
