// GFP flags and their mapping to a migratetype and ALLOC_CMA (kernel-model.md §1.6).
import { MT } from '../config.js';

export const __GFP_MOVABLE = 1 << 0;
export const __GFP_RECLAIMABLE = 1 << 1;
export const __GFP_HIGHMEM = 1 << 2;
export const __GFP_RETRY_MAYFAIL = 1 << 3;
export const __GFP_NOWARN = 1 << 4;
export const __GFP_NORETRY = 1 << 5;
export const __GFP_ZERO = 1 << 6;
export const __GFP_CMA = 1 << 7; // Android tagged-CMA allocations (§6 item 5)

export const GFP_KERNEL = 0;
export const GFP_USER = 0; // same zones and migratetype as GFP_KERNEL here
export const GFP_HIGHUSER_MOVABLE = __GFP_MOVABLE | __GFP_HIGHMEM;

/** gfp_migratetype() */
export function gfpMigratetype(gfp: number): MT {
  if (gfp & __GFP_MOVABLE) return gfp & __GFP_RECLAIMABLE ? MT.RECLAIMABLE : MT.MOVABLE;
  return gfp & __GFP_RECLAIMABLE ? MT.RECLAIMABLE : MT.UNMOVABLE;
}

/**
 * gfp_to_alloc_flags_cma(): ALLOC_CMA iff the migratetype is MOVABLE (§1.6 item 1); under the
 * Android "tagged-only" restriction only __GFP_CMA allocations may use CMA (§6 item 5).
 */
export function allocCma(mt: MT, gfp: number, taggedOnly: boolean): boolean {
  return mt === MT.MOVABLE && (!taggedOnly || (gfp & __GFP_CMA) !== 0);
}

/** current_gfp_context() under PF_MEMALLOC_PIN clears __GFP_MOVABLE (§1.6 item 1, §4.3). */
export function memallocPinGfp(gfp: number): number {
  return gfp & ~__GFP_MOVABLE;
}
