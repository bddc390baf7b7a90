// Failures counted since boot by a set of label values, for the blame families of the Prometheus
// formats (docs/snapshot.md "Metric names"). The number of sets is bounded: the first
// MAX_LABEL_SETS distinct sets keep their own count; a failure with a set not seen before, once
// that many exist, counts under the set whose every value is OTHER.
export const MAX_LABEL_SETS = 32;
export const OTHER = 'other';

export class LabelTally {
  private readonly counts = new Map<string, { labels: readonly string[]; count: number }>();

  add(labels: readonly string[]): void {
    let key = labels.join('\u0000');
    if (!this.counts.has(key) && this.counts.size >= MAX_LABEL_SETS) {
      labels = labels.map(() => OTHER);
      key = labels.join('\u0000');
    }
    const e = this.counts.get(key) ?? { labels, count: 0 };
    e.count++;
    this.counts.set(key, e);
  }

  /** Every label set with its count, in first-seen order. */
  entries(): { labels: readonly string[]; count: number }[] {
    return [...this.counts.values()].map((e) => ({ labels: e.labels, count: e.count }));
  }
}
