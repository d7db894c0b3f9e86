// The local API's server-sent event stream (GET /events): bounded fan-out of node, network and controller events to web UI clients.
import type { Json } from "./api_status.ts";

/** One event: `type` names it, the other fields are its JSON data. */
export interface StreamEvent {
  /** Event name (the SSE `event:` field). */
  type: string;
  /** Event data (the SSE `data:` field, as JSON). */
  data: Json;
}

/** Limits and timers of an {@link EventHub}. */
export interface EventHubOptions {
  /** Most concurrent streams; more are refused (503). Default 8. */
  maxClients?: number;
  /** Most events queued for one client that does not read; past it the client is cut off. Default 256. */
  maxQueue?: number;
  /** Interval of the `: heartbeat` comment that keeps idle connections (and proxies) alive, ms. Default 15000. */
  heartbeatMs?: number;
  /** Interval of `poll`, ms. Default 1000. */
  pollMs?: number;
  /**
   * Called every `pollMs` while at least one client is connected; the events it returns are
   * published (it diffs the node's state against its last call).
   */
  poll?: () => StreamEvent[];
}

/** One connected client. */
interface Client {
  /** Its stream's controller. */
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** Set once the client was removed (cancelled, cut off or hub closed). */
  closed: boolean;
}

const enc = new TextEncoder();

/** SSE framing of one event (`id`, `event`, `data` lines, blank line). */
export function formatEvent(id: number, e: StreamEvent): string {
  return `id: ${id}\nevent: ${e.type.replace(/[\r\n]/g, "")}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

/**
 * Fans events out to at most `maxClients` streams. Each stream's queue holds at most `maxQueue`
 * chunks: a client that stops reading is cut off rather than buffered without bound. Timers
 * (heartbeat, poll) run only while a client is connected.
 */
export class EventHub {
  readonly #maxClients: number;
  readonly #maxQueue: number;
  readonly #heartbeatMs: number;
  readonly #pollMs: number;
  readonly #poll: (() => StreamEvent[]) | undefined;
  readonly #clients = new Set<Client>();
  #nextId = 1;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #poller: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** Clients cut off for not reading (for tests and logs). */
  droppedSlowClients = 0;

  /** A hub with the given limits. */
  constructor(o: EventHubOptions = {}) {
    this.#maxClients = o.maxClients ?? 8;
    this.#maxQueue = o.maxQueue ?? 256;
    this.#heartbeatMs = o.heartbeatMs ?? 15_000;
    this.#pollMs = o.pollMs ?? 1000;
    this.#poll = o.poll;
  }

  /** Connected clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /**
   * Opens a stream for one client: a `text/event-stream` response starting with a `hello`
   * event, or undefined when the hub is full or closed.
   */
  connect(): Response | undefined {
    if (this.#closed || this.#clients.size >= this.#maxClients) return undefined;
    let client!: Client;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = { controller, closed: false };
      },
      cancel: () => this.#remove(client),
    }, new CountQueuingStrategy({ highWaterMark: this.#maxQueue }));
    this.#clients.add(client);
    this.#send(client, formatEvent(this.#nextId++, { type: "hello", data: { ok: true } }));
    this.#startTimers();
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Sends one event to every client. */
  publish(e: StreamEvent): void {
    if (this.#clients.size === 0) return;
    const text = formatEvent(this.#nextId++, e);
    for (const c of [...this.#clients]) this.#send(c, text);
  }

  /** Ends every stream and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const c of [...this.#clients]) {
      this.#remove(c);
      try {
        c.controller.close();
      } catch {
        // already closed
      }
    }
  }

  #send(c: Client, text: string): void {
    if (c.closed) return;
    const free = c.controller.desiredSize;
    if (free === null || free <= 0) {
      // not reading: cut it off instead of queueing without bound
      this.droppedSlowClients++;
      this.#remove(c);
      try {
        c.controller.close(); // what is queued is still delivered; then it ends
      } catch {
        // already closed
      }
      return;
    }
    try {
      c.controller.enqueue(enc.encode(text));
    } catch {
      this.#remove(c);
    }
  }

  #remove(c: Client): void {
    if (!c || c.closed) return;
    c.closed = true;
    this.#clients.delete(c);
    if (this.#clients.size === 0) this.#stopTimers();
  }

  #startTimers(): void {
    if (this.#heartbeat === undefined) {
      this.#heartbeat = setInterval(() => {
        for (const c of [...this.#clients]) this.#send(c, ": heartbeat\n\n");
      }, this.#heartbeatMs);
    }
    if (this.#poller === undefined && this.#poll) {
      const poll = this.#poll;
      this.#poller = setInterval(() => {
        let events: StreamEvent[] = [];
        try {
          events = poll();
        } catch {
          events = [];
        }
        for (const e of events) this.publish(e);
      }, this.#pollMs);
    }
  }

  #stopTimers(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    if (this.#poller !== undefined) clearInterval(this.#poller);
    this.#heartbeat = undefined;
    this.#poller = undefined;
  }
}
