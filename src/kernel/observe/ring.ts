// A ring buffer of records, as ftrace's and printk's: it keeps the newest `capacity`, and counts
// every record it was given.
export class Ring<T> {
  /** grows to `capacity`, then wraps at `head` */
  private readonly items: T[] = [];
  private head = 0;
  /** records pushed since boot, including those dropped */
  total = 0;

  constructor(readonly capacity: number) {}

  push(r: T): void {
    if (this.items.length < this.capacity) this.items.push(r);
    else this.items[this.head] = r;
    this.head = (this.head + 1) % this.capacity;
    this.total++;
  }

  /** The newest `n` records (or all kept), oldest first. */
  records(n = this.capacity): T[] {
    const kept = Math.min(this.total, this.capacity, n);
    const out: T[] = [];
    for (let i = kept; i > 0; i--)
      out.push(this.items[(this.head - i + this.capacity) % this.capacity]!);
    return out;
  }
}
