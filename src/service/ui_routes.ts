// The web admin UI on the local API: /ui/ static assets (loaded on first request), /events, and the /ui-api helpers (rules compile and test, traffic).
import type { Context } from "./router.ts";
import type { Controller } from "../controller/controller.ts";
import type { ExplainOptions } from "../vl2/rules/explain.ts";
import type { Json } from "./api_status.ts";
import { type ApiRoutes, sendJson } from "./api_server.ts";
import type { EventHub } from "./event_stream.ts";
import type { TrafficHistory } from "./traffic_history.ts";

/** The UI's static files: path below /ui/ -> content type and body. */
export interface UiAssets {
  /** By file name (`index.html`, `app.js`, ...). */
  files: Record<string, { type: string; body: string }>;
}

/**
 * The Content-Security-Policy of every /ui/ response: scripts, styles and connections only from
 * the node itself, no inline script or style elements, no framing, no form posts.
 */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Largest request body the /ui-api helpers read. */
const MAX_BODY = 256 * 1024;

/**
 * Whether local.conf leaves the web UI on: `settings.webUi` unless it is the JSON boolean
 * `false` (the UI is on by default; it is reachable wherever the API is).
 */
export function webUiEnabled(raw: Record<string, unknown>): boolean {
  const s = raw.settings;
  if (typeof s !== "object" || s === null || Array.isArray(s)) return true;
  return (s as Record<string, unknown>).webUi !== false;
}

/** Where the optional HTTPS listener takes its certificate and key (in the home). */
export const TLS_CERT_FILE = "webui.crt";
/** The key beside {@link TLS_CERT_FILE}. */
export const TLS_KEY_FILE = "webui.key";

/** The HTTPS listener to open, or why not. */
export type WebUiTls =
  | { port: number; cert: string; key: string }
  | { warning: string }
  | undefined;

/**
 * The optional HTTPS listener of the API and UI: `settings.webUiTlsPort` (1..65535) in local.conf
 * with a PEM certificate chain `<home>/webui.crt` and key `<home>/webui.key`. Undefined when no
 * port is set; a warning when it is set but unusable (the plain API is not affected).
 */
export function webUiTls(raw: Record<string, unknown>, home: string): WebUiTls {
  const s = raw.settings;
  if (typeof s !== "object" || s === null || Array.isArray(s)) return undefined;
  const port = (s as Record<string, unknown>).webUiTlsPort;
  if (port === undefined || port === 0) return undefined;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    return { warning: "settings.webUiTlsPort: expected a port number 1..65535; no HTTPS" };
  }
  const read = (f: string) => {
    try {
      return Deno.readTextFileSync(`${home}/${f}`);
    } catch {
      return undefined;
    }
  };
  const cert = read(TLS_CERT_FILE), key = read(TLS_KEY_FILE);
  if (!cert || !key) {
    return {
      warning: `settings.webUiTlsPort is set but ${home}/${TLS_CERT_FILE} or ${TLS_KEY_FILE} ` +
        `cannot be read; no HTTPS`,
    };
  }
  return { port, cert, key };
}

/**
 * Whether a Host header names this machine by a name no other site can own: an IP literal,
 * `localhost` or a `*.localhost` name (RFC 6761), with an optional port. A page from another
 * site that rebinds its name to 127.0.0.1 sends its own name and is refused.
 */
export function loopbackHostAllowed(host: string | undefined): boolean {
  if (host === undefined) return true; // not a browser
  const h = host.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[^:\[\]]+)(?::(\d{1,5}))?$/.exec(h);
  if (!m) return false;
  const name = m[1];
  if (name.startsWith("[")) return true;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return true;
  return name === "localhost" || name.endsWith(".localhost");
}

/** Whether a socket peer is a loopback address (127/8, ::1, ::ffff:127.x). */
function isLoopbackPeer(remote: Deno.NetAddr | undefined): boolean {
  if (remote === undefined) return true;
  const h = remote.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h.startsWith("127.") || h === "::1" || h.startsWith("::ffff:127.");
}

