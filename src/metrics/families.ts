// The snapshot as Prometheus metric families: names mirror the kernel's (/proc/meminfo,
// /proc/vmstat, /sys/kernel/mm/cma/<area>/, debugfs cma, /proc/<pid>/status) with the cmascope_
// prefix, base units and _total for counters (docs/snapshot.md "Metric names"). Pages stay pages.
import { MAX_LABEL_SETS } from '../kernel/observe/tally.js';
import { snakeCase, toSeconds } from './fmt.js';
import type { Snapshot } from './snapshot.js';

export type MetricType = 'counter' | 'gauge';

export interface Sample {
  labels: readonly (readonly [string, string])[];
  value: number;
}

export interface MetricFamily {
  /** the Prometheus 0.0.4 name: counters end in _total (OpenMetrics names the family without it) */
  name: string;
  type: MetricType;
  /** plain ASCII, no backslash, double quote or newline: the same text is valid in both formats */
  help: string;
  /** the unit suffix of the name, for OpenMetrics' # UNIT */
  unit?: 'bytes' | 'seconds';
  samples: Sample[];
}

export const PREFIX = 'cmascope_';
const KB = 1024;

/**
 * /proc/vmstat fields: event counters become _total counters, nr_* counts gauges with a _pages
 * suffix. nr_foll_pin_* are monotonic despite the nr_ prefix (pin_user_pages.rst), so counters.
 * A field not listed here: nr_* a gauge, anything else a counter.
 */
const VMSTAT: Record<string, { name: string; type: MetricType; help: string }> = {
  nr_free_pages: { name: 'nr_free_pages', type: 'gauge', help: 'Free pages, CMA included.' },
  nr_free_cma: { name: 'nr_free_cma_pages', type: 'gauge', help: 'Free pages in CMA pageblocks.' },
  cma_alloc_success: {
    name: 'cma_alloc_success_total',
    type: 'counter',
    help: 'cma_alloc() calls that succeeded.',
  },
  cma_alloc_fail: {
    name: 'cma_alloc_fail_total',
    type: 'counter',
    help: 'cma_alloc() calls that failed.',
  },
  pgmigrate_success: {
    name: 'pgmigrate_success_total',
    type: 'counter',
    help: 'Pages migrated.',
  },
  pgmigrate_fail: {
    name: 'pgmigrate_fail_total',
    type: 'counter',
    help: 'Pages that failed to migrate.',
  },
  nr_foll_pin_acquired: {
    name: 'nr_foll_pin_acquired_total',
    type: 'counter',
    help: 'Pages pinned with FOLL_PIN.',
  },
  nr_foll_pin_released: {
    name: 'nr_foll_pin_released_total',
    type: 'counter',
    help: 'FOLL_PIN pins released, in pages.',
  },
};

/** The states of cmascope_cma_pages, in the contract's order. */
const CMA_STATES = [
  'free',
  'cma_client',
  'movable',
  'pinned_short',
  'pinned_long',
  'isolated',
  'pcp',
] as const;

type Labels = readonly (readonly [string, string])[];

class Families {
  readonly list: MetricFamily[] = [];

  add(
    name: string,
    type: MetricType,
    help: string,
    samples: Sample[],
    unit?: MetricFamily['unit'],
  ): void {
    if (samples.length === 0) return; // a family with nothing to show is left out
    const f: MetricFamily = { name: PREFIX + name, type, help, samples };
    if (unit) f.unit = unit;
    this.list.push(f);
  }
}

const one = (value: number, labels: Labels = []): Sample[] => [{ labels, value }];

