// Tests for src/service/resolv_conf.ts: the managed block, exact restoration (also of random files), in-place writes, the record.
import assert from "node:assert/strict";
import {
  BLOCK_BEGIN,
  BLOCK_END,
  DISABLED_PREFIX,
  hostFileGuard,
  parseRecord,
  ResolvConfFile,
  stripManaged,
  withManaged,
} from "../../src/service/resolv_conf.ts";
import { seededRandom } from "../helpers/seeded_random.ts";

const HOST =
  "# host file\nnameserver 198.18.0.53\nsearch corp.example lab.example\noptions ndots:1\n";

Deno.test("withManaged: our servers first, our domain then the file's own, own search disabled", () => {
  const t = withManaged(HOST, [{ domain: "zt.example", servers: ["198.19.1.1", "fd00::1"] }]);
  assert.equal(
    t,
    [
      BLOCK_BEGIN,
      "nameserver 198.19.1.1",
      "nameserver fd00::1",
      "search zt.example corp.example lab.example",
      BLOCK_END,
      "# host file",
      "nameserver 198.18.0.53",
      DISABLED_PREFIX + "search corp.example lab.example",
      "options ndots:1",
      "",
    ].join("\n"),
  );
  assert.equal(stripManaged(t), HOST);
  // applying again replaces the block, never stacks it
  const t2 = withManaged(t, [{ domain: "other.example", servers: ["198.19.2.1"] }]);
  assert.equal(t2.split(BLOCK_BEGIN).length, 2);
  assert.ok(t2.includes("search other.example corp.example lab.example"));
  assert.equal(stripManaged(t2), HOST);
  assert.equal(withManaged(t2, []), HOST);
});

Deno.test("withManaged: room for one of the file's own servers (glibc reads three)", () => {
  const four = [{ domain: "zt.example", servers: ["198.19.1.1", "198.19.1.2", "198.19.1.3"] }];
  const t = withManaged(HOST, four);
  assert.equal(
    t.split("\n").filter((l) => l.startsWith("nameserver")).slice(0, 3).join(","),
    [
      "nameserver 198.19.1.1",
      "nameserver 198.19.1.2",
      "nameserver 198.18.0.53",
    ].join(","),
  );
  const alone = withManaged("", four);
  assert.equal(alone.split("\n").filter((l) => l.startsWith("nameserver")).length, 3);
});

Deno.test("withManaged: two networks, no domain, empty file, no trailing newline", () => {
  const t = withManaged("nameserver 1.2.3.4", [
    { domain: "a.example", servers: ["198.19.1.1"] },
    { domain: "", servers: ["198.19.2.1", "198.19.1.1"] },
  ]);
  assert.equal(
    t,
    `${BLOCK_BEGIN}\nnameserver 198.19.1.1\nnameserver 198.19.2.1\nsearch a.example\n${BLOCK_END}\nnameserver 1.2.3.4`,
  );
  assert.equal(stripManaged(t), "nameserver 1.2.3.4");
  const e = withManaged("", [{ domain: "", servers: ["198.19.1.1"] }]);
  assert.equal(stripManaged(e), "");
});

Deno.test("stripManaged(withManaged(x)) === x for random files", () => {
  const rnd = seededRandom(3);
  const pieces = [
    "nameserver 10.0.0.1",
    "search a b",
    "domain x",
    " search y",
    "#c",
    "",
    "options x",
    "\t",
    "searchy",
  ];
  for (let i = 0; i < 500; i++) {
    const r = rnd(8);
    const lines: string[] = [];
    for (let k = 0; k < r[0] % 8; k++) lines.push(pieces[r[k + 1] % pieces.length]);
    const text = lines.join(r[7] & 1 ? "\n" : "\r\n");
    const out = withManaged(text, [{ domain: "zt.example", servers: ["198.19.1.1"] }]);
    assert.equal(stripManaged(out), text);
    assert.ok(out.startsWith(BLOCK_BEGIN + "\nnameserver 198.19.1.1\n"));
  }
});

Deno.test("ResolvConfFile: in place (same inode), record in the home, exact restore", () => {
  const dir = Deno.makeTempDirSync({ prefix: "zt-resolv-" });
  try {
    const path = `${dir}/resolv.conf`;
    const record = `${dir}/home/rec.json`;
    Deno.mkdirSync(`${dir}/home`);
    Deno.writeTextFileSync(path, HOST);
    const ino = Deno.statSync(path).ino;
    const f = new ResolvConfFile(path, record);
    f.apply([{ domain: "zt.example", servers: ["198.19.1.1"] }]);
    assert.equal(Deno.statSync(path).ino, ino);
    assert.ok(Deno.readTextFileSync(path).startsWith(BLOCK_BEGIN));
    const rec = parseRecord(Deno.readTextFileSync(record))!;
    assert.equal(rec.original, HOST);
    assert.equal(rec.written, Deno.readTextFileSync(path));
    // a second apply keeps the first original
    f.apply([{ domain: "zt.example", servers: ["198.19.1.1", "198.19.1.2"] }]);
    assert.equal(parseRecord(Deno.readTextFileSync(record))!.original, HOST);
    assert.equal(f.restore(), "exact");
    assert.equal(Deno.readTextFileSync(path), HOST);
    assert.equal(Deno.statSync(path).ino, ino);
    assert.throws(() => Deno.statSync(record), Deno.errors.NotFound);
    assert.equal(f.restore(), "none");
    assert.equal(Deno.readTextFileSync(path), HOST);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ResolvConfFile: edited by someone else meanwhile: only our lines go", () => {
  const dir = Deno.makeTempDirSync({ prefix: "zt-resolv-" });
  try {
    const path = `${dir}/resolv.conf`;
    Deno.writeTextFileSync(path, HOST);
    const f = new ResolvConfFile(path, `${dir}/rec.json`);
    f.apply([{ domain: "zt.example", servers: ["198.19.1.1"] }]);
    Deno.writeTextFileSync(path, Deno.readTextFileSync(path) + "nameserver 9.9.9.9\n");
    assert.equal(f.restore(), "stripped");
    assert.equal(Deno.readTextFileSync(path), HOST + "nameserver 9.9.9.9\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parseRecord: malformed records are ignored", () => {
  assert.equal(parseRecord(undefined), undefined);
  assert.equal(parseRecord("{"), undefined);
  assert.equal(parseRecord('{"path":1,"original":"","written":""}'), undefined);
  assert.deepEqual(parseRecord('{"path":"/x","original":"a","written":"b"}'), {
    path: "/x",
    original: "a",
    written: "b",
  });
});

Deno.test("hostFileGuard: never the host's file from inside another network namespace", () => {
  const mount =
    "88 67 254:0 /etc/netns/x/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw\n";
  const base = { selfNet: "net:[1]", initNet: undefined, mountinfo: "", netnsName: undefined };
  assert.equal(hostFileGuard("/etc/resolv.conf", base), undefined); // the host itself
  assert.match(
    hostFileGuard("/etc/resolv.conf", { ...base, netnsName: "x" })!,
    /namespace x has no resolv\.conf of its own.*\/etc\/netns\/x\/resolv\.conf/,
  );
  assert.equal(
    hostFileGuard("/etc/resolv.conf", { ...base, netnsName: "x", mountinfo: mount }),
    undefined,
  );
  assert.ok(hostFileGuard("/etc/resolv.conf", { ...base, initNet: "net:[2]" }));
  assert.equal(hostFileGuard("/etc/resolv.conf", { ...base, initNet: "net:[1]" }), undefined);
  assert.equal(hostFileGuard("/tmp/x/resolv.conf", { ...base, netnsName: "x" }), undefined);
});
