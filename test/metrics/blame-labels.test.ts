// Issue 12 item 6: the blame families count failures since boot, not only the listed ones, with a
// bounded number of label sets.
import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../src/kernel/config.js';
import { recordFailure } from '../../src/kernel/observe/failures.js';
import { LabelTally, MAX_LABEL_SETS } from '../../src/kernel/observe/tally.js';
import { prometheusText } from '../../src/metrics/exposition.js';
import { MAX_LIST, snapshot } from '../../src/metrics/snapshot.js';
import { platformP } from '../helpers.js';

describe('blame as labels', () => {
  it('counts every cma_alloc failure since boot, beyond the listed ones', () => {
    const { k } = platformP();
    for (let i = 0; i <= MAX_LIST; i++)
      recordFailure(k, 'cma_alloc', -ERRNO.ENOMEM, { area: 'svp' });
    const s = snapshot(k, { workload: 'w', seed: 1, results: {}, logs: [] }, 0);
    expect(s.failures.length).toBe(1000);
    expect(s.cma_alloc_failures).toEqual([
      { area: 'svp', holder_comm: 'none', via: 'none', count: 1001 },
    ]);
    expect(prometheusText(s).split('\n')).toContain(
      'cmascope_cma_alloc_failures_total{area="svp",holder_comm="none",via="none"} 1001',
    );
  });

  it(`keeps ${MAX_LABEL_SETS} label sets; later new ones count as other`, () => {
    const t = new LabelTally();
    for (let i = 0; i < 40; i++) t.add(['svp', `comm${i}`, 'tee_shm']);
    t.add(['svp', 'comm0', 'tee_shm']); // a known set keeps counting
    t.add(['svp', 'comm39', 'tee_shm']); // an unknown one goes on to other
    const e = t.entries();
    expect(e.length).toBe(MAX_LABEL_SETS + 1);
    expect(e[0]).toEqual({ labels: ['svp', 'comm0', 'tee_shm'], count: 2 });
    expect(e[31]).toEqual({ labels: ['svp', 'comm31', 'tee_shm'], count: 1 });
    expect(e[32]).toEqual({ labels: ['other', 'other', 'other'], count: 9 });
  });
});
