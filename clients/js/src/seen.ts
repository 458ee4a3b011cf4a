// Line ids already delivered. Ids can arrive slightly out of order (a
// moderation notice and a chat line commit independently), so this is a
// set, not a high-water mark; when it grows past its bound the oldest half
// is dropped and everything up to the largest dropped id counts as seen.

export class SeenIds {
  private ids = new Set<number>();
  private floor = 0;

  constructor(private readonly limit = 5000) {}

  /** True the first time `id` is offered, false ever after. */
  first(id: number): boolean {
    if (id <= this.floor || this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.limit) {
      for (const old of this.ids) {
        this.ids.delete(old);
        if (old > this.floor) this.floor = old;
        if (this.ids.size <= this.limit / 2) break;
      }
    }
    return true;
  }
}
