// The public incidents bundled as workloads (issue #17 item 5): each run as a user runs it,
// `cmascope run workloads/<name>.ts -f json --dmesg FILE --trace FILE`, under the placement the
// model had (lowest-pfn, no per-CPU lists) and the kernel's (placement=kernel, pcp=on), read from
// the files the CLI wrote: the errno, the kernel log and who held the blocking page.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/metrics/snapshot.js';
import { cmascope, workload } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cmascope-incidents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LOWEST = 'placement=lowest-pfn,pcp=off';
const KERNEL = 'placement=kernel,pcp=on';

interface Run {
  final: Snapshot;
  /** dmesg lines without their timestamps */
  dmesg: string[];
  /** the test_pages_isolated records' results: `ret=fail` / `ret=success` */
  isolated: string[];
}

let seq = 0;
async function run(name: string, ...args: string[]): Promise<Run> {
  const [d, t, o] = ['d', 't', 'o'].map((x) => join(dir, `${name}.${seq}.${x}`));
  seq++;
  const r = await cmascope([
    'run',
    workload(name),
    ...args,
    '--dmesg',
    d!,
    '--trace',
    t!,
    '--events',
    'page_isolation:*',
    '-f',
    'json',
    '-o',
    o!,
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const dmesg = readFileSync(d!, 'utf8').split('\n').slice(0, -1);
  for (const l of dmesg) expect(l).toMatch(/^\[ {0,4}\d+\.\d{6}\] /);
  const isolated = readFileSync(t!, 'utf8')
    .split('\n')
    .filter((l) => l.includes('test_pages_isolated:'))
    .map((l) => l.slice(l.lastIndexOf(' ') + 1));
  return {
    final: (JSON.parse(readFileSync(o!, 'utf8')) as Snapshot[]).at(-1)!,
    dmesg: dmesg.map((l) => l.slice(l.indexOf('] ') + 2)),
    isolated,
  };
}

describe.concurrent('public incidents as bundled workloads (issue #17 item 5)', () => {
  it('rpi-vc4-storm (anholt/linux#94, raspberrypi/linux#2966): every frame fails -12 with no window', async () => {
    const [lowest, kernel, v618] = await Promise.all([
      run('rpi-vc4-storm', '--policy', LOWEST),
      run('rpi-vc4-storm', '--policy', KERNEL),
      run('rpi-vc4-storm', '--policy', KERNEL, '--kernel', '6.18'),
    ]);
    for (const r of [lowest!, kernel!]) {
      expect(r.final.results).toEqual({ targets_ok: 6, textures_ok: 52, failed_frames: 20 });
      const cma = r.final.failures.filter((f) => f.op === 'cma_alloc');
      expect(cma).toHaveLength(20);
      for (const f of cma) {
        // the bitmap is handed out: no window, so no page and no holder to blame
        expect(f).toMatchObject({ area: 'linux,cma', count: 2040, errno: 'ENOMEM' });
        expect(f.windows).toEqual({ tried: 0 });
        expect(f.blocker).toBeUndefined();
      }
      expect(r.final.failures.filter((f) => f.op === 'dma_heap_alloc')).toHaveLength(20);
      expect(r.dmesg).toEqual(
        Array(20).fill('cma: cma_alloc: linux,cma: alloc failed, req-size: 2040 pages, ret: -12'),
      );
      expect(r.isolated).toEqual(Array(58).fill('ret=success')); // the 58 buffers that fit
      expect(r.final.vmstat.pgmigrate_success).toBe(0);
    }
    // 6.15+ starts ret at -EBUSY and shows the bitmap's free runs after each failure (§2.7)
    expect(v618!.final.results).toEqual(lowest!.final.results);
    expect(v618!.dmesg.slice(0, 5)).toEqual([
      'cma: __cma_alloc: linux,cma: alloc failed, req-size: 2040 pages, ret: -16',
      'cma: number of available pages: ',
      'cma: range 0: +8@2040+8@4088+8@6136+8@8184+8@10232+8@12280+768@15616',
      'cma: ',
      '=> 816 free of 16384 total pages',
    ]);
    expect(v618!.dmesg).toHaveLength(100);
  });

  it('zynqmp-udmabuf (ikwzm/udmabuf#98): the whole-region cma_alloc fails -16 on one O_DIRECT page', async () => {
    const [lowest, kernel, idle] = await Promise.all([
      run('zynqmp-udmabuf', '--policy', LOWEST),
      run('zynqmp-udmabuf', '--policy', KERNEL),
      run('zynqmp-udmabuf', '--policy', LOWEST, '--set', 'ioMs=0'),
    ]);
    const region = { start: 0x800000, end: 0x880000 }; // reg = <0x8 0x0 0x0 0x80000000>
    for (const [r, pfn] of [
      [lowest!, 0x80c000], // right after the 192 MiB of boot pages
      [kernel!, 0x873c33],
    ] as const) {
      expect(r.final.results).toEqual({ udmabuf_probe: 'ENOMEM' });
      expect(r.final.cma['image_buf@0']!.base_pfn).toBe(region.start);
      const [f, heap] = r.final.failures;
      expect(f).toMatchObject({ op: 'cma_alloc', area: 'image_buf@0', count: 524288 });
      expect(f!.errno).toBe('EBUSY');
      expect(f!.windows).toEqual({
        tried: 1,
        first: { ...region, fin_pfn: pfn },
        last: { ...region, fin_pfn: pfn },
      });
      expect(f!.blocking_pfns).toEqual([pfn]);
      expect(f!.blocker).toEqual({ pid: 102, comm: 'daq', via: 'o_direct', id: 1 });
      expect(heap).toMatchObject({ op: 'dma_heap_alloc', errno: 'ENOMEM' });
      expect(r.final.failures).toHaveLength(2);
      expect(r.dmesg).toEqual([
        'cma: cma_alloc: image_buf@0: alloc failed, req-size: 524288 pages, ret: -16',
      ]);
      expect(r.isolated).toEqual(['ret=fail']);
      // every other page of the window moved: the boot pages that were in the region
      expect(r.final.vmstat.pgmigrate_success).toBe(24576);
    }
    expect(idle!.final.results).toEqual({ udmabuf_probe: 'ok' });
    expect(idle!.final.failures).toEqual([]);
    expect(idle!.dmesg).toEqual([]);
    expect(idle!.isolated).toEqual(['ret=success']);
  });

  it('rpi-fs-pages-busy (anholt/linux#76): on 6.4 the page cache in CMA moves, nothing is busy', async () => {
    const [lowest, kernel] = await Promise.all([
      run('rpi-fs-pages-busy', '--policy', LOWEST),
      run('rpi-fs-pages-busy', '--policy', KERNEL),
    ]);
    for (const [r, migrated] of [
      [lowest!, 8512],
      [kernel!, 143],
    ] as const) {
      expect(r.final.results).toEqual({ buffers_ok: 64 });
      expect(r.final.failures).toEqual([]);
      expect(r.dmesg).toEqual([]); // no PFNs busy (dropped in 5.13), no alloc failed
      expect(r.isolated).toEqual(Array(64).fill('ret=success'));
      expect(r.final.vmstat.pgmigrate_success).toBe(migrated);
      expect(r.final.vmstat.pgmigrate_fail).toBe(0);
    }
  });
});
