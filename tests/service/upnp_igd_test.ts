// Tests of the UPnP IGD client (src/service/upnp_igd.ts) against a fake gateway on loopback: SSDP
// answered unicast, the device description, AddPortMapping / GetExternalIPAddress /
// DeletePortMapping as SOAP; error 725 falls back to a permanent lease; XML helpers.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import {
  escapeXml,
  findIgd,
  igdServiceOf,
  upnpAddUdpMapping,
  upnpDeleteUdpMapping,
  upnpExternalIp,
  xmlText,
} from "../../src/service/upnp_igd.ts";

const SERVICE = "urn:schemas-upnp-org:service:WANIPConnection:1";

function description(controlPath: string): string {
  return `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><device>
 <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
 <serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>
  <controlURL>/l3f</controlURL></service></serviceList>
 <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
  <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
   <serviceList><service><serviceType>${SERVICE}</serviceType>
    <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
    <controlURL>${controlPath}</controlURL></service></serviceList>
  </device></deviceList></device></deviceList>
</device></root>`;
}

interface Call {
  action: string;
  soapAction: string;
  args: Record<string, string>;
}

/** A fake IGD: SSDP on a loopback UDP port, HTTP on a loopback TCP port. */
async function fakeGateway(opts: { permanentOnly?: boolean } = {}) {
  const calls: Call[] = [];
  const searches: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname === "/rootDesc.xml") {
      return new Response(description("/ctl/IPConn"), { headers: { "content-type": "text/xml" } });
    }
    if (req.method === "POST" && url.pathname === "/ctl/IPConn") {
      const body = await req.text();
      const action = /<u:(\w+) /.exec(body)?.[1] ?? "";
      const args: Record<string, string> = {};
      for (const m of body.matchAll(/<(New\w+)>([^<]*)<\/\1>/g)) args[m[1]] = m[2];
      calls.push({ action, soapAction: req.headers.get("soapaction") ?? "", args });
      if (action === "AddPortMapping" && opts.permanentOnly && args.NewLeaseDuration !== "0") {
        return new Response(
          `<s:Envelope><s:Body><s:Fault><detail><UPnPError><errorCode>725</errorCode>` +
            `<errorDescription>OnlyPermanentLeasesSupported</errorDescription></UPnPError>` +
            `</detail></s:Fault></s:Body></s:Envelope>`,
          { status: 500 },
        );
      }
      const out = action === "GetExternalIPAddress"
        ? "<NewExternalIPAddress>192.0.0.99</NewExternalIPAddress>"
        : "";
      return new Response(
        `<?xml version="1.0"?><s:Envelope><s:Body><u:${action}Response xmlns:u="${SERVICE}">` +
          `${out}</u:${action}Response></s:Body></s:Envelope>`,
        { headers: { "content-type": "text/xml" } },
      );
    }
    return new Response("no", { status: 404 });
  });
  const httpPort = (server.addr as Deno.NetAddr).port;
  const ssdp = dgram.createSocket({ type: "udp4" });
  ssdp.on("message", (m: Uint8Array, r: dgram.RemoteInfo) => {
    const text = new TextDecoder().decode(m);
    searches.push(text);
    if (!text.startsWith("M-SEARCH")) return;
    const st = /^ST: (.*)$/m.exec(text)?.[1]?.trim();
    if (st !== "urn:schemas-upnp-org:device:InternetGatewayDevice:1") return;
    ssdp.send(
      new TextEncoder().encode(
        `HTTP/1.1 200 OK\r\nST: ${st}\r\nLOCATION: http://127.0.0.1:${httpPort}/rootDesc.xml\r\n` +
          "USN: uuid:x::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n",
      ),
      r.port,
      r.address,
    );
  });
  await new Promise<void>((res) => ssdp.bind(0, "127.0.0.1", () => res()));
  return {
    calls,
    searches,
    target: { host: "127.0.0.1", port: ssdp.address().port },
    async close() {
      ssdp.close();
      await server.shutdown();
    },
  };
}

