// In-memory controller database (tests, ephemeral controllers).
import type { JsonObject } from "../util/json.ts";
import { CachedStore } from "./store.ts";

/** A {@link ControllerStore} that keeps records only in memory. */
export class MemoryStore extends CachedStore {
  /** Seeds the store with records as they are (no revision bump). */
  constructor(networks: JsonObject[] = [], members: JsonObject[] = []) {
    super();
    for (const n of networks) this.loadNetwork(structuredClone(n));
    for (const m of members) this.loadMember(structuredClone(m));
  }
  protected persistNetwork(): void {}
  protected persistMember(): void {}
  protected removeNetwork(): void {}
  protected removeMember(): void {}
}
