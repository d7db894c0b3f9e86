// UPnP IGD client for the port mapper: SSDP discovery, the device description's WAN*Connection
// service, and AddPortMapping / GetExternalIPAddress / DeletePortMapping over SOAP (HTTP/1.1).
//
// Just what mapping one UDP port needs (UPnP Device Architecture 1.0, WANIPConnection:1/2).
// HTTP goes over a plain Deno.connect (a gateway on the LAN: no proxy, no TLS), bodies bounded.
import { udpExchange } from "./nat_pmp.ts";
import { concatBytes } from "../util/bytes.ts";

/** The SSDP multicast group and port. */
export const SSDP_ADDRESS = "239.255.255.250";
export const SSDP_PORT = 1900;
/** Largest description or SOAP answer read. */
const MAX_HTTP_BYTES = 256 * 1024;

const SEARCH_TARGETS = [
  "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
  "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
  "urn:schemas-upnp-org:service:WANIPConnection:1",
  "urn:schemas-upnp-org:service:WANIPConnection:2",
];

/** A gateway's port mapping service. */
export interface IgdService {
  /** The service type, e.g. urn:schemas-upnp-org:service:WANIPConnection:1. */
  serviceType: string;
  /** Absolute control URL. */
  controlUrl: string;
}

/**
 * Sends SSDP M-SEARCHes (again every second) from `localIp` to `target` (the multicast group by
 * default) and resolves with the first LOCATION answered. Rejects when `signal` ends.
 */
export function ssdpDiscover(
  localIp: string,
  signal: AbortSignal,
  target = { host: SSDP_ADDRESS, port: SSDP_PORT },
): Promise<string> {
  return udpExchange<string>({
    bindAddress: localIp,
    bound: (sock) => {
      try {
        if (target.host === SSDP_ADDRESS) {
          sock.setMulticastInterface(localIp);
          sock.setMulticastTTL(2);
        }
      } catch {
        // the default interface then
      }
    },
    send: (sock) => {
      for (const st of SEARCH_TARGETS) {
        const msg = "M-SEARCH * HTTP/1.1\r\n" +
          `HOST: ${SSDP_ADDRESS}:${SSDP_PORT}\r\n` +
          'MAN: "ssdp:discover"\r\n' +
          "MX: 2\r\n" +
          `ST: ${st}\r\n\r\n`;
        sock.send(new TextEncoder().encode(msg), target.port, target.host);
      }
      return 1000;
    },
    answer: (m) => {
      const text = new TextDecoder("latin1").decode(m);
      if (!/^HTTP\/1\.[01] 200/i.test(text)) return undefined;
      const loc = /^location:[ \t]*(\S+)[ \t]*$/im.exec(text)?.[1];
      return loc && /^http:\/\//i.test(loc) ? loc : undefined;
    },
  }, signal);
}

/** An HTTP/1.1 answer. */
export interface HttpAnswer {
  status: number;
  body: string;
}

/** Decodes a chunked transfer-encoded body. */
function unchunk(b: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let i = 0;
  for (;;) {
    let eol = i;
    while (eol + 1 < b.length && !(b[eol] === 13 && b[eol + 1] === 10)) eol++;
    if (eol + 1 >= b.length) break;
    const size = parseInt(new TextDecoder().decode(b.subarray(i, eol)).split(";")[0], 16);
    if (!Number.isFinite(size) || size <= 0) break;
    parts.push(b.subarray(eol + 2, Math.min(b.length, eol + 2 + size)));
    i = eol + 2 + size + 2;
    if (i >= b.length) break;
  }
  return concatBytes(parts);
}

/**
 * One HTTP/1.1 request to a LAN gateway (`Connection: close`, the answer read to its end, at
 * most 256 KiB). Rejects on a malformed answer or when `signal` ends.
 */
export async function httpRequest(
  url: string,
  method: "GET" | "POST",
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
): Promise<HttpAnswer> {
  signal.throwIfAborted();
  const u = new URL(url);
  if (u.protocol !== "http:") throw new Error(`UPnP: not an http URL: ${url}`);
  const conn = await Deno.connect({
    hostname: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port || 80),
  });
  const onAbort = () => {
    try {
      conn.close();
    } catch {
      // closed
    }
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const bodyBytes = new TextEncoder().encode(body ?? "");
    let head = `${method} ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n` +
      "Connection: close\r\nUser-Agent: zt UPnP/1.1\r\n";
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    if (method === "POST") head += `Content-Length: ${bodyBytes.length}\r\n`;
    head += "\r\n";
    const req = new Uint8Array([...new TextEncoder().encode(head), ...bodyBytes]);
    for (let off = 0; off < req.length;) off += await conn.write(req.subarray(off));
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buf = new Uint8Array(16384);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      total += n;
      if (total > MAX_HTTP_BYTES) throw new Error("UPnP: answer too large");
      chunks.push(buf.slice(0, n));
    }
    signal.throwIfAborted();
    const all = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) {
      all.set(c, o);
      o += c.length;
    }
    let end = -1;
    for (let i = 0; i + 3 < all.length; i++) {
      if (all[i] === 13 && all[i + 1] === 10 && all[i + 2] === 13 && all[i + 3] === 10) {
        end = i;
        break;
      }
    }
    if (end < 0) throw new Error("UPnP: malformed HTTP answer");
    const headText = new TextDecoder("latin1").decode(all.subarray(0, end));
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(headText);
    if (!status) throw new Error("UPnP: malformed HTTP status line");
    let rest: Uint8Array = all.subarray(end + 4);
    if (/^transfer-encoding:[ \t]*chunked/im.test(headText)) rest = unchunk(rest);
    else {
      const len = /^content-length:[ \t]*(\d+)/im.exec(headText);
      if (len) rest = rest.subarray(0, Number(len[1]));
    }
    return { status: Number(status[1]), body: new TextDecoder().decode(rest) };
  } finally {
    signal.removeEventListener("abort", onAbort);
    try {
      conn.close();
    } catch {
      // closed
    }
  }
}

