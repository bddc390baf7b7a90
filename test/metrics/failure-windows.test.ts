// Item 4 of issue 12: a failed cma_alloc carries its windows (how many, the first and the last
// with fin_pfn) and every snapshot its trace counts, so a sliding failure is asserted from JSON
// alone. Platform P (kernel-model.md §7.0): one page pinned in the middle of 'svp', a request that no window
// can avoid it with.
import { describe, expect, it } from 'vitest';
import { cmaAlloc } from '../../src/kernel/mm/cma.js';
import { releasePage } from '../../src/kernel/mm/memory.js';
import { snapshot } from '../../src/metrics/snapshot.js';
import { textReport } from '../../src/metrics/text.js';
import { B, drive, platformP, touchAnon } from '../helpers.js';

const MID = B + 32768;

describe.each(['6.18', '6.4'] as const)('a sliding cma_alloc failure on %s', (version) => {
  it('align 0, 64000 pages past a pin at offset 32768: 1537 windows, all blocked at it', () => {
    const { k, clock } = platformP({ version });
    // fault pages until one lands on MID, then keep only that one, pinned
    const a = touchAnon(k, 65536);
    const kept = a.pages.indexOf(MID);
    expect(kept).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < 65536; i++) if (i !== kept) releasePage(k, a, i);
    k.alloc.pages.addPins(MID, 1);
    const r = drive(cmaAlloc(k, k.cma[0]!, 64000, 0), clock);
    expect(r.pfn).toBe(-1);
    const s = JSON.parse(
      JSON.stringify(snapshot(k, { workload: 'w', seed: 1, results: {}, logs: [] }, clock.now)),
    );
    // windows s = 0 .. 65536 - 64000 step 1 (mask 0): every one holds the pinned page
    expect(s.failures).toEqual([
      {
        t: s.failures[0].t,
        op: 'cma_alloc',
        area: 'svp',
        count: 64000,
        errno: 'EBUSY',
        windows: {
          tried: 1537,
          first: { start: B, end: B + 64000, fin_pfn: MID },
          last: { start: B + 1536, end: B + 65536, fin_pfn: MID },
        },
        blocking_pfn: MID,
        blocking_pfns: [MID],
      },
    ]);
    expect(s.trace_counts).toEqual({
      cma_alloc_busy_retry: 1537,
      cma_alloc_finish: 1,
      cma_alloc_start: 1,
      mm_migrate_pages: 1537, // each window tries the pinned page once more
      test_pages_isolated: 1537,
    });
    expect(Object.keys(s.trace_counts)).toEqual(Object.keys(s.trace_counts).sort());
    expect(textReport(s)).toContain(
      `      1537 windows: [0xe0000, 0xefa00) fin_pfn 0xe8000 ... [0xe0600, 0xf0000) fin_pfn 0xe8000\n`,
    );
  });
});
