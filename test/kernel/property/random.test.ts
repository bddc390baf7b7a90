// Property-based test of the memory core: random operation sequences on small machines (gen.ts),
// with every invariant of invariants.ts checked after every step and the oracles of oracles.ts on
// single operations.
//
// FC_SEED=<n> replays a reported failure; FC_RUNS=<n> runs more sequences (mind the 60 s test
// timeout: about 3000 fit).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../invariants.js';
import { boot, opArb, variantArb } from './gen.js';
import { describeOp, Model } from './model.js';

describe('random operation sequences keep every invariant', () => {
  it('1000 sequences of 5–40 operations', () => {
    const totals = { runs: 0, ops: 0, cmaOk: 0, cmaFail: 0, enomem: 0, ebusy: 0, migrated: 0 };
    fc.assert(
      fc.property(
        variantArb,
        fc.array(opArb, { minLength: 5, maxLength: 40, size: 'max' }),
        (v, ops) => {
          const { k, clock } = boot(v);
          const m = new Model(k, clock);
          checkInvariants(k, m.ctx);
          for (let i = 0; i < ops.length; i++) {
            try {
              m.run(ops[i]!);
              checkInvariants(k, m.ctx);
            } catch (e) {
              const err = e as Error;
              err.message = `after op #${i} ${describeOp(ops[i]!)} on ${JSON.stringify(v)}: ${err.message}`;
              throw err;
            }
          }
          checkInvariants(k, { ...m.ctx, exhaustive: true });
          totals.runs++;
          totals.ops += ops.length;
          for (const key of ['cmaOk', 'cmaFail', 'enomem', 'ebusy', 'migrated'] as const)
            totals[key] += m.stats[key];
        },
      ),
      {
        numRuns: Number(process.env.FC_RUNS ?? 1000),
        ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
      },
    );
    // the generator must reach the interesting paths, not only trivial ones
    expect(totals.runs).toBeGreaterThanOrEqual(1000);
    expect(totals.cmaOk).toBeGreaterThan(0);
    expect(totals.ebusy).toBeGreaterThan(0);
    expect(totals.migrated).toBeGreaterThan(0);
  });
});
