// `cmascope compare`: one workload under several kernels and policies, side by side (issue #7).
import { availableParallelism } from 'node:os';
import { mergeShards } from '../compare/merge.js';
import {
  type PlannedRun,
  parseSeeds,
  parseShard,
  plan,
  THREAD_VARIANTS,
  type Variant,
} from '../compare/plan.js';
import { type PoolOptions, request, runPool } from '../compare/pool.js';
import { type RunRecord, sortRecords, variantsOf } from '../compare/record.js';
import { csvTable, summarize, textTable } from '../compare/table.js';
import { KERNEL_VERSIONS, type KernelVersion } from '../kernel/config.js';
import type { CompareProgress } from '../tui/compare.js';
import { UsageError } from '../usage-error.js';
import { startRun } from '../workload/loader.js';
import {
  durationOption,
  parsePolicies,
  type RunArgs,
  runRequest,
  workloadFailed,
  workloadPath,
} from './options.js';

export interface CompareArgs extends RunArgs {
  workload?: string | undefined;
  thread: boolean;
  seeds: string;
  shard?: string | undefined;
  merge?: string[] | undefined;
  workers?: string | undefined;
  format: 'text' | 'json' | 'csv';
  tui: boolean;
  color: boolean;
}

/** 'kernel=6.4,teePin=upstream' → a variant; `kernel` picks the version, the rest are policies. */
export function parseVariant(name: string): Variant {
  const parts = name.split(',').filter((s) => s !== '');
  if (parts.length === 0)
    throw new UsageError(
      `empty variant '${name}': expected key=value[,key=value], e.g. teePin=upstream`,
    );
  const kernel = parts.find((p) => p.startsWith('kernel='))?.slice('kernel='.length);
  if (kernel !== undefined && !KERNEL_VERSIONS.includes(kernel as KernelVersion)) {
    throw new UsageError(
      `invalid kernel '${kernel}' in variant '${name}': choose one of ${KERNEL_VERSIONS.join(', ')}`,
    );
  }
  const v: Variant = {
    name,
    policies: parsePolicies(parts.filter((p) => !p.startsWith('kernel='))),
  };
  if (kernel !== undefined) v.version = kernel as KernelVersion;
  return v;
}

/** Worker threads are not free: a typo such as --workers 1000 must not start a thousand. */
const MAX_WORKERS = 256;

function parseWorkers(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_WORKERS)
    throw new UsageError(
      `invalid --workers '${text}': expected a whole number from 1 to ${MAX_WORKERS}`,
    );
  return n;
}

/** The table of records in key order (sortRecords). */
function render(records: RunRecord[], format: CompareArgs['format']): string {
  const rows = summarize(records, variantsOf(records));
  if (format === 'json') return `${JSON.stringify({ variants: rows }, null, 2)}\n`;
  if (format === 'csv') return csvTable(rows);
  return textTable(rows);
}

