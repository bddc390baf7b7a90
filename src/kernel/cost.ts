// Simulated time that kernel operations take, so that allocation latency is an output (kernel-model.md §8.2
// "Locks and timing"). Calibrated against the GCMA RFC v2 table
// (256 MiB CMA, CuBox i4 under a kernel build): a 1-page cma_alloc takes >= 381 us (drains and
// IPIs dominate), 32000 mostly free pages take >= 8.6 ms (~0.26 us per page collected), and the
// average over loaded runs is ~20 us per page that has to be migrated. See docs/fidelity.md.

/** One alloc_contig_range() attempt: isolation set-up, lru_cache_disable, drain_all_pages. */
export const CONTIG_ATTEMPT_NS = 350_000;
/** Isolating and un-isolating one pageblock. */
export const ISOLATE_PAGEBLOCK_NS = 1_000;
/** Taking one free page in isolate_freepages_range / test_pages_isolated. */
export const COLLECT_FREE_PAGE_NS = 250;
/** Unmapping, copying and remapping one 4 KiB page (migrate_pages, sync mode). */
export const MIGRATE_PAGE_NS = 20_000;
/** The 3 async + 7 sync passes spent on a page that keeps failing with -EAGAIN (§3.3). */
export const MIGRATE_FAIL_PASSES_NS = 10 * 2_000;
/** Reclaiming one clean page-cache page instead of migrating it. */
export const RECLAIM_PAGE_NS = 2_000;
/** A page fault that allocates and zeroes a 4 KiB page. */
export const FAULT_PAGE_NS = 1_500;
/**
 * A GCMA allocation (§6 item 1): GCMA RFC v2 on the same board, 1 page in 26 us on average and
 * 32000 pages in 44.7 ms: ~25 us per call and ~1.3 us per page.
 */
export const GCMA_ATTEMPT_NS = 25_000;
export const GCMA_PAGE_NS = 1_300;
