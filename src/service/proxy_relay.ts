// Byte relay between two connections (half-close aware), and the --forward / --expose port mappings of userspace mode.
import type { OverlayConn, UserspaceNet } from "./userspace_net.ts";
import type { Logger } from "./logger.ts";

/** What the relay needs of a connection (Deno.Conn and OverlayConn both fit). */
export interface RelayConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
}

/** First read buffer of a relay direction; doubled while reads fill it, up to MAX_BUF. */
const MIN_BUF = 2048;
const MAX_BUF = 64 * 1024;

async function pump(from: RelayConn, to: RelayConn): Promise<number> {
  let total = 0;
  // small while idle (1,000 idle relays must stay cheap), grown for bulk transfers
  let buf = new Uint8Array(MIN_BUF);
  for (;;) {
    const n = await from.read(buf);
    if (n === null) break;
    for (let off = 0; off < n;) off += await to.write(buf.subarray(off, n));
    total += n;
    if (n === buf.length && buf.length < MAX_BUF) buf = new Uint8Array(buf.length * 2);
  }
  await to.closeWrite().catch(() => {});
  return total;
}

/** After one direction ended, the other is closed once idle this long (ms). */
export const HALF_CLOSE_IDLE_MS = 60_000;

/**
 * Copies both ways until both sides ended (or one fails, which closes both); resolves with the
 * byte counts. `idleMs` (0 = none) closes both after that long without a byte either way; once
 * one direction has ended, `halfCloseIdleMs` bounds how long the other may stay idle.
 */
export async function relay(
  a: RelayConn,
  b: RelayConn,
  idleMs = 0,
  halfCloseIdleMs = HALF_CLOSE_IDLE_MS,
): Promise<{ aToB: number; bToA: number }> {
  let last = Date.now();
  let halfClosed = false;
  const track = (c: RelayConn): RelayConn => ({
    read: async (p) => {
      const n = await c.read(p);
      last = Date.now();
      return n;
    },
    write: (p) => c.write(p),
    closeWrite: () => c.closeWrite(),
    close: () => c.close(),
  });
  const closeBoth = () => {
    try {
      a.close();
    } catch { /* already closed */ }
    try {
      b.close();
    } catch { /* already closed */ }
  };
  const limit = () =>
    halfClosed ? Math.min(idleMs || Infinity, halfCloseIdleMs) : idleMs || Infinity;
  let timer: ReturnType<typeof setInterval> | undefined;
  const arm = () => {
    if (timer !== undefined || limit() === Infinity) return;
    timer = setInterval(() => {
      if (Date.now() - last >= limit()) closeBoth();
    }, Math.max(10, Math.min(limit(), 1000)));
  };
  arm();
  const ended = () => {
    halfClosed = true;
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    arm();
  };
  const x = pump(track(a), b).then((n) => (ended(), n), (e) => {
    closeBoth();
    throw e;
  });
  const y = pump(track(b), a).then((n) => (ended(), n), (e) => {
    closeBoth();
    throw e;
  });
  try {
    const [aToB, bToA] = await Promise.all([x, y]);
    return { aToB, bToA };
  } finally {
    if (timer !== undefined) clearInterval(timer);
    closeBoth();
  }
}

/** A `tcp:LOCALPORT=OVERLAYIP:PORT` or `tcp:OVERLAYPORT=127.0.0.1:PORT` mapping. */
export interface PortMapping {
  listenPort: number;
  host: string;
  port: number;
}

/** Parses `tcp:PORT=HOST:PORT` (HOST may be [v6]); undefined if malformed. */
export function parseMapping(spec: string): PortMapping | undefined {
  const m = /^tcp:(\d{1,5})=(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(spec.trim());
  if (!m) return undefined;
  const listenPort = Number(m[1]), port = Number(m[3]);
  if (!(listenPort > 0 && listenPort < 65536 && port > 0 && port < 65536)) return undefined;
  return { listenPort, host: m[2].replace(/^\[|\]$/g, ""), port };
}

/** A running mapping; `close()` stops it. */
export interface MappingHandle {
  close(): void;
  /** Connections relayed so far. */
  readonly count: number;
}

/** `--forward`: listens on 127.0.0.1:listenPort and relays each connection into the overlay. */
export function startForward(
  net: UserspaceNet,
  m: PortMapping,
  log: Logger,
  maxConns = 1024,
): MappingHandle {
  const l = Deno.listen({ hostname: "127.0.0.1", port: m.listenPort });
  let count = 0, active = 0;
  void (async () => {
    for await (const local of l) {
      if (active >= maxConns) {
        local.close();
        continue;
      }
      count++;
      active++;
      void (async () => {
        let remote: OverlayConn | undefined;
        try {
          remote = await net.connect(m.host, m.port);
          await relay(local, remote);
        } catch (e) {
          log.debug(
            `forward ${m.listenPort} \u2192 ${m.host}:${m.port}: ${
              e instanceof Error ? e.message : e
            }`,
          );
          try {
            local.close();
          } catch { /* closed */ }
          remote?.close();
        } finally {
          active--;
        }
      })();
    }
  })().catch(() => {});
  return {
    close: () => l.close(),
    get count() {
      return count;
    },
  };
}

/** `--expose`: listens on overlay TCP listenPort and relays each connection to host:port locally. */
export function startExpose(
  net: UserspaceNet,
  m: PortMapping,
  log: Logger,
  maxConns = 1024,
): MappingHandle {
  const l = net.listen(m.listenPort);
  let count = 0, active = 0;
  void (async () => {
    for await (const remote of l) {
      if (active >= maxConns) {
        remote.abort();
        continue;
      }
      count++;
      active++;
      void (async () => {
        let local: Deno.Conn | undefined;
        try {
          local = await Deno.connect({ hostname: m.host, port: m.port });
          await relay(remote, local);
        } catch (e) {
          log.debug(
            `expose ${m.listenPort} \u2192 ${m.host}:${m.port}: ${
              e instanceof Error ? e.message : e
            }`,
          );
          remote.abort();
          try {
            local?.close();
          } catch { /* closed */ }
        } finally {
          active--;
        }
      })();
    }
  })();
  return {
    close: () => l.close(),
    get count() {
      return count;
    },
  };
}
