// Oracles for single operations of the property test: where a fault must place its page
// (§1.3, §1.6, §1.7), and that a cma_alloc window failed for a reason (§2.3, §2.4, §3.4).
import { MT, MT_NAMES, PAGEBLOCK_ORDER } from '../../../src/kernel/config.js';
import type { Kernel } from '../../../src/kernel/kernel.js';
import type { CmaAllocOutcome } from '../../../src/kernel/mm/cma.js';
import { PageKind } from '../../../src/kernel/mm/page.js';

// ---- oracles for single operations -------------------------------------------------------------

export type Placement = 'fail' | 'movable-zone' | 'cma' | 'movable-pageblock' | 'non-cma';

/**
 * Where the next order-0 user page must come from (§1.3, §1.6): ZONE_MOVABLE first for
 * GFP_HIGHUSER_MOVABLE; in the normal zone CMA first iff free_cma > free / 2, then the MOVABLE
 * lists, then CMA, then stealing from another type. Under PF_MEMALLOC_PIN: UNMOVABLE, never CMA,
 * with free CMA pages unusable for the watermark (§1.7).
 */
export function expectedPlacement(k: Kernel, pin: boolean): Placement {
  const [normal, movable] = k.alloc.zones;
  if (pin) {
    return normal!.freePages - normal!.freeCma > normal!.minWatermark ? 'non-cma' : 'fail';
  }
  if (movable && movable.freePages > movable.minWatermark) return 'movable-zone';
  const z = normal!;
  if (z.freePages <= z.minWatermark) return 'fail';
  if (z.freeCma > Math.floor(z.freePages / 2)) return 'cma';
  if (z.avail[MT.MOVABLE] !== 0) return 'movable-pageblock';
  return z.freeCma > 0 ? 'cma' : 'non-cma';
}

export function checkPlacement(k: Kernel, want: Placement, pfn: number): void {
  const a = k.alloc;
  const pbMt = pfn >= 0 ? a.pbMt[pfn >> PAGEBLOCK_ORDER]! : -1;
  const inMovableZone = pfn >= a.movableStartPfn;
  const ok = {
    fail: pfn < 0,
    'movable-zone': pfn >= 0 && inMovableZone,
    cma: pfn >= 0 && !inMovableZone && pbMt === MT.CMA,
    'movable-pageblock': pfn >= 0 && !inMovableZone && pbMt === MT.MOVABLE,
    'non-cma': pfn >= 0 && !inMovableZone && pbMt !== MT.CMA,
  }[want];
  if (!ok) {
    const got =
      pfn < 0
        ? 'no page'
        : `pfn 0x${pfn.toString(16)} (${MT_NAMES[pbMt]}, zone ${a.zoneOf(pfn).name})`;
    throw new Error(`fault placement: expected ${want}, got ${got}`);
  }
}

/**
 * Every window that failed with -EBUSY (one cma_alloc_busy_retry each) holds a page that a pin
 * or transient reference keeps (§2.4, §3.4): mlocked, dirty and clean pages never block, and
 * kernel pages cannot be in CMA. The number of busy windows matches the outcome (§2.3).
 */
export function checkBusyWindows(
  k: Kernel,
  emitted: number,
  count: number,
  r: CmaAllocOutcome,
): void {
  const pages = k.alloc.pages;
  const last = r.pfn >= 0 || (r.errno === -12 && r.windows > 0) ? 1 : 0; // success or -ENOMEM
  const busy = k.trace
    .records(emitted)
    .filter((rec) => rec.name === 'cma_alloc_busy_retry')
    .map((rec) => rec as Extract<typeof rec, { name: 'cma_alloc_busy_retry' }>);
  if (busy.length !== r.windows - last)
    throw new Error(`${busy.length} busy retries for ${r.windows} windows, outcome ${r.errno}`);
  for (const rec of busy) {
    const start = rec.fields.pfn;
    let blocked = false;
    for (let p = start; p < start + count && !blocked; p++) {
      const kind = pages.kind[p];
      blocked = (kind === PageKind.ANON || kind === PageKind.FILE) && pages.hasExtraRefs(p);
    }
    if (!blocked) {
      throw new Error(
        `window 0x${start.toString(16)}+${count} failed with -EBUSY but holds no pinned or referenced page`,
      );
    }
  }
}
