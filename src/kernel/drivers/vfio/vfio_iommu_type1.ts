// VFIO type1 DMA mappings (drivers/vfio/vfio_iommu_type1.c; kernel-model.md §4.6): pin long-term in batches
// of 512 with pin_user_pages_remote (no fast path), checking mm->locked_vm (shared with mlock)
// page by page, then charge it.
import type { Sleep } from '../../../sim/engine.js';
import { sleep } from '../../../sim/engine.js';
import { PAGE_SIZE, pageSpan } from '../../../sim/units.js';
import { ERRNO } from '../../config.js';
import { handleTableOf, openHandleFile } from '../../fs/handles.js';
import type { Kernel } from '../../kernel.js';
import { FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE, pinUserPages, unpinUserPages } from '../../mm/gup.js';
import { chargeLocked, deny } from '../../mm/pin_acct.js';
import { hold, type PinnedRegion, releaseRegion } from '../../mm/pin_holder.js';
import { KERN_WARNING } from '../../observe/printk.js';
import type { Task } from '../../task.js';

/** VFIO_BATCH_MAX_CAPACITY */
const VFIO_BATCH = 512;

/** A DMA mapping: its pages pinned, mm->locked_vm charged (vfio_lock_acct). */
type DmaMap = PinnedRegion;

/** open("/dev/vfio/vfio") with a type1 IOMMU: closing it unmaps everything. */
export function vfioOpen(k: Kernel, task: Task): number {
  return openHandleFile<DmaMap>(task, 'vfio', (m) => releaseRegion(k, m));
}

/** VFIO_IOMMU_MAP_DMA: a mapping id, or a negative errno. */
export function* vfioMapDma(
  k: Kernel,
  task: Task,
  fd: number,
  addr: number,
  len: number,
): Generator<Sleep, number> {
  const maps = handleTableOf<DmaMap>(task, fd, 'vfio');
  if (!maps) return -ERRNO.EBADF;
  const [start, npages] = pageSpan(addr, len);
  if (npages === 0 || addr % PAGE_SIZE || len % PAGE_SIZE) return -ERRNO.EINVAL; // vfio_dma_do_map (§4.6)
  const lockCap = task.cred.capIpcLock; // dma->lock_cap
  const limit = task.memlockPages;
  const flags = FOLL_LONGTERM | FOLL_WRITE;
  const pfns: number[] = [];
  let lockAcct = 0;
  const fail = (errno: number): number => {
    unpinUserPages(k, pfns);
    return errno;
  };
  for (let done = 0; done < npages; ) {
    const before = pfns.length;
    // vaddr_get_pfns → pin_user_pages_remote: the slow path only (§4.3, §4.6)
    const ret = pinUserPages(
      k,
      task.mm,
      start + done,
      Math.min(npages - done, VFIO_BATCH),
      flags,
      pfns,
    );
    yield sleep(k.takeCharge());
    if (ret <= 0) return fail(ret < 0 ? ret : -ERRNO.EFAULT);
    for (let i = before; i < pfns.length; i++) {
      if (!lockCap && task.mm.lockedVm + lockAcct + 1 > limit) {
        k.printk(
          KERN_WARNING,
          `vfio_pin_pages_remote: RLIMIT_MEMLOCK (${limit * PAGE_SIZE}) exceeded`,
        );
        const held = task.mm.lockedVm;
        return fail(deny(task, -ERRNO.ENOMEM, 'vfio', 'mm.locked_vm', held, npages, task.mm));
      }
      lockAcct++;
    }
    done += ret;
  }
  // vfio_lock_acct → __account_locked_vm(..., bypass_rlim = lock_cap): the cap skips the limit
  // check, never the charge (§4.6)
  const charge = chargeLocked(task, lockAcct, 'vfio');
  return maps.add((id) => ({ held: hold(k, task, 'vfio', id, pfns, flags | FOLL_PIN), charge }));
}

/** VFIO_IOMMU_UNMAP_DMA of one mapping. */
export function vfioUnmapDma(_k: Kernel, task: Task, fd: number, id: number): number {
  const maps = handleTableOf<DmaMap>(task, fd, 'vfio');
  if (!maps) return -ERRNO.EBADF;
  return maps.remove(id) ? 0 : -ERRNO.EINVAL;
}
