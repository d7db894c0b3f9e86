// Reliability of the GET /events listener: token, connection cap, slow-client cut-off, heartbeat, shutdown with open streams, live controller events.
import assert from "node:assert/strict";
import { EventHub, formatEvent } from "../../src/service/event_stream.ts";
import { statePoller } from "../../src/service/ui_events.ts";
import { startLiveService } from "../service/live_service.ts";

const TOKEN = "tok-a";

/** Reads an event stream until `want` matches the text so far (bounded). */
async function readUntil(
  body: ReadableStream<Uint8Array>,
  want: RegExp,
  timeoutMs = 8000,
): Promise<string> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (!want.test(text)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${want}; got ${JSON.stringify(text)}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        reader.read(),
        new Promise<never>((_, rej) => {
          timer = setTimeout(() => rej(new Error(`timed out waiting for ${want}`)), left);
        }),
      ]).finally(() => clearTimeout(timer));
      if (r.done) throw new Error(`stream ended before ${want}; got ${JSON.stringify(text)}`);
      text += dec.decode(r.value, { stream: true });
    }
    return text;
  } finally {
    reader.releaseLock();
  }
}

/** Serves `hub.connect()` on a random loopback port. */
function serveHub(hub: EventHub): { port: number; server: Deno.HttpServer } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => hub.connect() ?? new Response("full", { status: 503 }),
  );
  return { port: (server.addr as Deno.NetAddr).port, server };
}

Deno.test("event stream: SSE framing", () => {
  assert.equal(
    formatEvent(7, { type: "peer", data: { address: "0123456789", online: true } }),
    'id: 7\nevent: peer\ndata: {"address":"0123456789","online":true}\n\n',
  );
  assert.equal(formatEvent(1, { type: "a\nb", data: null }), "id: 1\nevent: ab\ndata: null\n\n");
});

Deno.test("event stream: connection cap answers 503, a freed slot is reused", async () => {
  const hub = new EventHub({ maxClients: 3 });
  const { port, server } = serveHub(hub);
  try {
    const open: Response[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(r.status, 200);
      await readUntil(r.body!, /event: hello/);
      open.push(r);
    }
    assert.equal(hub.clientCount, 3);
    const over = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(over.status, 503);
    await over.body?.cancel();
    await open.pop()!.body!.cancel();
    const deadline = Date.now() + 5000;
    while (hub.clientCount > 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(hub.clientCount, 2, "cancelled stream released its slot");
    const again = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(again.status, 200);
    open.push(again);
    hub.publish({ type: "x", data: { n: 1 } });
    for (const r of open) await readUntil(r.body!, /event: x\ndata: \{"n":1\}/);
    for (const r of open) await r.body!.cancel();
  } finally {
    hub.close();
    await server.shutdown();
  }
});

Deno.test("event stream: a client that does not read is cut off, the others keep going", async () => {
  const hub = new EventHub({ maxClients: 4, maxQueue: 16 });
  const { port, server } = serveHub(hub);
  try {
    const slow = await fetch(`http://127.0.0.1:${port}/`); // never read past this point
    assert.equal(slow.status, 200);
    const big = "x".repeat(64 * 1024);
    // far more than the socket buffers and the 16-chunk queue hold
    for (let i = 0; i < 2000 && hub.droppedSlowClients === 0; i++) {
      hub.publish({ type: "big", data: big });
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(hub.droppedSlowClients, 1, "the slow client was cut off");
    assert.equal(hub.clientCount, 0);
    await slow.body?.cancel().catch(() => {});
    const fresh = await fetch(`http://127.0.0.1:${port}/`);
    hub.publish({ type: "after", data: 1 });
    await readUntil(fresh.body!, /event: after/);
    await fresh.body!.cancel();
  } finally {
    hub.close();
    await server.shutdown();
  }
});

Deno.test("event stream: heartbeat comments on an idle stream; close() ends streams so shutdown completes", async () => {
  const hub = new EventHub({ heartbeatMs: 50 });
  const { port, server } = serveHub(hub);
  const r = await fetch(`http://127.0.0.1:${port}/`);
  await readUntil(r.body!, /: heartbeat\n\n/);
  hub.close();
  const reader = r.body!.getReader();
  let done = false;
  const deadline = Date.now() + 5000;
  while (!done && Date.now() < deadline) done = (await reader.read()).done;
  assert.ok(done, "stream ended");
  assert.equal(hub.connect(), undefined, "closed hub refuses new streams");
  await server.shutdown();
});

Deno.test("event stream: state poller reports node, peer and network changes only", () => {
  let online = false;
  let peers: { address: string; expired: boolean }[] = [];
  const poll = statePoller({
    online: () => online,
    peers: () =>
      peers.map((p) => ({
        address: { toString: () => p.address },
        version: undefined,
        latency: -1,
        role: "LEAF" as const,
        paths: [{
          address: undefined as never,
          localSocket: 0,
          lastSend: 0,
          lastReceive: 0,
          preferred: true,
          expired: p.expired,
          trustedPathId: 0,
        }],
      })),
    networks: () => [],
  });
  assert.deepEqual(poll(), [], "first poll only records");
  online = true;
  peers = [{ address: "aaaaaaaaaa", expired: false }];
  assert.deepEqual(poll(), [
    { type: "node", data: { online: true } },
    { type: "peer", data: { address: "aaaaaaaaaa", online: true } },
  ]);
  assert.deepEqual(poll(), []);
  peers = [];
  assert.deepEqual(poll(), [{ type: "peer", data: { address: "aaaaaaaaaa", online: false } }]);
});

Deno.test("event stream: GET /events on a live service needs the token and carries controller changes", async () => {
  const s = await startLiveService();
  try {
    const url = `http://127.0.0.1:${s.port}/events`;
    const refused = await fetch(url);
    await refused.body?.cancel();
    assert.equal(refused.status, 401);
    const wrong = await fetch(url, { headers: { "X-ZT1-Auth": "wrong" } });
    await wrong.body?.cancel();
    assert.equal(wrong.status, 401);
    const r = await fetch(url, { headers: { "X-ZT1-Auth": TOKEN } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/event-stream/);
    await readUntil(r.body!, /event: hello/);
    const addr = s.service.node.identity.address.toString();
    const created = await fetch(`http://127.0.0.1:${s.port}/controller/network/${addr}______`, {
      method: "POST",
      headers: { "X-ZT1-Auth": TOKEN },
      body: JSON.stringify({ name: "events" }),
    });
    const nwid = (await created.json()).id as string;
    await readUntil(r.body!, new RegExp(`event: controllerNetwork\\ndata: \\{"nwid":"${nwid}"\\}`));
    const m = await fetch(
      `http://127.0.0.1:${s.port}/controller/network/${nwid}/member/0123456789`,
      {
        method: "POST",
        headers: { "X-ZT1-Auth": TOKEN },
        body: JSON.stringify({ authorized: true }),
      },
    );
    await m.body?.cancel();
    await readUntil(
      r.body!,
      /event: member\ndata: \{"nwid":"[0-9a-f]{16}","address":"0123456789"\}/,
    );
    await r.body!.cancel();
  } finally {
    await s.stop(); // bounded even if a stream were still open (the hub is closed first)
  }
});
