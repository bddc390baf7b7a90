// The small machine of the deterministic cases (cases.test.ts) and of the checker's self-tests.
import { bootKernel } from '../../../src/kernel/boot.js';
import type { KernelVersion, Policies } from '../../../src/kernel/config.js';
import type { Kernel } from '../../../src/kernel/kernel.js';
import type { TestClock } from '../../helpers.js';
import type { InvariantCtx, LiveCma } from '../invariants.js';

/**
 * 8 MiB at 0 with CMA 'a' (4 MiB, pfn 1024..2047) on top and `reservedMiB` of boot memory, so
 * that free non-CMA memory is small and the first user pages land in CMA at its lowest pfns. No
 * per-CPU lists (unless `policies` names pcp): the cases count every free page in the buddy.
 */
export function smallMachine(
  version: KernelVersion,
  policies: Partial<Policies> = {},
  reservedMiB = 2,
): { k: Kernel; clock: TestClock; a: ReturnType<Kernel['cmaByName']> & {} } {
  const clock: TestClock = { now: 0 };
  const k = bootKernel(
    {
      version,
      policies: { pcp: 'off', ...policies },
      machine: {
        memory: '8MiB',
        dramBase: 0,
        minFree: 0,
        reserved: `${reservedMiB}MiB`,
        cma: [{ name: 'a', size: '4MiB' }],
      },
    },
    clock,
  );
  return { k, clock, a: k.cmaByName('a')! };
}

export const A_BASE = 1024;
export const ctxOf = (live: LiveCma[] = []): InvariantCtx => ({ cmaLive: [live] });
