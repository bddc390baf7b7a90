// Run by rss.ts as `node --expose-gc rss_child.js <memory>`: boot a machine with a 512 MiB CMA
// area, fault anon memory up to 90% used, cma_alloc and release 64 MiB, touch every typed array
// the kernel holds, then print {"rss": bytes, ...} on stdout.
import { bootKernel } from '../src/kernel/boot.js';
import { cmaAlloc, cmaRelease } from '../src/kernel/mm/cma.js';
import { faultPage } from '../src/kernel/mm/memory.js';
import { ObjKind } from '../src/kernel/mm/rmap.js';
import { drive } from '../test/helpers.js';

const OBJ_PAGES = 1 << 18; // one anon object per GiB
const CMA_64M = 16384;

/**
 * Write every 4 KiB of every typed array reachable from `root`, so that memory the allocator
 * reserved but has not written yet (calloc'd, not resident) counts as it will in a long run.
 */
function touchAll(root: unknown): void {
  const seen = new Set<unknown>();
  const stack = [root];
  while (stack.length) {
    const o = stack.pop();
    if (o === null || typeof o !== 'object' || seen.has(o)) continue;
    seen.add(o);
    if (ArrayBuffer.isView(o)) {
      const u8 = new Uint8Array(o.buffer, o.byteOffset, o.byteLength);
      for (let i = 0; i < u8.length; i += 4096) u8[i]! |= 0; // a write: the page becomes resident
      continue;
    }
    const values = o instanceof Map ? [...o.values()] : Object.values(o);
    for (const v of values) stack.push(v);
  }
}

const memory = process.argv[2] ?? '16GiB';
const clock = { now: 0 };
const k = bootKernel({ machine: { memory, cma: [{ name: 'cma', size: '512MiB' }] } }, clock);
const total = k.alloc.zones.reduce((n, z) => n + z.managedPages, 0);
const target = Math.floor(total * 0.9);
let used = 0;
faulting: while (used < target) {
  const obj = k.rmap.create(ObjKind.ANON, Math.min(OBJ_PAGES, target - used), 'anon');
  for (let i = 0; i < obj.pages.length; i++) {
    if (faultPage(k, obj, i) < 0) break faulting;
    used++;
  }
}
const area = k.cma[0]!;
const r = drive(cmaAlloc(k, area, CMA_64M, 8), clock);
if (r.pfn < 0) throw new Error(`cma_alloc of 64 MiB failed: errno ${r.errno}`);
cmaRelease(k, area, r.pfn, CMA_64M);
touchAll(k);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
gc();
const { rss, heapUsed, arrayBuffers } = process.memoryUsage();
const out = { rss, heapUsed, arrayBuffers, used, total, migrated: r.migrated };
process.stdout.write(`${JSON.stringify(out)}\n`);
