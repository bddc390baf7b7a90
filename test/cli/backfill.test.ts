// `run -f openmetrics --interval 1s` loads whole into a Prometheus TSDB with promtool's backfill
// (`promtool tsdb create-blocks-from openmetrics`), each sample at the epoch plus its simulated time.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { EPOCH_S } from '../../src/metrics/exposition.js';
import type { Snapshot } from '../../src/metrics/snapshot.js';
import { hasPromtool } from '../metrics/exposition-rules.js';
import { cmascope, workload } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cmascope-backfill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const promtool = (...args: string[]) => {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  expect(r.status, `promtool ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
};

// CI installs promtool (.ci/run): there, a missing promtool is a failure
it.skipIf(!hasPromtool() && !process.env.CI)(
  'promtool backfills a whole run: every 1 s sample of cma_alloc_fail at epoch + simulated time',
  async () => {
    expect(hasPromtool(), 'promtool not found: apt-get install prometheus').toBe(true);
    const om = join(dir, 'run.om');
    const json = join(dir, 'run.json');
    const args = [workload('secure-playback'), '--interval', '1s'];
    const [a, b] = await Promise.all([
      cmascope(['run', ...args, '-f', 'openmetrics', '-o', om]),
      cmascope(['run', ...args, '-f', 'json', '-o', json]),
    ]);
    expect([a.code, a.stderr, b.code, b.stderr]).toEqual([0, '', 0, '']);

    const tsdb = join(dir, 'tsdb');
    const created = promtool('tsdb', 'create-blocks-from', 'openmetrics', om, tsdb);
    // one block, from the first interval (1 s) to the final snapshot (600 s), both inclusive
    expect(created).toMatch(/\n\w{26} +1672531201000 +1672531800001 +9m59\.001s +/);
    mkdirSync(join(tsdb, 'wal')); // promtool 2.42's dump opens the (empty) WAL too
    const dump = promtool('tsdb', 'dump', '--match=cmascope_vmstat_cma_alloc_fail_total', tsdb)
      .trim()
      .split('\n');

    // the same series as the JSON snapshots of the same run, sample for sample
    const snaps = JSON.parse(readFileSync(json, 'utf8')) as Snapshot[];
    expect(snaps).toHaveLength(600);
    expect(dump).toEqual(
      snaps.map(
        (s) =>
          `{__name__="cmascope_vmstat_cma_alloc_fail_total"} ${s.vmstat.cma_alloc_fail} ${EPOCH_S * 1000 + s.simTimeNs / 1e6}`,
      ),
    );
    // the first failure at t = 5.6 s is in the sample at 6 s; eight by the end
    expect(dump.slice(4, 6)).toEqual([
      '{__name__="cmascope_vmstat_cma_alloc_fail_total"} 0 1672531205000',
      '{__name__="cmascope_vmstat_cma_alloc_fail_total"} 1 1672531206000',
    ]);
    expect(dump.at(-1)).toBe('{__name__="cmascope_vmstat_cma_alloc_fail_total"} 8 1672531800000');
  },
);
