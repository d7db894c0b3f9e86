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

async function pump(from: RelayConn, to: RelayConn, buf: Uint8Array): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await from.read(buf);
    if (n === null) break;
    for (let off = 0; off < n;) off += await to.write(buf.subarray(off, n));
    total += n;
  }
  await to.closeWrite().catch(() => {});
  return total;
}

/**
 * Copies both ways until both sides ended (or one fails, which closes both); resolves with the
 * byte counts. `idleMs` (0 = none) closes both after that long without a byte either way.
 */
export async function relay(
  a: RelayConn,
  b: RelayConn,
  idleMs = 0,
): Promise<{ aToB: number; bToA: number }> {
  let last = Date.now();
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
  let timer: ReturnType<typeof setInterval> | undefined;
  const closeBoth = () => {
    try {
      a.close();
    } catch { /* already closed */ }
    try {
      b.close();
    } catch { /* already closed */ }
  };
  if (idleMs > 0) {
    timer = setInterval(() => {
      if (Date.now() - last >= idleMs) closeBoth();
    }, Math.min(idleMs, 1000));
  }
  const x = pump(track(a), b, new Uint8Array(64 * 1024)).catch((e) => {
    closeBoth();
    throw e;
  });
  const y = pump(track(b), a, new Uint8Array(64 * 1024)).catch((e) => {
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
            `forward ${m.listenPort} → ${m.host}:${m.port}: ${e instanceof Error ? e.message : e}`,
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
            `expose ${m.listenPort} → ${m.host}:${m.port}: ${e instanceof Error ? e.message : e}`,
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
