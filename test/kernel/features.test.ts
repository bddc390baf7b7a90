// The version table: every modelled difference arrived after 6.4 and before or in 6.18.
import { describe, expect, it } from 'vitest';
import { features } from '../../src/kernel/features.js';

/** Every feature of the table, by name: 6.4 has none of them, 6.18 all of them. */
const NAMES = [
  'cmaBadInputNotFailure',
  'cmaTraceFinishLast',
  'cmaDebugShowAreas',
  'cmaReleasePagesSuccess',
  'cmaAllocFolio',
  'cmaRanges',
  'cmaEarlyExit',
  'cmaAvailableCount',
  'cmaAllocStartCounts',
  'contigGfpKernel',
  'migrateNrSplit',
  'gupLongtermFileCheck',
  'ioUringGupFileCheck',
  'ioUringPinFast',
  'dioFollPin',
  'teeShmIovIter',
  'teeShmAllocExact',
  'pcpHighAuto',
  'pcpBelowHigh',
  'wmarkMovableNotLowmem',
  'rmqueueClaim',
];
const all = (on: boolean) => Object.fromEntries(NAMES.map((name) => [name, on]));

describe('features(version)', () => {
  it('gives 6.4 none of the features and 6.18 every one', () => {
    expect(features('6.4')).toEqual(all(false));
    expect(features('6.18')).toEqual(all(true));
  });
});
