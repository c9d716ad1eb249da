/**
 * The stores a command opened, closed once it ends, however it ends: their
 * connections, and what they keep to make the next command faster (the S3
 * store's metadata cache).
 */
import type { Store } from "./store.ts";

const open = new Set<Store>();

/** Notes `store` as open; returns it. */
export function opened<T extends Store>(store: T): T {
  open.add(store);
  return store;
}

/** Closes every open store; a store that fails to close is only left as it is. */
export async function closeStores(): Promise<void> {
  const stores = [...open];
  open.clear();
  await Promise.allSettled(stores.map((store) => store.close?.()));
}
