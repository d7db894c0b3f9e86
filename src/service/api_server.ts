// The local HTTP API as a Router app: auth (spec §11.1), JSON conventions, core routes, extensions.
import { type Context, Router } from "./router.ts";
import { Address } from "../vl1/address.ts";
import { InetAddress } from "../vl1/inet_address.ts";
import { presentedToken, tokensEqual } from "./auth_token.ts";
import { healthJson, type Json, moonJson, peerJson, statusJson } from "./api_status.ts";
import type { StatusInputs } from "./api_status.ts";
import type { ServiceNode } from "./service_node.ts";
import { jsonResponse } from "./controller_api.ts";
import { stringifyJson64 } from "../util/json64.ts";
import { jsonTooDeep, MAX_JSON_DEPTH } from "../util/json_depth.ts";

/** Largest request body the local API accepts (the HTTP server enforces it on the wire too). */
export const MAX_API_BODY_BYTES = 1 << 20;

/** What the API reads from the running service (small, so tests can fake it). */
export interface ApiState {
  /** The node. */
  node: ServiceNode;
  /** authtoken.secret. */
  authToken(): string;
  /** metricstoken.secret. */
  metricsToken(): string;
  /** CIDRs (ip/bits) besides loopback allowed to use the API. */
  allowManagementFrom(): InetAddress[];
  /** Current time, ms. */
  now(): number;
  /** The /status fields the node does not know (config, ports, listening addresses). */
  statusExtras(): Omit<StatusInputs, "address" | "publicIdentity" | "online" | "clock" | "planet">;
  /** Whether the node tunnels through a TCP relay (`tunneled` on every peer; default false). */
  tunneled?(): boolean;
}

/** Router environment: the connection's remote address, when served over a socket. */
export type ApiEnv = { Bindings: { remoteAddr?: Deno.NetAddr } };

/** The app type extensions add routes to. */
export type ApiApp = Router;

/** Adds more routes (e.g. /network, /controller, /metrics) to the app. */
export type ApiRoutes = (app: ApiApp, state: ApiState) => void;

/** Paths that need no token (still subject to the client IP check). */
function isOpenPath(path: string): boolean {
  return path === "/health" || path === "/sso" || path.startsWith("/app") || path === "/ui" ||
    path.startsWith("/ui/");
}

/** Methods that change nothing (a token in the URL is accepted only for these). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Loopback or inside an allowManagementFrom CIDR; in-process requests (no socket) count as local. */
function clientAllowed(remote: Deno.NetAddr | undefined, allowed: InetAddress[]): boolean {
  if (remote === undefined) return true;
  const ip = InetAddress.fromIp(remote.hostname.replace(/^\[|\]$/g, "").replace(/%.*$/, ""));
  if (!ip) return false;
  if (ip.family === 4 && ip.ip[0] === 127) return true;
  if (ip.family === 6) {
    let loop = ip.ip[15] === 1;
    for (let i = 0; i < 15 && loop; i++) if (ip.ip[i] !== 0) loop = false;
    if (loop) return true;
    // IPv4-mapped IPv6 (::ffff:a.b.c.d): judge the IPv4 address
    let mapped = ip.ip[10] === 0xff && ip.ip[11] === 0xff;
    for (let i = 0; i < 10 && mapped; i++) if (ip.ip[i] !== 0) mapped = false;
    if (mapped) {
      const v4 = new InetAddress(ip.ip.slice(12), 0);
      if (v4.ip[0] === 127) return true;
      return allowed.some((n) => n.containsAddress(v4));
    }
  }
  return allowed.some((n) => n.containsAddress(ip));
}

/** Sends JSON the reference's way: `{}` for empty, `?jsonp=fn` wrapping. */
export function sendJson(c: Context, body: Json | undefined, status = 200): Response {
  const text = body === undefined || body === null ? "{}" : stringifyJson64(body);
  return jsonResponse(c, text, status);
}

/**
 * Bounds every request body before a route sees it: over {@link MAX_API_BODY_BYTES} -> 413
 * (by Content-Length; the socket server also counts chunked bodies), JSON nested deeper than
 * {@link MAX_JSON_DEPTH} -> 400. The text is cached by Router, so routes read it again for free.
 */