/** The metric families of a snapshot, in a fixed order; families without samples are left out. */
export function families(s: Snapshot): MetricFamily[] {
  const f = new Families();
  const { version, ...policies } = s.kernel;
  f.add(
    'info',
    'gauge',
    'The run: workload, seed, kernel version and policy switches; always 1.',
    one(1, [
      ['workload', s.workload],
      ['seed', String(s.seed)],
      ['kernel', version],
      ...Object.entries(policies).map(([k, v]) => [snakeCase(k), String(v)] as const),
    ]),
  );
  f.add(
    'sim_time_seconds',
    'gauge',
    'Simulated time of the snapshot.',
    one(toSeconds(s.simTimeNs)),
    'seconds',
  );

  for (const [k, v] of Object.entries(s.meminfo)) {
    f.add(
      `meminfo_${snakeCase(k)}_bytes`,
      'gauge',
      `/proc/meminfo ${k} (kB times 1024).`,
      one(v * KB),
      'bytes',
    );
  }

  for (const [k, v] of Object.entries(s.vmstat)) {
    const m = VMSTAT[k] ?? {
      name: k.startsWith('nr_') ? k : `${k}_total`,
      type: k.startsWith('nr_') ? 'gauge' : 'counter',
      help: `/proc/vmstat ${k}.`,
    };
    f.add(`vmstat_${m.name}`, m.type, `/proc/vmstat ${k}: ${m.help}`, one(v));
  }

  const areas = Object.keys(s.cma)
    .sort()
    .map((name) => ({ name, a: s.cma[name]! }));
  const perArea = (
    name: string,
    type: MetricType,
    help: string,
    value: (a: Snapshot['cma'][string]) => number | undefined,
  ) => {
    const samples: Sample[] = [];
    for (const { name: area, a } of areas) {
      const v = value(a);
      if (v !== undefined) samples.push({ labels: [['area', area]], value: v });
    }
    f.add(`cma_${name}`, type, help, samples);
  };
  perArea(
    'base_pfn',
    'gauge',
    'debugfs cma base_pfn: first page frame of the area.',
    (a) => a.base_pfn,
  );
  perArea(
    'order_per_bit',
    'gauge',
    'debugfs cma order_per_bit: log2 pages per bitmap bit.',
    (a) => a.order_per_bit,
  );
  perArea(
    'total_pages',
    'gauge',
    'sysfs cma total_pages: pages in the area (debugfs count).',
    (a) => a.total_pages,
  );
  perArea(
    'available_pages',
    'gauge',
    'sysfs cma available_pages: pages not allocated by cma_alloc.',
    (a) => a.available_pages,
  );
  perArea('used_pages', 'gauge', 'debugfs cma used: pages allocated by cma_alloc.', (a) => a.used);
  perArea(
    'maxchunk_pages',
    'gauge',
    'debugfs cma maxchunk: longest free run of the bitmap.',
    (a) => a.maxchunk,
  );
  perArea(
    'free_ranges',
    'gauge',
    'Free runs of the bitmap (debugfs cma bitmap).',
    (a) => a.free_ranges.length,
  );
  perArea(
    'alloc_pages_success_total',
    'counter',
    'sysfs cma alloc_pages_success: pages allocated.',
    (a) => a.alloc_pages_success,
  );
  perArea(
    'alloc_pages_fail_total',
    'counter',
    'sysfs cma alloc_pages_fail: pages requested by failed cma_alloc() calls.',
    (a) => a.alloc_pages_fail,
  );
  perArea(
    'release_pages_success_total',
    'counter',
    'sysfs cma release_pages_success: pages released (6.9 and later).',
    (a) => a.release_pages_success,
  );
  f.add(
    'cma_pages',
    'gauge',
    'Pages of the area by state: free, cma_client, movable, pinned_short, pinned_long, isolated (and pcp with per-CPU lists).',
    areas.flatMap(({ name, a }) =>
      CMA_STATES.flatMap((state) => {
        const value = a.pages_by_state[state];
        const labels = [
          ['area', name],
          ['state', state],
        ] as const;
        return value === undefined ? [] : [{ labels, value }];
      }),
    ),
  );

  const procs = [...s.processes].sort((a, b) => a.pid - b.pid);
  const proc = (p: Snapshot['processes'][number], extra: Labels = []): Labels => [
    ['pid', String(p.pid)],
    ['comm', p.comm],
    ...extra,
  ];
  const perProc = (
    name: string,
    type: MetricType,
    help: string,
    value: (p: Snapshot['processes'][number]) => number,
    unit?: MetricFamily['unit'],
  ) => {
    f.add(
      `process_${name}`,
      type,
      help,
      procs.map((p) => ({ labels: proc(p), value: value(p) })),
      unit,
    );
  };
  f.add(
    'process_info',
    'gauge',
    'A process: uid, state and CAP_IPC_LOCK; always 1.',
    procs.map((p) => ({
      labels: proc(p, [
        ['uid', String(p.uid)],
        ['state', p.state],
        ['cap_ipc_lock', String(p.cap_ipc_lock)],
      ]),
      value: 1,
    })),
  );
  perProc(
    'vm_rss_bytes',
    'gauge',
    '/proc/<pid>/status VmRSS (kB times 1024).',
    (p) => p.VmRSS * KB,
    'bytes',
  );
  perProc(
    'vm_lck_bytes',
    'gauge',
    '/proc/<pid>/status VmLck (kB times 1024).',
    (p) => p.VmLck * KB,
    'bytes',
  );
  perProc(
    'vm_pin_bytes',
    'gauge',
    '/proc/<pid>/status VmPin (kB times 1024).',
    (p) => p.VmPin * KB,
    'bytes',
  );
  f.add(
    'process_pinned_pages',
    'gauge',
    'Pages the process holds pinned: kind short or long; in_cma counts those of both in CMA.',
    procs.flatMap((p) =>
      (['short', 'long', 'in_cma'] as const).map((kind) => ({
        labels: proc(p, [['kind', kind]]),
        value: p.pinned[kind],
      })),
    ),
  );
  perProc(
    'memlock_limit_bytes',
    'gauge',
    'RLIMIT_MEMLOCK; +Inf when unlimited.',
    (p) => (p.rlimit_memlock === 'unlimited' ? Infinity : p.rlimit_memlock),
    'bytes',
  );
  perProc(
    'memlock_denied_total',
    'counter',
    'Pins and mlocks refused over RLIMIT_MEMLOCK.',
    (p) => p.memlock_denied,
  );

  f.add(
    'user_locked_vm_pages',
    'gauge',
    'user_struct locked_vm of the uid (shared by its processes).',
    Object.keys(s.users)
      .sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0))
      .map((uid) => ({ labels: [['uid', uid]] as const, value: s.users[uid]!.locked_vm })),
  );

  const byFailure = new Map<string, { op: string; errno: string; n: number }>();
  for (const x of s.failures) {
    const key = `${x.op}\u0000${x.errno}`;
    const g = byFailure.get(key) ?? { op: x.op, errno: x.errno, n: 0 };
    g.n++;
    byFailure.set(key, g);
  }
  f.add(
    'failures_total',
    'counter',
    'Failed kernel allocations and system calls in the snapshot list, by op and errno.',
    [...byFailure.values()]
      .sort((a, b) => cmp(a.op, b.op) || cmp(a.errno, b.errno))
      .map((g) => ({
        labels: [
          ['op', g.op],
          ['errno', g.errno],
        ] as const,
        value: g.n,
      })),
  );
  f.add(
    'failures_unlisted_total',
    'counter',
    'Failures beyond the first ones the snapshot lists, not counted in cmascope_failures_total.',
    one(s.failures_total - s.failures.length),
  );

  // blame as labels, counted since boot; at most MAX_LABEL_SETS sets each, the rest as 'other'
  f.add(
    'cma_alloc_failures_total',
    'counter',
    `Failed cma_alloc() calls since boot by area and the holder of the first blocking page (none: no page named); at most ${MAX_LABEL_SETS} label sets, later ones counted as other.`,
    s.cma_alloc_failures.map((x) => ({
      labels: [
        ['area', x.area],
        ['holder_comm', x.holder_comm],
        ['via', x.via],
      ] as const,
      value: x.count,
    })),
  );
  f.add(
    'memlock_denials_total',
    'counter',
    `Requests refused by RLIMIT_MEMLOCK since boot by uid, the counter checked and the subsystem that asked; at most ${MAX_LABEL_SETS} label sets, later ones counted as other.`,
    s.memlock_denials.map((x) => ({
      labels: [
        ['uid', x.uid],
        ['counter', x.counter],
        ['subsystem', x.subsystem],
      ] as const,
      value: x.count,
    })),
  );

  const keys = Object.keys(s.results).sort(cmp);
  const numeric = keys.filter((k) => typeof s.results[k] === 'number');
  f.add(
    'result',
    'gauge',
    'A numeric result the workload recorded.',
    numeric.map((k) => ({ labels: [['key', k]] as const, value: s.results[k] as number })),
  );
  f.add(
    'result_info',
    'gauge',
    'A non-numeric result the workload recorded: strings as they are, other values as JSON; always 1.',
    keys
      .filter((k) => typeof s.results[k] !== 'number')
      .map((k) => {
        const v = s.results[k];
        return {
          labels: [
            ['key', k],
            ['value', typeof v === 'string' ? v : JSON.stringify(v)],
          ] as const,
          value: 1,
        };
      }),
  );
  return f.list;
}

/** Code-unit order, the same everywhere (no locale). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