export async function compareCommand(a: CompareArgs): Promise<number> {
  if (a.merge) {
    if (a.merge.length === 0)
      throw new UsageError('--merge needs the record files of the shards to join');
    if (a.workload !== undefined || a.policy.length > 0 || a.thread || a.shard !== undefined)
      throw new UsageError(
        '--merge joins runs already made: give it no workload, --policy, --thread or --shard',
      );
    const records = sortRecords(mergeShards(a.merge));
    const failed = reportFailures(records);
    process.stdout.write(render(records, a.format));
    return failed;
  }
  const names = a.thread ? [...THREAD_VARIANTS, ...a.policy] : a.policy;
  if (names.length === 0)
    throw new UsageError(
      'give the variants to compare with --policy (one per variant), or --thread',
    );
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new UsageError(`variant '${twice}' is given twice`);
  if (a.seed !== undefined)
    throw new UsageError(`compare runs the seeds of --seeds (e.g. --seeds ${a.seed}), not --seed`);
  const variants = names.map(parseVariant);
  const seeds = parseSeeds(a.seeds);
  const shard = a.shard === undefined ? undefined : parseShard(a.shard);
  const { policies: _shared, ...base } = runRequest(workloadPath(a.workload), { ...a, policy: [] });
  const runs = plan(variants.length, seeds, shard);
  const t0 = performance.now();
  const workers = a.workers === undefined ? availableParallelism() : parseWorkers(a.workers);
  const pool = {
    base,
    variants,
    workers,
    watchdogMs: durationOption(a.watchdog, '--watchdog') / 1e6,
  };
  // every run loads the same workload: one that does not load is reported once, as by `run`
  const loaded = await startRun(
    { ...request(pool, runs[0]!), check: true },
    { watchdogMs: pool.watchdogMs },
  ).done;
  if (!loaded.ok) return workloadFailed(loaded.error);
  if (a.tui) return compareTui(runs, pool, names, a.color);
  const records = sortRecords(await runPool(runs, pool));
  const failed = reportFailures(records);
  process.stderr.write(
    `cmascope: ${plural(runs.length, 'run')} on ${plural(workers, 'worker')} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  if (seeds.length > 1 && sameEverywhere(records))
    process.stderr.write(
      'cmascope: note: every seed gave the same results in every variant: does the workload draw on sys.random()?\n',
    );
  if (shard) {
    for (const r of records) process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    if (a.thread && a.format === 'text') process.stdout.write(THREAD_HEADER);
    if (a.kernel && a.format === 'text')
      process.stdout.write(`kernel ${a.kernel} (--kernel; a variant's kernel= wins)\n\n`);
    process.stdout.write(render(records, a.format));
  }
  return failed;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Whether the runs of each variant are all alike but for their seed. */
function sameEverywhere(records: readonly RunRecord[]): boolean {
  const outcomes = new Map<string, string>();
  return records.every((r) => {
    const o = JSON.stringify({ ...r, key: r.key.variant });
    if (!outcomes.has(r.key.variant)) outcomes.set(r.key.variant, o);
    return outcomes.get(r.key.variant) === o;
  });
}

/** One line per run that failed, with its reason; 1 if any did. */
function reportFailures(records: readonly RunRecord[]): number {
  const failed = records.filter((r) => r.error !== undefined);
  for (const r of failed)
    process.stderr.write(`cmascope: ${r.key.variant} seed ${r.key.seed}: ${r.error}\n`);
  return failed.length > 0 ? 1 : 0;
}

const THREAD_HEADER = `The four positions of "tee: add FOLL_LONGTERM for CMA case when alloc shm" (2023):
  upstream      TEE registration pins with FOLL_PIN|FOLL_WRITE, no FOLL_LONGTERM (what was and is merged)
  v1-cma-ifdef  FOLL_LONGTERM only under CONFIG_CMA (v1)
  v2-longterm   FOLL_LONGTERM always (v2)
  + io_uring    v2 with the RLIMIT_MEMLOCK accounting the reviewers asked for (io_uring style)

`;

/** `--tui`: the variants side by side, filled in as runs finish; q quits. */
async function compareTui(
  runs: PlannedRun[],
  pool: PoolOptions,
  names: string[],
  color: boolean,
): Promise<number> {
  if (!process.stdout.isTTY || !process.stdin.isTTY) throw new UsageError('--tui needs a terminal');
  const { runCompareTui } = await import('../tui/compare.js');
  const { colorEnabled, makeTheme } = await import('../tui/theme.js');
  const records: RunRecord[] = [];
  let finished = false;
  let listener: ((p: CompareProgress) => void) | undefined;
  const progress = (): CompareProgress => ({
    rows: summarize(sortRecords(records), names),
    done: records.length,
    total: runs.length,
    finished,
  });
  const onRecord = (r: RunRecord) => {
    records.push(r);
    listener?.(progress());
  };
  void runPool(runs, { ...pool, onRecord }).then(() => {
    finished = true;
    listener?.(progress());
  });
  const theme = makeTheme({ color: colorEnabled(process.env, !color), ascii: false });
  await runCompareTui(
    progress(),
    (fn) => {
      listener = fn;
    },
    theme,
    () => {},
  );
  process.exit(0); // the pool's workers go with the process
}
