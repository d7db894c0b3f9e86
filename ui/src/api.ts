// The UI's link to the node: token kept in sessionStorage, JSON calls with X-ZT1-Auth, and the /events stream read with fetch().
/// <reference lib="dom" />

const TOKEN_KEY = "zt-auth-token";

/** The token of this browser session, if signed in. */
export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Stores the token for this browser session only. */
export function setToken(t: string | null): void {
  if (t === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, t);
}

/** An API call that failed: HTTP status and the node's description. */
export class ApiError extends Error {
  /** @param status HTTP status. @param message description. */
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Called when the node refuses the token (401): the app signs out. */
let onUnauthorized: () => void = () => {};

/** Sets what happens when the node answers 401. */
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

/** Calls the node's API with the session token in the X-ZT1-Auth header; parsed JSON. */
export async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  token: string | null = getToken(),
): Promise<T> {
  const headers: Record<string, string> = {};
  if (token !== null) headers["X-ZT1-Auth"] = token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
  });
  const text = await r.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (r.status === 401) {
    onUnauthorized();
    throw new ApiError(401, "the node refused the token");
  }
  if (!r.ok) {
    const d = (json as { description?: string } | undefined)?.description;
    throw new ApiError(r.status, d ?? `HTTP ${r.status}`);
  }
  return json as T;
}

/** One event from the node's stream. */
export interface NodeEvent {
  /** Event name. */
  type: string;
  /** Its data. */
  data: Record<string, unknown>;
}

type Listener = (e: NodeEvent) => void;
const listeners = new Set<Listener>();
let running: AbortController | undefined;

/** Subscribes to node events; returns the unsubscribe function. */
export function onNodeEvent(f: Listener): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** Parses SSE text blocks and dispatches them; returns the unparsed rest. */
function dispatch(buf: string): string {
  let i: number;
  while ((i = buf.indexOf("\n\n")) >= 0) {
    const block = buf.slice(0, i);
    buf = buf.slice(i + 2);
    let type = "message", data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) type = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
    }
    if (!data) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      continue;
    }
    const e = { type, data: (parsed ?? {}) as Record<string, unknown> };
    for (const l of [...listeners]) l(e);
  }
  return buf;
}

/** Status of the event stream, for the header's indicator. */
export const streamState = { connected: false, onChange: (_c: boolean) => {} };

function setConnected(c: boolean): void {
  if (streamState.connected === c) return;
  streamState.connected = c;
  streamState.onChange(c);
}

/**
 * Keeps GET /events open (the token in the header, never in the URL), reconnecting with a
 * growing delay (1 s to 15 s) until {@link stopEvents}.
 */
export function startEvents(): void {
  if (running) return;
  const ctl = new AbortController();
  running = ctl;
  (async () => {
    let delay = 1000;
    while (!ctl.signal.aborted) {
      try {
        const token = getToken();
        if (token === null) break;
        const r = await fetch("/events", {
          headers: { "X-ZT1-Auth": token },
          signal: ctl.signal,
          cache: "no-store",
        });
        if (r.status === 401) {
          onUnauthorized();
          break;
        }
        if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
        setConnected(true);
        delay = 1000;
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf = dispatch((buf + value).replace(/\r\n/g, "\n"));
        }
      } catch {
        // reconnect below
      }
      setConnected(false);
      if (ctl.signal.aborted) break;
      await new Promise((res) => setTimeout(res, delay));
      delay = Math.min(15_000, delay * 2);
    }
  })();
}

/** Closes the event stream. */
export function stopEvents(): void {
  running?.abort();
  running = undefined;
  setConnected(false);
}

/** `n` bytes as text (B, KiB, MiB, GiB). */
export function formatBytes(n: number): string {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${u[i]}`;
}

/** A ms timestamp as "N s/min/h ago" relative to now (or "never"). */
export function ago(ms: number): string {
  if (!ms) return "never";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}
