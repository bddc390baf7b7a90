// `cmascope run --trace / --dmesg` as a user runs it: the cases of kernel-model.md §7 on platform P, read
// from the files the CLI wrote and nothing else, on both kernel versions.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmascope, fixture, workload } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cmascope-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Written {
  code: number | null;
  stderr: string;
  /** the trace file's lines */
  trace: string[];
  /** the records' bodies by event, in order */
  events: Record<string, string[]>;
  dmesg: string[];
  /** the final snapshot */
  json: { vmstat: Record<string, number> };
}

async function run(name: string, args: string[]): Promise<Written> {
  const [t, d, o] = ['t', 'd', 'o'].map((x) => join(dir, `${name}.${x}`));
  const r = await cmascope([...args, '--trace', t!, '--dmesg', d!, '-f', 'json', '-o', o!]);
  const trace = readFileSync(t!, 'utf8').split('\n').slice(0, -1);
  const events: Record<string, string[]> = {};
  for (const line of trace.filter((l) => !l.startsWith('#'))) {
    const [, event, body] = /^ {0,15}\S+-\d+ +\[000\] \.{5} +\d+\.\d{6}: (\w+): (.*)$/.exec(line)!;
    events[event!] = [...(events[event!] ?? []), body!];
  }
  const dmesg = readFileSync(d!, 'utf8').split('\n').slice(0, -1);
  return {
    code: r.code,
    stderr: r.stderr,
    trace,
    events,
    dmesg,
    json: (JSON.parse(readFileSync(o!, 'utf8')) as Written['json'][]).at(-1)!,
  };
}

const counts = (w: Written) =>
  Object.fromEntries(Object.entries(w.events).map(([e, l]) => [e, l.length]));

const CASES = ['c2', 'c3', 'c5', 'c6', 'c7', 'c9', 'slide'] as const;
const VERSIONS = ['6.18', '6.4'] as const;
const out = {} as Record<string, Written>;
beforeAll(async () => {
  const runs = VERSIONS.flatMap((v) =>
    CASES.map(
      (c) =>
        [
          `${c}-${v}`,
          ['run', fixture('spec-cases.ts'), '--kernel', v, '--set', `case=${c}`],
        ] as const,
    ),
  );
  const done = await Promise.all(runs.map(([name, args]) => run(name, [...args])));
  runs.forEach(([name], i) => {
    out[name] = done[i]!;
  });
}, 240_000);

