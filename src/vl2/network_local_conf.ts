// Per-network local settings (`networks.d/<nwid>.local.conf`): allowManaged/Global/Default/DNS as a dictionary (spec §11.2).
import { InetAddress } from "../vl1/inet_address.ts";
import { Dictionary } from "./dictionary.ts";

/** What the local administrator allows a network's config to do to this host. */
export interface NetworkLocalConf {
  /** Apply managed IPs and routes (default true). */
  allowManaged: boolean;
  /**
   * When `allowManaged` was given as a comma list of CIDRs: only managed IPs inside one of these
   * are applied (a whitelist). Undefined = no whitelist.
   */
  allowManagedWhitelist?: InetAddress[];
  /** Allow managed IPs/routes that overlap global (public) address space (default false). */
  allowGlobal: boolean;
  /** Allow the network to set the default route (default false). */
  allowDefault: boolean;
  /** Apply the network's DNS settings (default false). */
  allowDNS: boolean;
}

/** The reference defaults: allowManaged on, the rest off. */
export function defaultNetworkLocalConf(): NetworkLocalConf {
  return { allowManaged: true, allowGlobal: false, allowDefault: false, allowDNS: false };
}

/**
 * Encodes the file the reference writes: `allowManaged=1\nallowGlobal=0\nallowDefault=0\n
 * allowDNS=0\n` (dictionary entries in that order, with a trailing LF). A whitelist is written
 * as the comma-separated CIDR list in place of `allowManaged`'s `1`.
 */
export function encodeNetworkLocalConf(c: NetworkLocalConf): Uint8Array {
  const d = new Dictionary();
  if (c.allowManaged && c.allowManagedWhitelist && c.allowManagedWhitelist.length > 0) {
    d.addString("allowManaged", c.allowManagedWhitelist.map((a) => a.toString()).join(","));
  } else {
    d.addBool("allowManaged", c.allowManaged);
  }
  d.addBool("allowGlobal", c.allowGlobal).addBool("allowDefault", c.allowDefault);
  d.addBool("allowDNS", c.allowDNS);
  const body = d.encode();
  const out = new Uint8Array(body.length + 1);
  out.set(body);
  out[body.length] = 0x0a;
  return out;
}

/**
 * Parses a `.local.conf` dictionary. Missing keys take the defaults; booleans read like the
 * reference (`1`, `t`, `T` = true). An `allowManaged` value containing `/` or `,` is a CIDR
 * whitelist (allowManaged true, only listed networks); unparsable list entries are skipped.
 * Never fails.
 */
export function parseNetworkLocalConf(b: Uint8Array): NetworkLocalConf {
  const d = Dictionary.parse(b);
  const c = defaultNetworkLocalConf();
  const am = d.getString("allowManaged");
  if (am !== undefined && am.length > 0) {
    if (am.includes("/") || am.includes(",")) {
      c.allowManaged = true;
      c.allowManagedWhitelist = am.split(",").map((s) => InetAddress.parse(s.trim()))
        .filter((a): a is InetAddress => a !== undefined);
    } else {
      c.allowManaged = d.getBool("allowManaged", true);
    }
  }
  c.allowGlobal = d.getBool("allowGlobal", false);
  c.allowDefault = d.getBool("allowDefault", false);
  c.allowDNS = d.getBool("allowDNS", false);
  return c;
}
