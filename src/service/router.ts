// A small HTTP router for the local API: method + path routes with `:name` parameters and a
// trailing `*`, middleware, error and not-found handlers, request body caching.
//
// It replaces the npm `hono` package on the node's API (the subset the service used): an npm
// module costs a member several MiB of RSS for the package and Deno's npm machinery, and a member
// should load none (see tests/service/static_graph_test.ts).

/** What the socket server passes with each request. */
export interface ApiBindings {
  /** The connection's remote address, when served over a socket. */
  remoteAddr?: Deno.NetAddr;
}

/** The request as routes see it. */
export interface RouterRequest {
  /** The underlying request. */
  readonly raw: Request;
  /** The HTTP method, upper case. */
  readonly method: string;
  /** The full URL. */
  readonly url: string;
  /** The path (percent-decoded as `decodeURI` does, when it decodes). */
  readonly path: string;
  /** A request header (case-insensitive), or undefined. */
  header(name: string): string | undefined;
  /** The first value of a query parameter, or undefined. */
  query(name: string): string | undefined;
  /** A `:name` path parameter of the matched route (percent-decoded); "" when absent. */
  param(name: string): string;
  /** The body as text (read once; later calls, also of arrayBuffer, reuse it). */
  text(): Promise<string>;
  /** The body bytes (read once). */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Per-request context handed to middleware and handlers. */
export interface Context {
  readonly req: RouterRequest;
  /** The bindings the server passed (undefined for in-process requests). */
  readonly env: ApiBindings | undefined;
  /** A JSON response of `value`. */
  json(value: unknown, status?: number): Response;
}

/** A route handler. */
export type Handler = (c: Context) => Response | Promise<Response>;
/** Middleware: returns a response to answer early, or awaits `next()` to go on. */
export type Middleware = (
  c: Context,
  next: () => Promise<void>,
) => Response | void | Promise<Response | void>;
/** Answers an error thrown by a handler or middleware. */
export type ErrorHandler = (err: unknown, c: Context) => Response | Promise<Response>;

interface Entry {
  /** "*" for middleware and `all`, else the method. */
  method: string;
  segments: string[];
  /** The pattern ends with `/*` (or is `*`): any rest matches, also none. */
  rest: boolean;
  middleware: boolean;
  fn: Handler | Middleware;
  /** The error handler of the router a route was mounted from, if it had one. */
  onError?: ErrorHandler;
}

function compile(pattern: string): { segments: string[]; rest: boolean } {
  if (pattern === "*" || pattern === "/*") return { segments: [], rest: true };
  let p = pattern;
  let rest = false;
  if (p.endsWith("/*")) {
    rest = true;
    p = p.slice(0, -2);
  }
  const segments = p.split("/").slice(1);
  if (segments.length === 1 && segments[0] === "" && rest) segments.length = 0;
  return { segments, rest };
}

/** Matches `parts` (the path split on "/", without the leading empty one); params or undefined. */
function match(e: Entry, parts: string[]): Map<string, string> | undefined {
  const n = e.segments.length;
  if (e.rest ? parts.length < n : parts.length !== n) return undefined;
  let params: Map<string, string> | undefined;
  for (let i = 0; i < n; i++) {
    const s = e.segments[i];
    if (s.startsWith(":")) {
      if (parts[i] === "") return undefined;
      params ??= new Map();
      params.set(s.slice(1), parts[i]);
    } else if (s !== parts[i]) return undefined;
  }
  return params ?? new Map();
}

function decodeComponent(s: string): string {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

class Req implements RouterRequest {
  readonly raw: Request;
  readonly method: string;
  readonly url: string;
  readonly path: string;
  params = new Map<string, string>();
  #url: URL | undefined;
  #body: Promise<ArrayBuffer> | undefined;
  #text: Promise<string> | undefined;

  constructor(raw: Request) {
    this.raw = raw;
    this.method = raw.method.toUpperCase();
    this.url = raw.url;
    const u = this.#parsed();
    let path = u.pathname;
    if (path.includes("%")) {
      try {
        path = decodeURI(path);
      } catch {
        // keep it encoded
      }
    }
    this.path = path;
  }

  #parsed(): URL {
    return this.#url ??= new URL(this.url);
  }

  header(name: string): string | undefined {
    return this.raw.headers.get(name) ?? undefined;
  }

  query(name: string): string | undefined {
    return this.#parsed().searchParams.get(name) ?? undefined;
  }

  param(name: string): string {
    const v = this.params.get(name);
    return v === undefined ? "" : decodeComponent(v);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#body ??= this.raw.arrayBuffer();
  }

  text(): Promise<string> {
    return this.#text ??= this.arrayBuffer().then((b) => new TextDecoder().decode(b));
  }
}

class Ctx implements Context {
  res: Response | undefined;
  constructor(readonly req: Req, readonly env: ApiBindings | undefined) {}