Deno.test("UPnP IGD: SSDP, description, map, external address, delete (fake gateway)", async () => {
  const gw = await fakeGateway();
  try {
    const signal = AbortSignal.timeout(8000);
    const svc = await findIgd("127.0.0.1", signal, gw.target);
    assert.equal(svc.serviceType, SERVICE);
    assert.match(svc.controlUrl, /^http:\/\/127\.0\.0\.1:\d+\/ctl\/IPConn$/);
    assert.ok(gw.searches.some((s) => s.includes('MAN: "ssdp:discover"')));
    await upnpAddUdpMapping(svc, "10.1.2.3", 34567, 240, "ZeroTier/0123456789@34567 <&>", signal);
    assert.equal(await upnpExternalIp(svc, signal), "192.0.0.99");
    await upnpDeleteUdpMapping(svc, 34567, signal);
    assert.deepEqual(gw.calls.map((c) => c.action), [
      "AddPortMapping",
      "GetExternalIPAddress",
      "DeletePortMapping",
    ]);
    assert.equal(gw.calls[0].soapAction, `"${SERVICE}#AddPortMapping"`);
    assert.deepEqual(gw.calls[0].args, {
      NewRemoteHost: "",
      NewExternalPort: "34567",
      NewProtocol: "UDP",
      NewInternalPort: "34567",
      NewInternalClient: "10.1.2.3",
      NewEnabled: "1",
      NewPortMappingDescription: "ZeroTier/0123456789@34567 &lt;&amp;&gt;",
      NewLeaseDuration: "240",
    });
    assert.deepEqual(gw.calls[2].args, {
      NewRemoteHost: "",
      NewExternalPort: "34567",
      NewProtocol: "UDP",
    });
  } finally {
    await gw.close();
  }
});

Deno.test("UPnP IGD: a gateway with permanent leases only (725) gets lease 0", async () => {
  const gw = await fakeGateway({ permanentOnly: true });
  try {
    const signal = AbortSignal.timeout(8000);
    const svc = await findIgd("127.0.0.1", signal, gw.target);
    await upnpAddUdpMapping(svc, "10.1.2.3", 34567, 240, "d", signal);
    assert.deepEqual(gw.calls.map((c) => c.args.NewLeaseDuration), ["240", "0"]);
  } finally {
    await gw.close();
  }
});

Deno.test("UPnP IGD: no answer to SSDP ends with the signal; refusals name the UPnP error", async () => {
  const silent = dgram.createSocket({ type: "udp4" });
  await new Promise<void>((res) => silent.bind(0, "127.0.0.1", () => res()));
  try {
    await assert.rejects(
      findIgd("127.0.0.1", AbortSignal.timeout(300), {
        host: "127.0.0.1",
        port: silent.address().port,
      }),
    );
  } finally {
    silent.close();
  }
  const gw = await fakeGateway();
  try {
    const svc = await findIgd("127.0.0.1", AbortSignal.timeout(8000), gw.target);
    const bad = { ...svc, controlUrl: svc.controlUrl.replace("/ctl/IPConn", "/nope") };
    await assert.rejects(
      upnpExternalIp(bad, AbortSignal.timeout(8000)),
      /GetExternalIPAddress: HTTP 404/,
    );
  } finally {
    await gw.close();
  }
});

Deno.test("UPnP IGD: XML helpers — prefixes, entities, URLBase, PPP fallback", () => {
  assert.equal(xmlText("<a:x attr='1'> v &amp; &#65;&#x42; </a:x>", "x"), "v & AB");
  assert.equal(xmlText("<y>1</y>", "x"), undefined);
  assert.equal(escapeXml(`<a & "b" 'c'>`), "&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;");
  const ppp = `<root><URLBase>http://10.0.0.1:5000/</URLBase><service>
    <serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType>
    <controlURL>ctl/ppp</controlURL></service></root>`;
  assert.deepEqual(igdServiceOf("http://10.0.0.1:1900/desc.xml", ppp), {
    serviceType: "urn:schemas-upnp-org:service:WANPPPConnection:1",
    controlUrl: "http://10.0.0.1:5000/ctl/ppp",
  });
  assert.equal(igdServiceOf("http://10.0.0.1/", "<root></root>"), undefined);
});