/** The text of the first `<tag>` element (namespace prefix ignored), XML entities decoded. */
export function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<(?:[\\w.-]+:)?${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[\\w.-]+:)?${tag}>`)
    .exec(xml);
  return m ? unescapeXml(m[1].trim()) : undefined;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    switch (e) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
    }
    const cp = e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : "";
  });
}

/** `s` escaped for XML text. */
export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]};`,
  );
}

/**
 * The WANIPConnection (preferred) or WANPPPConnection service of a device description at
 * `location`, with its control URL made absolute.
 */
export function igdServiceOf(location: string, description: string): IgdService | undefined {
  const base = xmlText(description, "URLBase") || location;
  const services =
    description.match(/<(?:[\w.-]+:)?service(?:\s[^>]*)?>[\s\S]*?<\/(?:[\w.-]+:)?service>/g) ?? [];
  let found: IgdService | undefined;
  for (const s of services) {
    const type = xmlText(s, "serviceType") ?? "";
    const control = xmlText(s, "controlURL");
    if (!control || !/:service:WAN(IP|PPP)Connection:\d+$/.test(type)) continue;
    let url: string;
    try {
      url = new URL(control, base).href;
    } catch {
      continue;
    }
    const svc = { serviceType: type, controlUrl: url };
    if (type.includes("WANIPConnection")) return svc;
    found ??= svc;
  }
  return found;
}

/** Calls SOAP action `action` of `svc` with `args`; the answer's body, or throws the UPnP error. */
export async function soapCall(
  svc: IgdService,
  action: string,
  args: [string, string | number][],
  signal: AbortSignal,
): Promise<string> {
  const body = '<?xml version="1.0"?>\r\n' +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ' +
    's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>' +
    `<u:${action} xmlns:u="${escapeXml(svc.serviceType)}">` +
    args.map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`).join("") +
    `</u:${action}></s:Body></s:Envelope>\r\n`;
  const r = await httpRequest(
    svc.controlUrl,
    "POST",
    {
      "Content-Type": 'text/xml; charset="utf-8"',
      "SOAPAction": `"${svc.serviceType}#${action}"`,
    },
    body,
    signal,
  );
  if (r.status !== 200) {
    const code = xmlText(r.body, "errorCode");
    const desc = xmlText(r.body, "errorDescription");
    throw new UpnpError(
      `UPnP ${action}: HTTP ${r.status}${code ? `, error ${code}` : ""}${desc ? ` (${desc})` : ""}`,
      code === undefined ? undefined : Number(code),
    );
  }
  return r.body;
}

/** A refusal from the gateway, with the UPnP error code when it sent one. */
export class UpnpError extends Error {
  constructor(message: string, readonly code?: number) {
    super(message);
    this.name = "UpnpError";
  }
}

/** Finds the gateway's port mapping service by SSDP from `localIp`. */
export async function findIgd(
  localIp: string,
  signal: AbortSignal,
  target?: { host: string; port: number },
): Promise<IgdService> {
  const location = await ssdpDiscover(localIp, signal, target);
  const d = await httpRequest(location, "GET", {}, undefined, signal);
  if (d.status !== 200) throw new Error(`UPnP: device description: HTTP ${d.status}`);
  const svc = igdServiceOf(location, d.body);
  if (!svc) throw new Error("UPnP: the gateway has no WANIPConnection service");
  return svc;
}

/** The gateway's external IPv4 address. */
export async function upnpExternalIp(svc: IgdService, signal: AbortSignal): Promise<string> {
  const body = await soapCall(svc, "GetExternalIPAddress", [], signal);
  return xmlText(body, "NewExternalIPAddress") ?? "";
}

/**
 * Maps UDP `port` (same external port) to `localIp` for `leaseS` seconds; a gateway that only
 * supports permanent leases (error 725) gets lease 0 (removed when the node stops).
 */
export async function upnpAddUdpMapping(
  svc: IgdService,
  localIp: string,
  port: number,
  leaseS: number,
  description: string,
  signal: AbortSignal,
): Promise<void> {
  const args = (lease: number): [string, string | number][] => [
    ["NewRemoteHost", ""],
    ["NewExternalPort", port],
    ["NewProtocol", "UDP"],
    ["NewInternalPort", port],
    ["NewInternalClient", localIp],
    ["NewEnabled", 1],
    ["NewPortMappingDescription", description],
    ["NewLeaseDuration", lease],
  ];
  try {
    await soapCall(svc, "AddPortMapping", args(leaseS), signal);
  } catch (e) {
    if (!(e instanceof UpnpError) || e.code !== 725) throw e;
    await soapCall(svc, "AddPortMapping", args(0), signal);
  }
}

/** Removes the UDP mapping of `port`. */
export async function upnpDeleteUdpMapping(
  svc: IgdService,
  port: number,
  signal: AbortSignal,
): Promise<void> {
  await soapCall(svc, "DeletePortMapping", [
    ["NewRemoteHost", ""],
    ["NewExternalPort", port],
    ["NewProtocol", "UDP"],
  ], signal);
}
