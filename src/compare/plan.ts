// What a comparison runs: variants (policy sets) × seeds, in a fixed order, optionally a shard
// of it (issue #7). A run's result depends only on its key, never on workers or shards.
import type { KernelVersion, Policies } from '../kernel/config.js';
import { UsageError } from '../usage-error.js';

export interface Variant {
  /** as the user wrote it, e.g. 'teePin=v2-longterm,teeAccounting=io_uring' */
  name: string;
  policies: Partial<Policies>;
  version?: KernelVersion;
}

export interface PlannedRun {
  variant: number;
  seed: number;
}

/** The four positions of the 2023 thread "tee: add FOLL_LONGTERM for CMA case when alloc shm". */
export const THREAD_VARIANTS = [
  'teePin=upstream',
  'teePin=v1-cma-ifdef',
  'teePin=v2-longterm',
  'teePin=v2-longterm,teeAccounting=io_uring',
];

/** The most runs one comparison plans, all shards together (1..1e20 must not become an array). */
export const MAX_RUNS = 100_000;

/** '1..50', '7', '1,2,5' or '1..3,7': each seed once */
export function parseSeeds(spec: string): number[] {
  const invalid = (why = 'expected a range such as 1..50, a list such as 1,2,5, or both: 1..3,7') =>
    new UsageError(`invalid --seeds '${spec}': ${why}`);
  const seeds: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)(?:\.\.(\d+))?\s*$/.exec(part);
    if (!m) throw invalid();
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (seeds.length + to - from + 1 > MAX_RUNS) throw invalid(`at most ${MAX_RUNS} seeds`);
    if (!Number.isSafeInteger(to) || to < from) throw invalid();
    for (let s = from; s <= to; s++) seeds.push(s);
  }
  const seen = new Set<number>();
  for (const s of seeds) {
    if (seen.has(s)) throw invalid(`seed ${s} is given twice`);
    seen.add(s);
  }
  return seeds;
}

/** 'i/n' with 0 <= i < n */
export function parseShard(spec: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count)
    throw new UsageError(`invalid --shard '${spec}': expected i/n with 0 <= i < n, e.g. 0/4`);
  return { index, count };
}

/** Every (variant, seed), variant-major; a shard takes every n-th run starting at i (never none). */
export function plan(
  variants: number,
  seeds: readonly number[],
  shard = { index: 0, count: 1 },
): PlannedRun[] {
  const total = variants * seeds.length;
  if (total > MAX_RUNS) {
    throw new UsageError(
      `${variants} variants × ${seeds.length} seeds make ${total} runs: at most ${MAX_RUNS}`,
    );
  }
  if (shard.count > total) {
    throw new UsageError(
      `invalid --shard '${shard.index}/${shard.count}': ${total} runs make at most ${total} shards`,
    );
  }
  const runs: PlannedRun[] = [];
  for (let v = 0; v < variants; v++) for (const seed of seeds) runs.push({ variant: v, seed });
  return runs.filter((_, i) => i % shard.count === shard.index);
}
