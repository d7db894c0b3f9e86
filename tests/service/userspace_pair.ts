// Test helper: two UserspaceNets whose ports are wired back to back (frames delivered asynchronously), with managed addresses 198.19.0.1/16 and 198.19.0.2/16.
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { UserspaceNet, type UserspaceTap } from "../../src/service/userspace_net.ts";

const POLICY = { allowManaged: true, allowGlobal: false, allowDefault: false };

/** Two connected userspace networks. */
export interface Pair {
  a: UserspaceNet;
  b: UserspaceNet;
  ta: UserspaceTap;
  tb: UserspaceTap;
  close(): Promise<void>;
}

/** Builds the pair (MTU 2800 as ZeroTier networks). `lossEvery` drops every Nth frame a→b. */
export async function userspacePair(lossEvery = 0): Promise<Pair> {
  const a = new UserspaceNet();
  const b = new UserspaceNet();
  const ta = a.createTap() as UserspaceTap;
  const tb = b.createTap() as UserspaceTap;
  await ta.open("usA", 0x02_11_22_33_44_01, 2800);
  await tb.open("usB", 0x02_11_22_33_44_02, 2800);
  let n = 0;
  let closed = false;
  ta.onFrame((f) => {
    if (lossEvery && ++n % lossEvery === 0) return;
    const copy = f.slice();
    setTimeout(() => !closed && tb.write(copy), 0);
  });
  tb.onFrame((f) => {
    const copy = f.slice();
    setTimeout(() => !closed && ta.write(copy), 0);
  });
  await ta.syncManaged([InetAddress.parse("198.19.0.1/16")!], [], POLICY);
  await tb.syncManaged([InetAddress.parse("198.19.0.2/16")!], [], POLICY);
  return {
    a,
    b,
    ta,
    tb,
    close: async () => {
      closed = true;
      await ta.close();
      await tb.close();
    },
  };
}
