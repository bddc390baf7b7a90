// DMA-BUF heaps that allocate from CMA (kernel-model.md §5.5): the CMA heap (one cma_alloc per buffer), and
// pool heaps whose first buffer takes a whole pool in one cma_alloc and whose last free releases
// it — the MediaTek secure heap (the whole region, align 0) and the TEE protected heap (a dynamic
// pool of min_size, align = min(order, 8)).
import { type Sleep, sleep } from '../../../sim/engine.js';
import { getOrder, PAGE_SIZE, parseSize } from '../../../sim/units.js';
import { CMA_ALIGNMENT, ConfigError, ERRNO } from '../../config.js';
import { File } from '../../fs/file.js';
import type { Kernel } from '../../kernel.js';
import { type CmaAllocOutcome, cmaAlloc, cmaRelease } from '../../mm/cma.js';
import type { CmaArea } from '../../mm/cma_area.js';
import type { Task } from '../../task.js';

/** How often a task waiting for the pool mutex looks again (the model has no wait queue here). */
const POOL_MUTEX_POLL_NS = 1_000_000;

export type HeapType = 'cma' | 'secure-region' | 'tee-protected';
export const HEAP_TYPES: readonly HeapType[] = ['cma', 'secure-region', 'tee-protected'];

export interface HeapSpec {
  name: string;
  type: HeapType;
  /** the CMA area the heap allocates from */
  area: string;
  /** tee-protected: the pool OP-TEE asks for (min_size), default 64 MiB (C31) */
  poolSize?: string | number;
}

export interface DmaHeap {
  readonly name: string;
  readonly type: HeapType;
  readonly area: CmaArea;
  /** DMA_HEAP_IOCTL_ALLOC: a dma-buf fd, or a negative errno */
  allocate(k: Kernel, task: Task, len: number): Generator<Sleep, number>;
}

/** cma_heap_allocate(): one cma_alloc per buffer, align = min(get_order(size), 8). */
class CmaHeap implements DmaHeap {
  readonly type = 'cma';
  constructor(
    readonly name: string,
    readonly area: CmaArea,
  ) {}

  *allocate(k: Kernel, task: Task, len: number): Generator<Sleep, number> {
    const pages = Math.ceil(len / PAGE_SIZE);
    if (pages === 0) return -ERRNO.EINVAL;
    const out = yield* cmaAlloc(k, this.area, pages, Math.min(getOrder(len), CMA_ALIGNMENT));
    if (out.pfn < 0) return -ERRNO.ENOMEM; // the caller sees NULL → -ENOMEM (§2.3)
    return task.files.install(new File('dma_buf', () => cmaRelease(k, this.area, out.pfn, pages)));
  }
}

/** A pool taken from CMA by the first buffer and given back with the last one. */
class PoolHeap implements DmaHeap {
  private pfn = -1;
  private buffers = 0;
  private usedPages = 0;
  /** the pool mutex (protmem `rp->mutex`), held across the first buffer's cma_alloc */
  private locked = false;

  constructor(
    readonly name: string,
    readonly type: HeapType,
    readonly area: CmaArea,
    private readonly poolPages: number,
    private readonly align: number,
  ) {}

  *allocate(k: Kernel, task: Task, len: number): Generator<Sleep, number> {
    const pages = Math.ceil(len / PAGE_SIZE);
    if (pages === 0) return -ERRNO.EINVAL;
    // mutex_lock(): a buffer allocated while the pool's cma_alloc sleeps waits for its outcome
    // instead of taking a second pool (§5.5: one cma_alloc for the whole pool)
    while (this.locked) yield sleep(POOL_MUTEX_POLL_NS);
    if (this.usedPages + pages > this.poolPages) return -ERRNO.ENOMEM;
    if (this.buffers === 0) {
      this.locked = true;
      let out: CmaAllocOutcome;
      try {
        out = yield* cmaAlloc(k, this.area, this.poolPages, this.align);
      } finally {
        this.locked = false;
      }
      if (out.pfn < 0) return -ERRNO.ENOMEM;
      this.pfn = out.pfn;
    }
    this.buffers++;
    this.usedPages += pages;
    return task.files.install(
      new File('dma_buf', () => {
        this.usedPages -= pages;
        if (--this.buffers === 0) cmaRelease(k, this.area, this.pfn, this.poolPages);
      }),
    );
  }
}

function createHeap(spec: HeapSpec, area: CmaArea): DmaHeap {
  switch (spec.type) {
    case 'cma':
      return new CmaHeap(spec.name, area);
    case 'secure-region':
      // mtk_svp_cma: cma_alloc(cma, cma_size >> PAGE_SHIFT, get_order(PAGE_SIZE) = 0)
      return new PoolHeap(spec.name, spec.type, area, area.count, 0);
    case 'tee-protected': {
      // init_dyn_protmem → dma_alloc_pages → cma_alloc(count, min(get_order, 8)) (C31)
      const bytes = parseSize(spec.poolSize ?? '64MiB', `pool size of heap '${spec.name}'`);
      if (bytes === 0 || bytes % PAGE_SIZE) {
        throw new ConfigError(
          `heap '${spec.name}': the pool size must be a non-zero multiple of 4KiB, not '${spec.poolSize}'`,
        );
      }
      return new PoolHeap(
        spec.name,
        spec.type,
        area,
        bytes / PAGE_SIZE,
        Math.min(getOrder(bytes), CMA_ALIGNMENT),
      );
    }
  }
}

/** Each kernel's heaps by name (dma-heap.c's heap_list), added at boot (boot.ts). */
const heapLists = new WeakMap<Kernel, Map<string, DmaHeap>>();

/**
 * dma_heap_add() for each heap of the machine; default: one CMA heap per area, named after it
 * (§5.5).
 */
export function dmaHeapsAdd(k: Kernel, specs: readonly HeapSpec[] | undefined): void {
  const heaps = new Map<string, DmaHeap>();
  for (const h of specs ??
    k.cma.map((c): HeapSpec => ({ name: c.name, type: 'cma', area: c.name }))) {
    if (heaps.has(h.name)) throw new ConfigError(`duplicate DMA-BUF heap name '${h.name}'`);
    if (!HEAP_TYPES.includes(h.type)) {
      throw new ConfigError(
        `heap '${h.name}': unknown type '${h.type}' (${HEAP_TYPES.slice(0, -1).join(', ')} or ${HEAP_TYPES.at(-1)})`,
      );
    }
    const area = k.cmaByName(h.area);
    if (!area) throw new ConfigError(`heap '${h.name}': unknown CMA area '${h.area}'`);
    heaps.set(h.name, createHeap(h, area));
  }
  heapLists.set(k, heaps);
}

/** dma_heap_find(): the heap of `k` named `name`. */
export const dmaHeapFind = (k: Kernel, name: string): DmaHeap | undefined =>
  heapLists.get(k)?.get(name);