/** The rules compiler, the frame explainer and the member view, loaded on first use. */
let handlers: Promise<typeof import("./ui_api_handlers.ts")> | undefined;
const uiApiHandlers = () => handlers ??= import("./ui_api_handlers.ts");

let assets: Promise<UiAssets> | undefined;
let assetsLoaded = false;

/** Whether the UI's asset module has been loaded (it is, only once /ui/ was requested). */
export function uiAssetsLoaded(): boolean {
  return assetsLoaded;
}

/** Loads the embedded asset module (once). */
function loadAssets(): Promise<UiAssets> {
  assets ??= import("./ui_assets.ts").then((m) => {
    assetsLoaded = true;
    return { files: m.UI_FILES };
  });
  return assets;
}

/** Security headers of every /ui/ file. */
function uiHeaders(type: string): Record<string, string> {
  return {
    "content-type": type,
    "content-security-policy": UI_CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-cache",
  };
}

/** Reads a JSON object body (bounded); a string is the error. */
async function readObject(c: Context): Promise<Record<string, unknown> | string> {
  const text = await c.req.text();
  if (text.length > MAX_BODY) return "body too large";
  try {
    const v = text.trim() === "" ? {} : JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) return "body: expected an object";
    return v as Record<string, unknown>;
  } catch {
    return "body: invalid JSON";
  }
}

/** Options of {@link uiRoutes}. */
export interface UiRoutesOptions {
  /** Whether the UI is on (local.conf `settings.webUi`), asked per request. */
  enabled: () => boolean;
  /** The event stream behind GET /events. */
  hub: EventHub;
  /** Traffic samples behind GET /ui-api/traffic. */
  traffic: TrafficHistory;
  /** The embedded controller, if any (for rules tests of its networks). */
  controller: () => Controller | undefined;
  /** Loads a controller that is loaded on first use (before {@link controller} is asked). */
  loadController?: () => Promise<unknown> | undefined;
  /** A random u32 (MATCH_RANDOM in rules tests). */
  random: () => number;
  /** What the node knows of a peer (latency, -1 unknown; its preferred path), by 10-hex-digit address. */
  peerInfo?: (address: string) => { latency: number; path: string } | undefined;
  /** Current time, ms. */
  now?: () => number;
}

