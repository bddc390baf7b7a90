// `run --trace`: trace_records_per_s formats records of every event in ftrace's text and writes
// them to a file in the batches the run's worker sends (src/workload/spool.ts), median of 3 runs
// (the CPU time's rate is logged: on a shared machine, it tells load from work); trace_overhead is
// the default workload's run speed with --trace over its speed without (the real binary, median
// of 3 runs each, to /dev/null and a temporary file).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printFtraceLine } from '../src/kernel/observe/ftrace.js';
import { TraceLog, type TraceRecord } from '../src/kernel/observe/trace.js';
import { BATCH, traceBatch } from '../src/workload/spool.js';
import { type Bench, log, median, repoRoot, round } from './figure.js';

const RECORDS = 2_000_000;
const B = 0xe0000;

/** A mix like a failing cma_alloc's: per window, isolation, migration and a busy retry. */
function sample(i: number): TraceRecord {
  const fields: TraceRecord['fields'][] = [
    { start_pfn: B + i, end_pfn: B + i + 51200, fin_pfn: B + 100 },
    { nr_succeeded: 32, nr_failed: 0, reason: 'contig_range' },
    { name: 'svp', pfn: B + i, page: B + i, count: 51200, align: 8 },
    { name: 'svp', pfn: B + i, page: -1, count: 51200, align: 8, errorno: -16 },
  ];
  const names = [
    'test_pages_isolated',
    'mm_migrate_pages',
    'cma_alloc_busy_retry',
    'cma_alloc_finish',
  ] as const;
  // a literal of one shape, as Kernel.tracepoint() makes it (a spread makes objects that V8
  // reads at half the speed, which no run sees)
  return {
    t: 5e9 + i * 1000,
    pid: 103,
    comm: 'mediaserver',
    name: names[i % 4]!,
    fields: fields[i % 4]!,
  } as TraceRecord;
}

/** Records per second of wall time and of CPU time. */
function recordsPerSecond(dir: string): [number, number] {
  const log6 = new TraceLog('6.18');
  const records = Array.from({ length: 1024 }, (_, i) => sample(i));
  const fd = openSync(join(dir, 'trace.txt'), 'w');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const batch = traceBatch();
  for (let i = 0; i < RECORDS; i++) {
    printFtraceLine(batch, log6, records[i & 1023]!);
    if (batch.length >= BATCH) writeSync(fd, batch.take());
  }
  writeSync(fd, batch.take());
  closeSync(fd);
  const s = (performance.now() - t0) / 1e3;
  const cpu = process.cpuUsage(cpu0);
  return [RECORDS / s, RECORDS / ((cpu.user + cpu.system) / 1e6)];
}

function runMs(args: string[]): number {
  const t0 = performance.now();
  execFileSync(
    process.execPath,
    [
      join(repoRoot(), 'bin/cmascope.js'),
      'run',
      'workloads/secure-playback.ts',
      '-o',
      '/dev/null',
      ...args,
    ],
    { cwd: repoRoot(), stdio: 'ignore' },
  );
  return performance.now() - t0;
}

export const traceBench: Bench = {
  id: 'trace',
  title: 'run --trace: records formatted and written; the default workload with and without',
  async figures() {
    const dir = mkdtempSync(join(tmpdir(), 'cmascope-trace-'));
    try {
      const rates = Array.from({ length: 3 }, () => recordsPerSecond(dir));
      const perS = median(rates.map((r) => r[0]));
      log(
        `  records: ${rates.map((r) => (r[0] / 1e6).toFixed(2)).join(' ')} M/s; of CPU time: ${rates.map((r) => (r[1] / 1e6).toFixed(2)).join(' ')} M/s`,
      );
      const without: number[] = [];
      const withTrace: number[] = [];
      for (let i = 0; i < 3; i++) {
        without.push(runMs([]));
        withTrace.push(runMs(['--trace', join(dir, 't.txt'), '--dmesg', join(dir, 'd.txt')]));
      }
      log(
        `  run: ${without.map((t) => t.toFixed(0)).join(' ')} ms; with --trace: ${withTrace.map((t) => t.toFixed(0)).join(' ')} ms`,
      );
      return [
        { name: 'trace_records_per_s', value: round(perS, 0), unit: '/s', target: '>= 2000000' },
        {
          name: 'trace_overhead',
          value: round(median(without) / median(withTrace), 2),
          unit: 'x',
          target: '>= 0.5',
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
