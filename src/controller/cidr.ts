// `ip/bits` parsing shared by the controller model and the CLI (which must not load the model).
import { InetAddress } from "../vl1/inet_address.ts";

/** Parses `ip/bits` with a netmask valid for the family; undefined otherwise. */
export function parseCidr(s: string): InetAddress | undefined {
  if (!s.includes("/")) return undefined;
  const a = InetAddress.parse(s);
  if (!a || a.port > (a.family === 4 ? 32 : 128)) return undefined;
  return a;
}