const strList = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * The web UI routes:
 * - `GET /ui/`, `/ui/<file>`: the embedded single-page app (no token: it asks for one), with
 *   a strict CSP; `/ui` redirects to `/ui/`. The asset module is imported on the first request.
 * - `GET /events` (token): the server-sent event stream; 503 when it has all the clients it takes.
 * - `GET /ui-api/traffic` (token): per-network and per-peer counters over the last minutes.
 * - `GET /ui-api/controller` (token): the embedded controller's address and its networks with
 *   member, authorized and online counts.
 * - `GET /ui-api/controller/network/<nwid>/member` (token): the member records, each with `ui`:
 *   online, last seen, physical address, version and latency as this node saw them.
 * - `POST /ui-api/rules/compile` (token) `{source}` -> `{ok,rules,capabilities,tags}` or
 *   `{ok:false,error:{line,column,message}}`; nothing is saved.
 * - `POST /ui-api/rules/test` (token) `{nwid, frame, source?, inbound?, from?, to?, peerTag?,
 *   peerCap?, flags?}` -> `{ok,text,verdict}` or `{ok:false,error}` (the `zt rules test` explainer
 *   over a controller network's rules, or over `source`).
 * All of them answer 404 while `settings.webUi` is false, and 403 to a loopback client whose
 * Host header is not an IP literal or localhost (DNS rebinding).
 */
export function uiRoutes(o: UiRoutesOptions): ApiRoutes {
  return (app) => {
    for (const p of ["/ui", "/ui/*", "/events", "/ui-api/*"]) {
      app.use(p, async (c, next) => {
        if (!o.enabled()) return sendJson(c, {}, 404);
        if (isLoopbackPeer(c.env?.remoteAddr) && !loopbackHostAllowed(c.req.header("host"))) {
          return sendJson(c, { error: 403, description: "Host not allowed" }, 403);
        }
        return await next();
      });
    }
    app.get("/ui", () => new Response(null, { status: 301, headers: { location: "/ui/" } }));
    app.get("/ui/*", async (c) => {
      const name = c.req.path.slice("/ui/".length) || "index.html";
      const a = await loadAssets();
      const f = Object.hasOwn(a.files, name) ? a.files[name] : undefined;
      if (!f) return sendJson(c, {}, 404);
      return new Response(f.body, { headers: uiHeaders(f.type) });
    });
    app.get("/events", (c) => {
      const r = o.hub.connect();
      return r ?? sendJson(c, { error: 503, description: "too many event streams" }, 503);
    });
    app.get("/ui-api/traffic", (c) => sendJson(c, o.traffic.json()));
    app.get("/ui-api/controller", async (c) => {
      await o.loadController?.();
      const ctl = o.controller();
      if (!ctl) return sendJson(c, { controller: false, networks: [] });
      const now = o.now?.() ?? ctl.now();
      const networks: Json[] = [];
      for (const id of ctl.listNetworks()) {
        const n = ctl.getNetwork(id);
        if (!n) continue;
        const counts = ctl.memberCounts(id);
        networks.push({
          id,
          name: typeof n.name === "string" ? n.name : "",
          private: n.private !== false,
          members: counts.total,
          authorized: counts.authorized,
          online: ctl.onlineMembers(id, now).length,
        });
      }
      return sendJson(c, { controller: true, address: ctl.address, networks });
    });
    app.get("/ui-api/controller/network/:nwid/member", async (c) => {
      await o.loadController?.();
      const ctl = o.controller();
      const nwid = c.req.param("nwid").toLowerCase();
      const ms = /^[0-9a-f]{16}$/.test(nwid) ? ctl?.listMembers(nwid) : undefined;
      if (!ctl || !ms) return sendJson(c, {}, 404);
      const { memberView } = await uiApiHandlers();
      return sendJson(c, ms.map((m) => memberView(ctl, o, nwid, m)));
    });
    app.post("/ui-api/rules/compile", async (c) => {
      const b = await readObject(c);
      if (typeof b === "string") return sendJson(c, { error: 400, description: b }, 400);
      if (typeof b.source !== "string") {
        return sendJson(c, { error: 400, description: "source: expected a string" }, 400);
      }
      return sendJson(c, (await uiApiHandlers()).compileJson(b.source));
    });
    app.post("/ui-api/rules/test", async (c) => {
      const b = await readObject(c);
      if (typeof b === "string") return sendJson(c, { error: 400, description: b }, 400);
      const nwid = str(b.nwid)?.toLowerCase() ?? "";
      if (!/^[0-9a-f]{16}$/.test(nwid)) {
        return sendJson(c, { error: 400, description: "nwid: expected 16 hex digits" }, 400);
      }
      const frame = str(b.frame);
      if (frame === undefined) {
        return sendJson(c, { error: 400, description: "frame: expected a string" }, 400);
      }
      const opts: ExplainOptions = {
        inbound: b.inbound === true,
        from: str(b.from),
        to: str(b.to),
        peerTag: strList(b.peerTag),
        peerCap: strList(b.peerCap),
        flags: str(b.flags),
      };
      const meText = opts.inbound ? opts.to : opts.from;
      const me = meText && /^[0-9a-f]{10}$/i.test(meText) ? parseInt(meText, 16) : 0;
      await o.loadController?.();
      const network = o.controller()?.getNetwork(nwid);
      const { explainFrame, testConfig } = await uiApiHandlers();
      const nc = testConfig(nwid, network, str(b.source), me);
      if (typeof nc === "string") return sendJson(c, { ok: false, error: nc });
      const r = explainFrame(nc, frame, opts, o.random);
      return sendJson(c, r.ok ? { ok: true, text: r.text, verdict: r.verdict } : r);
    });
  };
}
