// Lab helper for userspace e2e tests: the launcher that runs a node without CAP_NET_ADMIN, with /dev/net/tun bound to /dev/null, and without FFI.
import { ZT_V8_FLAGS } from "./zt_lab.ts";

/** Runs `deno` without CAP_NET_ADMIN, with /dev/net/tun replaced by /dev/null, without FFI. */
export const USERSPACE_LAUNCHER = [
  "unshare",
  "--mount",
  "--propagation",
  "private",
  "sh",
  "-c",
  'mount --bind /dev/null /dev/net/tun && exec setpriv --inh-caps=-net_admin --bounding-set=-net_admin "$@"',
  "sh",
  Deno.execPath(),
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-sys",
  ZT_V8_FLAGS,
];
