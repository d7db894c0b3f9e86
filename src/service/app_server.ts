// GET /app/<name>/... on the local API: static single-page apps from <home>/app (spec §11.1, §11.3).
import type { Context } from "./router.ts";
import { type ApiRoutes, sendJson } from "./api_server.ts";

/** The URL prefix (and the folder name under the home directory). */
export const APP_PREFIX = "/app";

/** Largest file served (a web UI bundle, not a download area). */
export const MAX_APP_FILE_BYTES = 64 * 1024 * 1024;

/** Most path segments a request may have below /app. */
const MAX_SEGMENTS = 32;

/** Content types by lower-case file extension; anything else is application/octet-stream. */
const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  map: "application/json",
  webmanifest: "application/manifest+json",
  txt: "text/plain; charset=utf-8",
  xml: "application/xml",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/x-icon",
  wasm: "application/wasm",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  otf: "font/otf",
  pdf: "application/pdf",
  mp4: "video/mp4",
  webm: "video/webm",
};

/** The content type for a file name (by its last extension). */
export function contentTypeFor(fileName: string): string {
  const dot = fileName.lastIndexOf(".");
  if (dot <= 0) return "application/octet-stream";
  return CONTENT_TYPES[fileName.slice(dot + 1).toLowerCase()] ?? "application/octet-stream";
}

/**
 * Whether local.conf turns the web server on: `settings.enableWebServer` must be the JSON
 * boolean `true` (the reference's default is false, and so is zt's; other values count as off).
 */
export function webServerEnabled(raw: Record<string, unknown>): boolean {
  const s = raw.settings;
  if (typeof s !== "object" || s === null || Array.isArray(s)) return false;
  return (s as Record<string, unknown>).enableWebServer === true;
}

/**
 * Splits the raw (still percent-encoded) path below `/app/` into decoded segments, or undefined
 * when any segment is unsafe: bad percent-encoding, `.`/`..`, names starting with a dot (hidden
 * files), and segments that decode to a slash, backslash or control character. A trailing slash
 * yields a final empty segment (a directory request); empty segments elsewhere are refused.
 */
export function appPathSegments(rawPath: string): string[] | undefined {
  if (!rawPath.startsWith(APP_PREFIX + "/")) return undefined;
  const parts = rawPath.slice(APP_PREFIX.length + 1).split("/");
  if (parts.length > MAX_SEGMENTS) return undefined;
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    let seg: string;
    try {
      seg = decodeURIComponent(parts[i]);
    } catch {
      return undefined;
    }
    if (seg === "") {
      if (i === parts.length - 1 && i > 0) {
        out.push("");
        continue;
      }
      return undefined;
    }
    if (seg.startsWith(".")) return undefined;
    // deno-lint-ignore no-control-regex
    if (/[\/\\\x00-\x1f\x7f]/.test(seg)) return undefined;
    out.push(seg);
  }
  return out;
}

/** `child` equals `dir` or lies below it (both canonical absolute paths). */
function isInside(child: string, dir: string): boolean {
  return child === dir || child.startsWith(dir.endsWith("/") ? dir : dir + "/");
}

/** realPath, or undefined when the path does not exist (other errors too: treated as absent). */
async function realPathOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(p);
  } catch {
    return undefined;
  }
}

/** What a lookup found: a regular file's canonical path, a refusal, or nothing. */
type Found = { kind: "file"; path: string } | { kind: "forbidden" } | { kind: "missing" };

/**
 * Resolves `rel` (already-checked segments) under the canonical directory `root`: follows
 * symlinks, refuses anything that ends up outside `root`, and maps a directory to its index.html.
 */
