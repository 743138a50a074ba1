/** A least-recently-used cache bounded by entry count and by a total cost (e.g. bytes). */
export class LruCache<V> {
  private readonly map = new Map<string, { value: V; cost: number }>();
  private total = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxCost = Infinity,
  ) {}

  get(key: string): V | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key);
    this.map.set(key, hit);
    return hit.value;
  }

  set(key: string, value: V, cost = 1): void {
    const old = this.map.get(key);
    if (old) {
      this.total -= old.cost;
      this.map.delete(key);
    }
    // an entry bigger than the whole budget is not kept
    if (cost > this.maxCost) return;
    this.map.set(key, { value, cost });
    this.total += cost;
    for (const [k, e] of this.map) {
      if (this.map.size <= this.maxEntries && this.total <= this.maxCost) break;
      this.map.delete(k);
      this.total -= e.cost;
    }
  }

  delete(key: string): void {
    const old = this.map.get(key);
    if (!old) return;
    this.total -= old.cost;
    this.map.delete(key);
  }

  /** Drop every entry whose key starts with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const key of [...this.map.keys()]) if (key.startsWith(prefix)) this.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }

  get size(): number {
    return this.map.size;
  }

  get cost(): number {
    return this.total;
  }
}