describe.each(VERSIONS)('the §7 cases on %s, from --trace and --dmesg alone', (v) => {
  const w = (c: (typeof CASES)[number]) => out[`${c}-${v}`]!;
  const v64 = v === '6.4';
  const fn = v64 ? 'cma_alloc' : '__cma_alloc';
  /** cma_debug_show_areas() of 6.18 with the whole area free; a stub in 6.4 */
  const showAreas = (t: string) =>
    v64
      ? []
      : [
          `[${t}] cma: number of available pages: `,
          `[${t}] cma: range 0: 65536@0`,
          `[${t}] cma: `,
          `[${t}] => 65536 free of 65536 total pages`,
        ];

  it('the trace file: the header of tracefs `trace`, with its entry count', () => {
    const { trace, code } = w('c3');
    expect(code).toBe(0);
    expect(trace.slice(0, 4)).toEqual([
      '# tracer: nop',
      '#',
      '# entries-in-buffer/entries-written: 5/5   #P:1',
      '#',
    ]);
    expect(trace[10]).toBe('#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION');
    expect(trace.length).toBe(12 + 5);
  });

  it('C3: a clean success: start, one window, finish at B, and the release', () => {
    const c3 = w('c3');
    expect(counts(c3)).toEqual({
      cma_alloc_start: 1,
      test_pages_isolated: 1,
      mm_migrate_pages: 1,
      cma_alloc_finish: 1,
      cma_release: 1,
    });
    expect(c3.trace[12]).toBe(
      v64
        ? '               A-101     [000] .....     0.000000: cma_alloc_start: name=svp count=51200 align=8'
        : '               A-101     [000] .....     0.000000: cma_alloc_start: name=svp request_count=51200 available_count=65536 total_count=65536 align=8',
    );
    expect(c3.events.mm_migrate_pages).toEqual([
      `nr_succeeded=0 nr_failed=0 nr_thp_succeeded=0 nr_thp_failed=0 nr_thp_split=0${v64 ? '' : ' nr_split=0'} mode=MIGRATE_SYNC reason=contig_range`,
    ]);
    expect(c3.events.cma_alloc_finish).toEqual([
      'name=svp pfn=0xe0000 page=fffffc0003800000 count=51200 align=8 errorno=0',
    ]);
    expect(c3.events.cma_release).toEqual([
      'name=svp pfn=0xe0000 page=fffffc0003800000 count=51200',
    ]);
    expect(c3.dmesg).toEqual([]);
  });

  it.each(['c5', 'c6'] as const)('%s: success at window 0 after migrating A’s 16384 pages', (c) => {
    const r = w(c);
    expect(counts(r)).toMatchObject({
      cma_alloc_start: 1,
      test_pages_isolated: 1,
      cma_alloc_finish: 1,
    });
    expect(r.events.cma_alloc_busy_retry).toBeUndefined();
    const migrated = r.events.mm_migrate_pages!.map((b) =>
      Number(/nr_succeeded=(\d+)/.exec(b)![1]),
    );
    expect(migrated.reduce((a, b) => a + b, 0)).toBe(16384);
    expect(r.events.mm_migrate_pages![0]).toBe(
      `nr_succeeded=32 nr_failed=0 nr_thp_succeeded=0 nr_thp_failed=0 nr_thp_split=0${v64 ? '' : ' nr_split=0'} mode=MIGRATE_SYNC reason=contig_range`,
    );
    expect(r.events.cma_alloc_finish).toEqual([
      'name=svp pfn=0xe0000 page=fffffc0003800000 count=51200 align=8 errorno=0',
    ]);
    expect(r.json.vmstat.pgmigrate_success).toBe(16384);
  });

  it('C7: 57 busy windows, errorno -16, one pr_err', () => {
    const c7 = w('c7');
    expect(counts(c7)).toEqual({
      cma_alloc_start: 1,
      test_pages_isolated: 57,
      mm_migrate_pages: 57,
      cma_alloc_busy_retry: 57,
      cma_alloc_finish: 1,
    });
    expect(c7.events.test_pages_isolated!.every((b) => b.endsWith(' ret=fail'))).toBe(true);
    expect(c7.events.cma_alloc_busy_retry![56]).toBe(
      'name=svp pfn=0xe3800 page=fffffc00038e0000 count=51200 align=8',
    );
    expect(c7.events.cma_alloc_finish).toEqual([
      `name=svp pfn=${v64 ? '0xe3800' : '0x0'} page=0000000000000000 count=51200 align=8 errorno=-16`,
    ]);
    const t = c7.dmesg[0]!.slice(1, 13);
    expect(c7.dmesg).toEqual([
      `[${t}] cma: ${fn}: svp: alloc failed, req-size: 51200 pages, ret: -16`,
      ...showAreas(t),
    ]);
    expect(c7.json.vmstat.cma_alloc_fail).toBe(1);
  });

  it('C9: window 0 fails at B+100, one busy retry at B, success at B+256', () => {
    const c9 = w('c9');
    expect(c9.events.test_pages_isolated![0]).toBe(
      'start_pfn=0xe0000 end_pfn=0xec800 fin_pfn=0xe0064 ret=fail',
    );
    expect(c9.events.cma_alloc_busy_retry).toEqual([
      'name=svp pfn=0xe0000 page=fffffc0003800000 count=51200 align=8',
    ]);
    expect(c9.events.cma_alloc_finish).toEqual([
      'name=svp pfn=0xe0100 page=fffffc0003804000 count=51200 align=8 errorno=0',
    ]);
    expect(c9.dmesg).toEqual([]);
  });

  it('align 0 slides one page at a time: 5001 windows, all blocked at the pin in the middle', () => {
    const s = w('slide');
    expect(counts(s)).toEqual({
      cma_alloc_start: 1,
      test_pages_isolated: 5001,
      mm_migrate_pages: 5001,
      cma_alloc_busy_retry: 5001,
      cma_alloc_finish: 1,
    });
    expect(
      s.events.test_pages_isolated!.every((b) => b.includes(' fin_pfn=0xe8000 ret=fail')),
    ).toBe(true);
    expect(s.events.cma_alloc_busy_retry!.at(-1)).toBe(
      'name=svp pfn=0xe1388 page=fffffc000384e200 count=60536 align=0',
    );
    expect(s.events.cma_alloc_finish).toEqual([
      `name=svp pfn=${v64 ? '0xe1388' : '0x0'} page=0000000000000000 count=60536 align=0 errorno=-16`,
    ]);
    const t = s.dmesg[0]!.slice(1, 13);
    expect(s.dmesg).toEqual([
      `[${t}] cma: ${fn}: svp: alloc failed, req-size: 60536 pages, ret: -16`,
      ...showAreas(t),
    ]);
  });

  it('C2: the 4 MiB TEE_IOC_SHM_ALLOC fails with warn_alloc’s line; no trace', () => {
    const c2 = w('c2');
    expect(c2.events).toEqual({});
    expect(c2.trace[2]).toBe('# entries-in-buffer/entries-written: 0/0   #P:1');
    expect(c2.dmesg).toEqual([
      '[    0.000000] A: page allocation failure: order:10, mode:0xdc0(GFP_KERNEL|__GFP_ZERO), nodemask=(null),cpuset=/,mems_allowed=0',
    ]);
  });
});

