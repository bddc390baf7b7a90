// The files a kernel engineer reads: /proc/meminfo, /proc/vmstat, /sys/kernel/mm/cma/<name>/ and
// /sys/kernel/debug/cma/<name>/ (kernel-model.md §1.8, §2.6), in the kernel's names and units.
import { features } from '../features.js';
import type { Kernel } from '../kernel.js';
import { popcount32 } from '../mm/bitmap.js';
import type { CmaArea } from '../mm/cma_area.js';

const kB = (pages: number) => pages * 4;

/** /proc/meminfo (kB). */
export function meminfo(k: Kernel) {
  const [free, freeCma] = k.alloc.freeCounts();
  const managed = k.totalramPages();
  const cma = k.cma.reduce((n, c) => n + c.count, 0); // totalcma_pages
  return { MemTotal: kB(managed), MemFree: kB(free), CmaTotal: kB(cma), CmaFree: kB(freeCma) };
}

/** /proc/vmstat: the counters the simulation keeps. */
export function vmstat(k: Kernel) {
  const [free, freeCma] = k.alloc.freeCounts();
  return { nr_free_pages: free, nr_free_cma: freeCma, ...k.vm };
}

/** /sys/kernel/mm/cma/<name>/: release_pages_success, total_pages and available_pages are 6.9+. */
export function cmaSysfs(k: Kernel, cma: CmaArea): Record<string, number> {
  const files: Record<string, number> = {
    alloc_pages_success: cma.allocPagesSuccess,
    alloc_pages_fail: cma.allocPagesFail,
  };
  const f = features(k.version);
  if (f.cmaReleasePagesSuccess) files.release_pages_success = cma.releasePagesSuccess;
  if (f.cmaAvailableCount) {
    files.total_pages = cma.count;
    files.available_pages = cma.availableCount;
  }
  return files;
}

/** /sys/kernel/debug/cma/<name>/ (without the alloc/free control files). */
export function cmaDebugfs(k: Kernel, cma: CmaArea) {
  let weight = 0;
  for (const w of cma.bitmap) weight += popcount32(w);
  return {
    base_pfn: cma.basePfn,
    count: cma.count,
    order_per_bit: cma.orderPerBit,
    // 6.4: bitmap_weight << order_per_bit; 6.18: count - available_count (§2.6)
    used: features(k.version).cmaAvailableCount ? cma.used() : weight << cma.orderPerBit,
    maxchunk: cma.maxchunk(),
    bitmap: [...cma.bitmap],
  };
}