  json(value: unknown, status = 200): Response {
    return new Response(JSON.stringify(value), {
      status,
      headers: { "content-type": "application/json" },
    });
  }
}

const defaultError: ErrorHandler = (err) => {
  console.error(err);
  return new Response("Internal Server Error", { status: 500 });
};
const defaultNotFound: Handler = () => new Response("404 Not Found", { status: 404 });

/**
 * Routes requests in registration order: every matching middleware and the first matching
 * route handler form one chain. A GET route answers HEAD (without the body). Paths are strict:
 * `/peer/` is not `/peer`.
 */
export class Router {
  readonly #entries: Entry[] = [];
  #onError: ErrorHandler | undefined;
  #notFound: Handler = defaultNotFound;

  #add(method: string, pattern: string, fn: Handler | Middleware, middleware: boolean): this {
    this.#entries.push({ method, ...compile(pattern), middleware, fn });
    return this;
  }

  /** Middleware for paths matching `pattern` (e.g. "*"). */
  use(pattern: string, mw: Middleware): this {
    return this.#add("*", pattern, mw, true);
  }

  get(pattern: string, h: Handler): this {
    return this.#add("GET", pattern, h, false);
  }

  post(pattern: string, h: Handler): this {
    return this.#add("POST", pattern, h, false);
  }

  put(pattern: string, h: Handler): this {
    return this.#add("PUT", pattern, h, false);
  }

  delete(pattern: string, h: Handler): this {
    return this.#add("DELETE", pattern, h, false);
  }

  /** Any method. */
  all(pattern: string, h: Handler): this {
    return this.#add("*", pattern, h, false);
  }

  /** Several methods. */
  on(methods: string[], pattern: string, h: Handler): this {
    for (const m of methods) this.#add(m.toUpperCase(), pattern, h, false);
    return this;
  }

  /** Mounts `sub`'s routes and middleware under `prefix` ("/" for as they are). */
  route(prefix: string, sub: Router): this {
    const pre = prefix === "/" ? [] : compile(prefix).segments;
    for (const e of sub.#entries) {
      this.#entries.push({
        ...e,
        segments: [...pre, ...e.segments],
        onError: e.onError ?? sub.#onError,
      });
    }
    return this;
  }

  /** The answer to a thrown error (default: 500 "Internal Server Error"). */
  onError(h: ErrorHandler): this {
    this.#onError = h;
    return this;
  }

  /** The answer when no route matches (default: 404 "404 Not Found"). */
  notFound(h: Handler): this {
    this.#notFound = h;
    return this;
  }

  /** Answers `req`; `env` is what handlers see as `c.env`. */
  async fetch(req: Request, env?: ApiBindings): Promise<Response> {
    const r = new Req(req);
    const c = new Ctx(r, env);
    const head = r.method === "HEAD";
    const parts = r.path.split("/").slice(1);
    const chain: { e: Entry; params: Map<string, string> }[] = [];
    for (const e of this.#entries) {
      if (
        e.method !== "*" && e.method !== r.method && !(head && !e.middleware && e.method === "GET")
      ) continue;
      const params = match(e, parts);
      if (params === undefined) continue;
      chain.push({ e, params });
      if (!e.middleware) break;
    }
    let errorHandler = this.#onError ?? defaultError;
    const run = async (i: number): Promise<void> => {
      if (i >= chain.length) {
        c.res = await this.#notFound(c);
        return;
      }
      const { e, params } = chain[i];
      r.params = params;
      if (e.middleware) {
        const out = await (e.fn as Middleware)(c, () => run(i + 1));
        if (out instanceof Response) c.res = out;
      } else {
        if (e.onError !== undefined) errorHandler = e.onError;
        c.res = await (e.fn as Handler)(c);
      }
    };
    let res: Response;
    try {
      await run(0);
      res = c.res ?? await this.#notFound(c);
    } catch (err) {
      res = await errorHandler(err, c);
    }
    return head && res.body !== null
      ? new Response(null, { status: res.status, statusText: res.statusText, headers: res.headers })
      : res;
  }

  /** In-process request (tests): a path is taken relative to http://localhost. */
  request(input: string | URL | Request, init?: RequestInit, env?: ApiBindings): Promise<Response> {
    if (input instanceof Request) return this.fetch(init ? new Request(input, init) : input, env);
    const url = typeof input === "string" && input.startsWith("/")
      ? `http://localhost${input}`
      : input;
    return this.fetch(new Request(url, init), env);
  }
}