async function lookup(root: string, rel: string[]): Promise<Found> {
  const joined = rel.filter((s) => s !== "").join("/");
  const real = await realPathOrUndefined(joined === "" ? root : `${root}/${joined}`);
  if (real === undefined) return { kind: "missing" };
  if (!isInside(real, root)) return { kind: "forbidden" };
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(real);
  } catch {
    return { kind: "missing" };
  }
  if (st.isDirectory) {
    const idx = await realPathOrUndefined(`${real}/index.html`);
    if (idx === undefined) return { kind: "missing" };
    if (!isInside(idx, root)) return { kind: "forbidden" };
    const ist = await Deno.stat(idx).catch(() => undefined);
    return ist?.isFile ? { kind: "file", path: idx } : { kind: "missing" };
  }
  return st.isFile ? { kind: "file", path: real } : { kind: "missing" };
}

/** Streams a regular file with its content type (HEAD bodies are dropped by Router). */
async function sendFile(c: Context, path: string): Promise<Response> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return sendJson(c, {}, 404);
  }
  const st = await file.stat();
  if (!st.isFile || st.size > MAX_APP_FILE_BYTES) {
    file.close();
    return sendJson(c, {}, st.isFile ? 403 : 404);
  }
  const type = contentTypeFor(path.slice(path.lastIndexOf("/") + 1));
  return new Response(file.readable, {
    status: 200,
    headers: {
      "content-type": type,
      "content-length": String(st.size),
      "x-content-type-options": "nosniff",
      ...(type.startsWith("text/html") ? { "cache-control": "no-cache" } : {}),
    },
  });
}

/** Options of {@link appRoutes}. */
export interface AppServerOptions {
  /** Home directory; apps live in `<home>/app/<name>/`. */
  home: string;
  /** Whether to serve at all (local.conf `settings.enableWebServer`), asked per request. */
  enabled: () => boolean;
}

/**
 * Static single-page apps: `GET|HEAD /app/<name>/<path>` serves `<home>/app/<name>/<path>`; a
 * directory serves its `index.html`; a path that does not exist serves `<home>/app/<name>/
 * index.html` (client-side routing). `/app/<name>` redirects to `/app/<name>/`; a regular file
 * directly in `<home>/app` is served at `/app/<file>`. Unsafe paths (dot segments, encoded
 * slashes, hidden files) -> 400; files whose real path (after symlinks) leaves the app's own
 * directory, or app directories that resolve outside `<home>/app` -> 403; unknown apps, and
 * everything while disabled -> 404 `{}`. No token needed (the API's open `/app` rule, client
 * IP check still applies).
 */
export function appRoutes(o: AppServerOptions): ApiRoutes {
  return (app) => {
    app.get(`${APP_PREFIX}/*`, async (c) => {
      if (!o.enabled()) return sendJson(c, {}, 404);
      const rawPath = new URL(c.req.url).pathname;
      const segs = appPathSegments(rawPath);
      if (segs === undefined || segs.length === 0 || segs[0] === "") {
        return sendJson(c, { error: 400, description: "bad path" }, 400);
      }
      const appsDir = await realPathOrUndefined(`${o.home}/app`);
      if (appsDir === undefined) return sendJson(c, {}, 404);
      const [name, ...rest] = segs;
      const top = await realPathOrUndefined(`${appsDir}/${name}`);
      if (top === undefined) return sendJson(c, {}, 404);
      if (!isInside(top, appsDir) || top === appsDir) return sendJson(c, {}, 403);
      const topStat = await Deno.stat(top).catch(() => undefined);
      if (topStat?.isFile) {
        return rest.length === 0 ? await sendFile(c, top) : sendJson(c, {}, 404);
      }
      if (!topStat?.isDirectory) return sendJson(c, {}, 404);
      if (rest.length === 0) {
        return new Response(null, {
          status: 301,
          headers: { location: `${APP_PREFIX}/${encodeURIComponent(name)}/` },
        });
      }
      const found = await lookup(top, rest);
      if (found.kind === "file") return await sendFile(c, found.path);
      if (found.kind === "forbidden") return sendJson(c, {}, 403);
      const index = await lookup(top, []);
      return index.kind === "file" ? await sendFile(c, index.path) : sendJson(c, {}, 404);
    });
  };
}