describe('the default workload with --trace and --dmesg', () => {
  it('every record: one busy retry per failed window, one pr_err per failed allocation', async () => {
    const r = await run('playback', ['run', workload('secure-playback')]);
    expect(r.code).toBe(0);
    const { vmstat } = r.json;
    expect(vmstat.cma_alloc_fail).toBe(8);
    expect(counts(r)).toMatchObject({
      cma_alloc_start: vmstat.cma_alloc_success! + vmstat.cma_alloc_fail!,
      cma_alloc_busy_retry: 57 * 8,
    });
    expect(r.dmesg.filter((l) => l.includes('alloc failed')).length).toBe(8);
  });
});

describe('--events and misuse', () => {
  it('selects like trace-cmd -e: a system', async () => {
    const r = await cmascope([
      'run',
      fixture('spec-cases.ts'),
      '--set',
      'case=c9',
      '--events',
      'migrate:*,cma:cma_alloc_finish',
      '--trace',
      '-',
      '-o',
      '/dev/null',
    ]);
    expect(r.code).toBe(0);
    // stdout is trace_pipe: no header
    expect(r.stdout.split('\n').map((l) => l.split(': ')[1])).toEqual([
      'mm_migrate_pages',
      'mm_migrate_pages',
      'cma_alloc_finish',
      undefined,
    ]);
  });

  it('an unknown event, --trace - without -o: usage errors (exit 2), one line', async () => {
    const bad = await cmascope([
      'run',
      fixture('spec-cases.ts'),
      '--trace',
      '-',
      '-o',
      '/dev/null',
      '--events',
      'cma:nope',
    ]);
    expect([bad.code, bad.stderr]).toEqual([
      2,
      "cmascope: --events: unknown trace event 'cma:nope': the model has cma:cma_alloc_start, cma:cma_alloc_busy_retry, cma:cma_alloc_finish, cma:cma_release, page_isolation:test_pages_isolated, migrate:mm_migrate_pages\n",
    ]);
    const stdout = await cmascope(['run', fixture('spec-cases.ts'), '--trace', '-']);
    expect([stdout.code, stdout.stderr]).toEqual([
      2,
      'cmascope: --trace - writes to stdout, where the data goes: add -o FILE\n',
    ]);
  });
});
