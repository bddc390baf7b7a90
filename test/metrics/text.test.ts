// text: the report of the final snapshot, with the blame line.
import { describe, expect, it } from 'vitest';
import { exporter } from '../../src/metrics/exporters.js';
import { seconds, size, snakeCase, visible } from '../../src/metrics/fmt.js';
import { failureLine, textReport } from '../../src/metrics/text.js';
import { defaultRun, emit, run } from './fixture.js';

const BLAME =
  /^ {2}t=5\.0\d\ds cma_alloc svp 51200 pages EBUSY: pfn 0xe0000 held by tee-client\[100\] via tee_shm id 1$/m;

describe('text', () => {
  it('shows only the final snapshot, at end()', () => {
    const r = defaultRun();
    const e = exporter('text');
    expect(e.begin()).toBe('');
    for (const s of r.intervals) expect(e.snapshot(s)).toBe('');
    expect(emit('text', r)).toBe(textReport(r.final));
  });

  it('names the page that blocked the allocation and who pinned it', () => {
    const s = defaultRun().final;
    const text = textReport(s);
    expect(text).toMatch(BLAME);
    const f = s.failures.find((x) => x.op === 'cma_alloc')!;
    expect(text).toContain(
      `\n  t=${seconds(f.t)} cma_alloc svp 51200 pages EBUSY: pfn 0xe0000 held by tee-client[100] via tee_shm id 1\n` +
        '      caller player[101]; 57 windows: [0xe0000, 0xec800) fin_pfn 0xe0000 ... [0xe3800, 0xf0000) fin_pfn 0xe3800; 57 blocking pfns: 0xe0000 0xe0100 0xe0200 0xe0300 ...\n',
    );
    // the trace counts: one cma_alloc_busy_retry per failed window
    expect(text).toContain(
      '\ntrace events (records since boot)\n  cma_alloc_busy_retry 57\n  cma_alloc_finish 1\n  cma_alloc_start 1\n  mm_migrate_pages 57\n  test_pages_isolated 57\n\nresults\n',
    );
    expect(text).toMatch(/^ {2}t=5\.0\d\ds dma_heap_alloc ENOMEM\n {6}caller player\[101\]$/m);
  });

  it('has the run, the area, the counters, the processes, results and log lines', () => {
    const text = textReport(defaultRun().intervals[2]!); // 6 s: the shm is registered
    for (const line of [
      'workload  exporters-fixture  seed 7',
      'kernel    6.18  teePin=upstream teeAccounting=none cmaRetry=upstream cmaEligibility=movable placement=lowest-pfn pcp=off pinsLongtermByDefault=false',
      'sim time  6.000s',
      'CMA area svp',
      '  base_pfn 0xe0000 (phys 0xe0000000)  count 65536 pages (256 MiB)  order_per_bit 0',
      '  used 0  available 65536  maxchunk 65536 pages',
      '  alloc_pages_success 0  alloc_pages_fail 51200  release_pages_success 0',
      '  bitmap free ranges (1, pages@offset): 65536@0',
      '  pages by state: free 49152  cma_client 0  movable 0  pinned_short 16384  pinned_long 0  isolated 0',
      '  CmaFree:            196608 kB',
      '  cma_alloc_fail 1',
      '  PID  COMM         UID  STATE    VmRSS  VmLck  VmPin  SHORT  LONG  IN_CMA    MEMLOCK  IPC_LOCK  DENIED',
      '  100  tee-client  1000  running  65536      0      0  16384     0   16384      8 MiB  no             0',
      '  101  player      1001  exited       0      0      0      0     0       0  unlimited  no             0',
      '  uid 1000  locked_vm 0',
      'failures (2)',
      '  shm = {"fd":4,"id":1}',
      '  playback_start = ENOMEM',
      '  buffer_mib = 200',
      'log (2)',
      '  t=0.024s tee-client[100]: registered 64 MiB',
      '  t=5.025s player[101]: first allocation: ENOMEM',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    expect(text.endsWith('\n')).toBe(true);
    expect(text.includes('\u001b')).toBe(false); // no colour
  });

  it('shows memlock refusals (C24: io_uring-style accounting over the 8 MiB limit)', () => {
    const s = run({ policies: { teePin: 'v2-longterm', teeAccounting: 'io_uring' } }).final;
    const text = textReport(s);
    const client = s.processes.find((p) => p.comm === 'tee-client')!;
    expect(client.memlock_denied).toBeGreaterThan(0);
    // the counter, what it held, what was asked and the limit (item 5 of issue 12)
    expect(text).toMatch(
      /^ {2}t=0\.\d{3}s tee_shm_register ENOMEM: user 1000 locked_vm 0 \+ 16384 > 2048 pages \(RLIMIT_MEMLOCK 8 MiB\)\n {6}caller tee-client\[100\]$/m,
    );
    expect(text).toContain('  shm = ENOMEM');
    expect(text).toContain('  playback_start = 3');
  });

  it('says how many failures it lists, and is the same for the same snapshot', () => {
    const s = structuredClone(defaultRun().final);
    s.failures_total = 1234;
    const text = textReport(s);
    expect(text).toContain('failures (1234, first 2 listed)');
    expect(textReport(s)).toBe(text);
  });

  it('formats without locale', () => {
    expect(seconds(0)).toBe('0.000s');
    expect(seconds(5_025_678_000)).toBe('5.025s');
    expect(seconds(123_456_999_999)).toBe('123.456s');
    expect(size(8 << 20)).toBe('8 MiB');
    expect(size(1536 << 10)).toBe('1536 KiB');
    expect(size(4 * 2 ** 30)).toBe('4 GiB');
    expect(size(10)).toBe('10 B');
    expect(size(0)).toBe('0 B');
    expect(snakeCase('CmaFree')).toBe('cma_free');
    expect(snakeCase('VmRSS')).toBe('vm_rss');
    expect(snakeCase('pinsLongtermByDefault')).toBe('pins_longterm_by_default');
    expect(snakeCase('Active(anon)')).toBe('active_anon');
    expect(snakeCase('HugePages_Total')).toBe('huge_pages_total');
    expect(failureLine({ t: 1e9, op: 'mlock', errno: 'EAGAIN' })).toBe('t=1.000s mlock EAGAIN');
    expect(
      failureLine({
        t: 0,
        op: 'cma_alloc',
        area: 'a',
        count: 1,
        errno: 'EBUSY',
        blocking_pfn: 255,
        blocker: { pid: 0, comm: 'kernel', via: 'unmovable' },
      }),
    ).toBe('t=0.000s cma_alloc a 1 pages EBUSY: pfn 0xff held by kernel[0] via unmovable');
  });

  it("shows a workload's control characters (ESC, NUL, CR, C1 CSI) as \\xHH, never raw", () => {
    const s = structuredClone(defaultRun().final);
    const esc = 'red\u001b[31m\u0000\r\u009b2J';
    s.workload = `w${esc}`;
    s.processes[0]!.comm = `tee${esc}`;
    s.results = { [`key${esc}`]: `value${esc}\nsecond line` };
    s.logs = [{ t: 0, pid: s.processes[0]!.pid, msg: `log${esc}` }];
    s.failures[0]!.area = `svp${esc}`;
    const text = textReport(s);
    const shown = 'red\\x1b[31m\\x00\\x0d\\x9b2J';
    expect(visible(text, true)).toBe(text); // no control character but line feeds
    expect(text).toContain(`workload  w${shown}  seed 7`);
    expect(text).toContain(`  key${shown} = value${shown}\n    second line\n`);
    expect(text).toContain(`  t=0.000s tee${shown}[100]: log${shown}\n`);
    expect(text).toContain(` cma_alloc svp${shown} 51200 pages`);
    expect(visible('plain \\ text, é, 😀')).toBe('plain \\ text, é, 😀');
    expect(visible('a\nb')).toBe('a\\x0ab');
    expect(visible('a\nb', true)).toBe('a\nb');
  });
});
