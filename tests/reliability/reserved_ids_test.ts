// Reserved and foreign addresses/IDs are refused with a clear error on a real zt: foreign network ids, reserved member addresses, moons, orbit, join.
import assert from "node:assert/strict";
import { api, CLI, makeLabHome, spawnZt, waitUp } from "./ops_lab.ts";

/** Runs `zt <args>` against the lab home; returns exit status and output. */
async function zt(home: string, args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args, "-D", home],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout) + d.decode(r.stderr) };
}

Deno.test("reserved and foreign ids are refused with a clear error (API and CLI)", async () => {
  const h = makeLabHome("zt-rel-ids-");
  const p = spawnZt(h.home);
  try {
    await waitUp(p, h.port);
    const own = `${h.address}000001`;
    const cases: [string, string, unknown, RegExp][] = [
      ["POST", "/controller/network/ffffffffffffffff", {}, /not under this controller's address/],
      ["POST", "/controller/network/0000000000000001", {}, /not under this controller's address/],
      ["POST", "/moon/0000000000", { seed: "1234567890" }, /reserved/],
      ["POST", "/moon/ff00000001", { seed: "1234567890" }, /reserved/],
      ["POST", "/moon/1234567890", { seed: "ffffffffff" }, /not a reserved address/],
      ["POST", "/network/ffffffffffffffff", {}, /controller address ffffffffff is reserved/],
      ["POST", "/network/000000000000abcd", {}, /controller address 0000000000 is reserved/],
    ];
    for (const [m, path, body, re] of cases) {
      const r = await api(h.port, m, path, body);
      assert.equal(r.status, 400, `${m} ${path}: ${r.text}`);
      assert.match(r.text, re, path);
    }
    assert.equal((await api(h.port, "GET", "/network")).text, "[]", "nothing joined");
    assert.equal((await api(h.port, "GET", "/moon")).text, "[]", "no moon");
    assert.equal((await api(h.port, "GET", "/controller/network")).text, "[]", "no network");

    assert.equal((await api(h.port, "POST", `/controller/network/${own}`, {})).status, 200);
    for (const a of ["0000000000", "ff00000001", "ffffffffff"]) {
      const r = await api(h.port, "POST", `/controller/network/${own}/member/${a}`, {
        authorized: true,
      });
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, new RegExp(`address: ${a} is reserved`));
    }
    assert.deepEqual((await api(h.port, "GET", `/controller/network/${own}/member`)).json, {});

    const orbit = await zt(h.home, ["orbit", "ffffffffff", "1234567890"]);
    assert.equal(orbit.code, 1);
    assert.match(orbit.out, /invalid world id "ffffffffff".*reserved/);
    const seed = await zt(h.home, ["orbit", "1234567890", "ff00000000"]);
    assert.equal(seed.code, 1);
    assert.match(seed.out, /invalid seed "ff00000000"/);
    const join = await zt(h.home, ["join", "ffffffffffffffff"]);
    assert.equal(join.code, 1);
    assert.match(join.out, /cannot be joined: its controller address ffffffffff is reserved/);
    assert.equal((await api(h.port, "GET", "/network")).text, "[]");
  } finally {
    p.kill9();
    await p.done;
    h.remove();
  }
});