async function checkBody(c: Context): Promise<Response | undefined> {
  const m = c.req.method;
  if (m === "GET" || m === "HEAD" || m === "OPTIONS") return undefined;
  const len = c.req.header("content-length");
  if (len !== undefined && Number(len) > MAX_API_BODY_BYTES) {
    return sendJson(c, {
      error: 413,
      description: `request body larger than ${MAX_API_BODY_BYTES} bytes`,
    }, 413);
  }
  const text = await c.req.text();
  if (text.length > MAX_API_BODY_BYTES) {
    return sendJson(c, {
      error: 413,
      description: `request body larger than ${MAX_API_BODY_BYTES} bytes`,
    }, 413);
  }
  if (jsonTooDeep(text)) {
    return sendJson(c, {
      error: 400,
      description: `JSON body nested deeper than ${MAX_JSON_DEPTH} levels`,
    }, 400);
  }
  return undefined;
}

/** Parses a 10-hex-digit address route parameter. */
function addrParam(s: string): Address | undefined {
  return /^[0-9a-fA-F]{10}$/.test(s) ? Address.parse(s) : undefined;
}

/**
 * Builds the local API app. Core routes: GET /status, /health, /peer, /peer/<addr10>, /moon,
 * /moon/<id10>. `extensions` add more routes; all routes share the auth check.
 */
export function createApiApp(state: ApiState, extensions: ApiRoutes[] = []): ApiApp {
  const app = new Router();

  app.onError((err, c) =>
    sendJson(c, { error: 500, description: err instanceof Error ? err.message : String(err) }, 500)
  );
  app.notFound((c) => sendJson(c, {}, 404));

  app.use("*", async (c, next) => {
    const path = c.req.path;
    const token = presentedToken((n) => c.req.header(n), (n) => c.req.query(n));
    if (path === "/metrics") {
      const ok = token !== undefined &&
        (tokensEqual(token, state.metricsToken()) || tokensEqual(token, state.authToken()));
      if (!ok) return sendJson(c, {}, 401);
      return await next();
    }
    if (!clientAllowed(c.env?.remoteAddr, state.allowManagementFrom())) {
      return sendJson(c, {}, 401);
    }
    if (!isOpenPath(path)) {
      if (token === undefined || !tokensEqual(token, state.authToken())) {
        return sendJson(c, {}, 401);
      }
      // state changes need the token in a header, which cross-site forms and links cannot set
      const inHeader = c.req.header("x-zt1-auth") !== undefined ||
        c.req.header("authorization") !== undefined;
      if (!inHeader && !SAFE_METHODS.has(c.req.method)) return sendJson(c, {}, 401);
    }
    const bad = await checkBody(c);
    if (bad) return bad;
    await next();
  });

  app.get("/health", (c) => sendJson(c, healthJson(state.node.online(), state.now())));

  app.get("/status", (c) => {
    const n = state.node;
    return sendJson(
      c,
      statusJson({
        ...state.statusExtras(),
        address: n.identity.address.toString(),
        publicIdentity: n.identity.toString(false),
        online: n.online(),
        clock: state.now(),
        planet: n.planet(),
      }),
    );
  });

  app.get("/peer", (c) => {
    const peers = state.node.peers().slice().sort((a, b) =>
      a.address.toString() < b.address.toString() ? -1 : 1
    );
    const tunneled = state.tunneled?.() ?? false;
    return sendJson(c, peers.map((p) => peerJson(p, tunneled)));
  });

  app.get("/peer/:addr", (c) => {
    const a = addrParam(c.req.param("addr"));
    if (!a) return sendJson(c, {}, 404);
    const p = state.node.peer(a);
    return sendJson(c, p ? peerJson(p, state.tunneled?.() ?? false) : {});
  });

  app.get("/moon", (c) => sendJson(c, state.node.moons().map(moonJson)));

  app.get("/moon/:id", (c) => {
    const id = c.req.param("id");
    if (!/^[0-9a-fA-F]{10}$/.test(id)) return sendJson(c, {}, 404);
    const want = BigInt("0x" + id);
    const m = state.node.moons().find((w) => w.id === want);
    return sendJson(c, m ? moonJson(m) : {});
  });

  for (const ext of extensions) ext(app, state);
  return app;
}
