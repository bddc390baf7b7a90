// `compare --merge`: the records of shards joined, each run once (issue #13). Every line must be
// a record; a run found twice must be the same run (a shard given twice, overlapping shards);
// all records must come from one comparison: one workload, each variant at one position.
import { readFileSync } from 'node:fs';
import { UsageError } from '../usage-error.js';
import type { RunRecord } from './record.js';

/** A record and the line it was read from (`file:line`). */
interface Read {
  record: RunRecord;
  at: string;
  json: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const COUNTERS = ['cma_alloc_success', 'cma_alloc_fail', 'pgmigrate_success', 'memlock_denied'];

/** What keeps `v` from being a RunRecord, if anything. */
function problem(v: unknown): string | undefined {
  if (!isObject(v)) return 'a JSON object expected';
  const { key, latency_ns: lat, first_failure: ff } = v;
  if (!isObject(key)) return 'key: an object expected';
  for (const f of ['workload', 'variant'])
    if (typeof key[f] !== 'string') return `key.${f}: a string expected`;
  for (const f of ['variant_index', 'seed'])
    if (!isCount(key[f])) return `key.${f}: a whole number expected`;
  if (!isObject(v.results)) return 'results: an object expected';
  for (const f of COUNTERS) if (!isCount(v[f])) return `${f}: a whole number expected`;
  if (
    lat !== null &&
    !(isObject(lat) && typeof lat.median === 'number' && typeof lat.max === 'number')
  )
    return 'latency_ns: null or { median, max } expected';
  if (
    ff !== null &&
    !(
      isObject(ff) &&
      typeof ff.t === 'number' &&
      typeof ff.op === 'string' &&
      typeof ff.errno === 'string'
    )
  )
    return 'first_failure: null or { t, op, errno, ... } expected';
  if (v.error !== undefined && typeof v.error !== 'string') return 'error: a string expected';
  return undefined;
}

function readShard(file: string): Read[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --merge ${file}: ${(e as Error).message}`);
  }
  const reads = text.split('\n').flatMap((line, i): Read[] => {
    if (line.trim() === '') return [];
    const at = `${file}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new UsageError(`${at}: not a compare record (JSON expected)`);
    }
    const why = problem(v);
    if (why) throw new UsageError(`${at}: not a compare record (${why})`);
    return [{ record: v as RunRecord, at, json: JSON.stringify(v) }];
  });
  if (reads.length === 0) throw new UsageError(`${file}: no compare records in the file`);
  return reads;
}

/** The records of the shard files, each run once; anything that would miscount is an error. */
export function mergeShards(files: readonly string[]): RunRecord[] {
  const runs = new Map<string, Read>();
  const byIndex = new Map<number, Read>();
  const byName = new Map<string, Read>();
  let first: Read | undefined;
  for (const r of files.flatMap(readShard)) {
    const k = r.record.key;
    first ??= r;
    if (k.workload !== first.record.key.workload) {
      throw new UsageError(
        `${first.at} and ${r.at} are runs of different workloads (${first.record.key.workload} and ${k.workload})`,
      );
    }
    const index = byIndex.get(k.variant_index) ?? r;
    const name = byName.get(k.variant) ?? r;
    if (index.record.key.variant !== k.variant) {
      throw new UsageError(
        `${index.at} and ${r.at} are from different comparisons (variant ${k.variant_index} is '${index.record.key.variant}' in one, '${k.variant}' in the other)`,
      );
    }
    if (name.record.key.variant_index !== k.variant_index) {
      throw new UsageError(
        `${name.at} and ${r.at} are from different comparisons (variant '${k.variant}' is ${name.record.key.variant_index} in one, ${k.variant_index} in the other)`,
      );
    }
    byIndex.set(k.variant_index, index);
    byName.set(k.variant, name);
    const id = `${k.variant_index}/${k.seed}`;
    const same = runs.get(id);
    if (same && same.json !== r.json) {
      throw new UsageError(
        `${same.at} and ${r.at} hold the same run (${k.variant}, seed ${k.seed}) with different results`,
      );
    }
    if (!same) runs.set(id, r);
  }
  return [...runs.values()].map((r) => r.record);
}
