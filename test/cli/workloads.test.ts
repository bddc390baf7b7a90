// The bundled workloads' outcomes under each policy, as the README's "Bundled workloads" table
// states them: `cmascope run workloads/<name>.ts -f json --policy ...`, final snapshot.
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/metrics/snapshot.js';
import { cmascope, workload } from './cli.js';

const UPSTREAM = 'teePin=upstream';
const V2 = 'teePin=v2-longterm';
const V2_ACCT = 'teePin=v2-longterm,teeAccounting=io_uring';

/** The final snapshot of a run (exit 0 required). */
async function final(name: string, ...args: string[]): Promise<Snapshot> {
  const r = await cmascope(['run', workload(name), '-f', 'json', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const all = JSON.parse(r.stdout) as Snapshot[];
  return all.at(-1)!;
}

/** Runs of one workload under several argument lists, concurrently. */
const finals = (name: string, runs: string[][]) => Promise.all(runs.map((a) => final(name, ...a)));

const failures = (s: Snapshot) =>
  s.failures.map((f) => ({
    op: f.op,
    errno: f.errno,
    ...(f.area === undefined ? {} : { area: f.area, count: f.count }),
    ...(f.blocker === undefined
      ? {}
      : { blocking_pfn: f.blocking_pfn, blocker: `${f.blocker.comm} via ${f.blocker.via}` }),
  }));

const proc = (s: Snapshot, comm: string) => s.processes.find((p) => p.comm === comm)!;

describe('workloads/mtk-secure-region.ts (kernel-model.md §5.5: one pinned page in a 384 MiB region)', () => {
  it('upstream: the whole-region cma_alloc fails on the TEE-pinned page; v2 and v2+accounting start playback', async () => {
    const [up, v2, acct] = await finals('mtk-secure-region', [
      ['--policy', UPSTREAM],
      ['--policy', V2],
      ['--policy', V2_ACCT],
    ]);
    const region = up!.cma.mtk_svp!;
    expect(region.base_pfn).toBe(0x80000); // reg = <0x80000000 0x18000000>
    expect(region.count).toBe(98304);
    expect(up!.results).toEqual({
      tee_shm_alloc: 'ok',
      tee_register: 'ok',
      playback_start: 'ENOMEM',
      region_alloc_ms: 370,
      frames_ok: 0,
    });
    expect(failures(up!)).toEqual([
      {
        op: 'cma_alloc',
        errno: 'EBUSY',
        area: 'mtk_svp',
        count: 98304, // the whole region, one window
        // the kernel's lists hand out the region's highest pageblocks first (the CMA pageblocks
        // are freed to the heads at boot): the client's page sits high in the region
        blocking_pfn: 0x80000 + 80560,
        blocker: 'drm-client via tee_shm',
      },
      { op: 'dma_heap_alloc', errno: 'ENOMEM' },
    ]);
    expect(up!.cma.mtk_svp!.pages_by_state.pinned_short).toBe(1); // still pinned at the end
    expect(up!.vmstat).toMatchObject({ cma_alloc_fail: 1, nr_foll_pin_acquired: 1 });

    const started = {
      tee_shm_alloc: 'ok',
      tee_register: 'ok',
      playback_start: 'ok',
      region_alloc_ms: 374,
      frames_ok: 16,
    };
    for (const s of [v2!, acct!]) {
      expect(s.results).toEqual(started);
      expect(s.failures).toEqual([]);
      // FOLL_LONGTERM moved the page out before pinning it (C8): pinned twice, released once
      expect(s.vmstat).toMatchObject({
        cma_alloc_success: 1,
        cma_alloc_fail: 0,
        nr_foll_pin_acquired: 2,
        nr_foll_pin_released: 1,
      });
    }
    expect(v2!.users['1000']!.locked_vm).toBe(0);
    expect(acct!.users['1000']!.locked_vm).toBe(1); // one page, far below 8 MiB (C24)
    expect(proc(acct!, 'drm-client').VmPin).toBe(4);
  });
});

describe('workloads/io-uring-memlock.ts (C20: per-user charging; C24)', () => {
  it('charges every process of uid 1000 to one locked_vm; only io_uring-style TEE accounting refuses the TEE buffer', async () => {
    const [up, v2, acct] = await finals('io-uring-memlock', [
      ['--policy', UPSTREAM],
      ['--policy', V2],
      ['--policy', V2_ACCT],
    ]);
    const c20 = {
      p1_register: 'ok',
      p2_register: 'ENOMEM',
      p3_register: 'ok',
      p1_unregister: 'ok',
      p2_retry: 'ok',
    };
    for (const s of [up!, v2!]) {
      expect(s.results).toEqual({ ...c20, tee_register: 'ok' });
      expect(failures(s)).toEqual([{ op: 'io_uring_register_buffers', errno: 'ENOMEM' }]);
    }
    expect(acct!.results).toEqual({ ...c20, tee_register: 'ENOMEM' });
    expect(failures(acct!)).toEqual([
      { op: 'io_uring_register_buffers', errno: 'ENOMEM' },
      { op: 'tee_shm_register', errno: 'ENOMEM' },
    ]);
    for (const s of [up!, v2!, acct!]) {
      expect(s.users['1000']!.locked_vm).toBe(1024); // p2's 4 MiB after p1 let go
      expect(s.users['1001']!.locked_vm).toBe(1536); // p3's 6 MiB
      expect([proc(s, 'p1').VmPin, proc(s, 'p2').VmPin, proc(s, 'p3').VmPin]).toEqual([
        0, 4096, 6144,
      ]);
      expect(proc(s, 'p2').memlock_denied).toBe(1);
    }
    expect(proc(acct!, 'drm-client').memlock_denied).toBe(1);
    expect(proc(up!, 'drm-client').memlock_denied).toBe(0);
  });
});

describe('workloads/odirect-race.ts (§4.7 short-term pins; §6 cmaRetry)', () => {
  it('fails during the O_DIRECT write whatever teePin says; Android retry succeeds once it completed', async () => {
    const [up, v2, acct, android] = await finals('odirect-race', [
      ['--policy', UPSTREAM],
      ['--policy', V2],
      ['--policy', V2_ACCT],
      ['--policy', 'cmaRetry=android'],
    ]);
    for (const s of [up!, v2!, acct!]) {
      expect(s.results).toEqual({
        playback_start: 'ENOMEM',
        alloc_ms: 841,
        io_in_flight_at_result: true,
        writes_done_at_result: 0,
      });
      expect(failures(s)).toEqual([
        {
          op: 'cma_alloc',
          errno: 'EBUSY',
          area: 'svp',
          count: 51200,
          blocking_pfn: 0x30000 + 36864,
          blocker: 'recorder via o_direct',
        },
        { op: 'dma_heap_alloc', errno: 'ENOMEM' },
      ]);
    }
    expect(android!.kernel.cmaRetry).toBe('android');
    expect(android!.results).toEqual({
      playback_start: 'ok',
      alloc_ms: 1129,
      io_in_flight_at_result: false,
      writes_done_at_result: 1,
    });
    expect(android!.failures).toEqual([]);
    expect(android!.vmstat).toMatchObject({ cma_alloc_success: 1, cma_alloc_fail: 0 });
  });
});

describe('workloads/cache-churn.ts (§1.6 drift into CMA; §6 item 1 GCMA)', () => {
  it('the camera allocation migrates the drifted pages out of CMA; on a GCMA area it migrates nothing', async () => {
    const [up, v2, acct, gcma] = await finals('cache-churn', [
      ['--policy', UPSTREAM],
      ['--policy', V2],
      ['--policy', V2_ACCT],
      ['--set', 'gcma=true'],
    ]);
    for (const s of [up!, v2!, acct!]) {
      expect(s.results).toEqual({ cache_dropped_pages: 32768, camera_alloc: 'ok', alloc_ms: 158 });
      expect(s.vmstat).toMatchObject({ cma_alloc_success: 1, pgmigrate_success: 6591 });
      expect(s.failures).toEqual([]);
    }
    expect(gcma!.results).toEqual({ cache_dropped_pages: 30626, camera_alloc: 'ok', alloc_ms: 67 });
    expect(gcma!.vmstat).toMatchObject({
      cma_alloc_success: 1,
      pgmigrate_success: 0,
      nr_free_cma: 0, // a GCMA area's pages are never in the buddy
    });
  });

  it('before the allocation, plain CMA holds drifted anon and page cache; GCMA only dropped clean cache', async () => {
    const at19 = async (...args: string[]) => {
      const r = await cmascope([
        'run',
        workload('cache-churn'),
        '-f',
        'ndjson',
        '--until',
        '19s',
        ...args,
      ]);
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as Snapshot).cma.media!.pages_by_state;
    };
    const [cma, gcma] = await Promise.all([at19(), at19('--set', 'gcma=true')]);
    expect(cma.movable).toBe(23599);
    expect(gcma).toMatchObject({ movable: 30626, free: 34910, cma_client: 0 });
  });
});
