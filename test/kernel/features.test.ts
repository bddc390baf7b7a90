// The version table: every modelled difference arrived after 6.4 and before or in 6.18.
import { describe, expect, it } from 'vitest';
import { features } from '../../src/kernel/features.js';

describe('features(version)', () => {
  it('has none of the later features on 6.4 and all of them on 6.18', () => {
    expect(Object.entries(features('6.4')).filter(([, on]) => on)).toEqual([]);
    expect(Object.entries(features('6.18')).filter(([, on]) => !on)).toEqual([]);
    expect(Object.keys(features('6.18'))).toHaveLength(14);
  });

  it('names what cma_alloc() does differently', () => {
    expect(features('6.18').cmaEarlyExit).toBe(true);
    expect(features('6.4').cmaEarlyExit).toBe(false);
  });
});
