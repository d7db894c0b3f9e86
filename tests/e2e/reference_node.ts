// A reference ZeroTier One (ZT_REFERENCE, a local build never committed) in a lab namespace, with
// the lab planet, no port mapping, no secondary port and no public TCP relay, shaped as a ZtNode.
import type { Lab } from "./netns.ts";
import { type LabIdentity, ZtNode } from "./zt_lab.ts";

/** Where the reference build is (env ZT_REFERENCE), or undefined: the interop tests then skip. */
export const REFERENCE: string | undefined = Deno.env.get("ZT_REFERENCE") || undefined;

/**
 * Starts `binary` (zerotier-one) in lab namespace `ns` with home `<lab>/ref-<id>`, identity `id`
 * and the lab `planet`; `settings` go into local.conf on top of the safe defaults. The result
 * works with ZtNode's API helpers (status, waitOnline, describe), which use only these fields.
 */
export function startReferenceNode(
  lab: Lab,
  binary: string,
  ns: string,
  id: LabIdentity,
  planet: Uint8Array,
  settings: Record<string, unknown> = {},
): ZtNode {
  if (!lab.namespaces.includes(ns)) throw new Error("reference node outside the lab");
  const home = lab.path(`ref-${id.address}`);
  Deno.mkdirSync(home, { recursive: true });
  const token = `tok-ref-${id.address}`;
  Deno.writeTextFileSync(`${home}/identity.secret`, id.secret + "\n", { mode: 0o600 });
  Deno.writeTextFileSync(`${home}/identity.public`, id.public + "\n");
  Deno.writeTextFileSync(`${home}/authtoken.secret`, token, { mode: 0o600 });
  Deno.writeFileSync(`${home}/planet`, planet);
  // never the public planet, never ZeroTier's relay, no port mapping
  Deno.writeTextFileSync(
    `${home}/local.conf`,
    JSON.stringify({
      settings: {
        portMappingEnabled: false,
        allowSecondaryPort: false,
        allowTcpFallbackRelay: false,
        ...settings,
      },
    }),
  );
  const proc = lab.spawn(ns, [binary, "-p9993", home], { logFile: `${home}.log` });
  return Object.assign(Object.create(ZtNode.prototype), {
    name: "ref",
    ns,
    home,
    id,
    token,
    proc,
  });
}
