// /sys/kernel/debug/gup_test PIN_LONGTERM_TEST_START / _STOP: the pins the gup_longterm selftest
// takes (kernel-model.md §7.F), held until stopped.
import type { Sleep } from '../../sim/engine.js';
import { sleep } from '../../sim/engine.js';
import { PAGE_SIZE } from '../../sim/units.js';
import { ERRNO } from '../config.js';
import type { Kernel } from '../kernel.js';
import type { Task } from '../task.js';
import {
  FOLL_LONGTERM,
  FOLL_PIN,
  FOLL_WRITE,
  pinUserPages,
  pinUserPagesFast,
  unpinUserPages,
} from './gup.js';
import { type HeldPages, hold, release } from './pin_holder.js';

const held = new WeakMap<Task, HeldPages>();

/** PIN_LONGTERM_TEST_START: pin [addr, addr+len) with FOLL_LONGTERM [| FOLL_WRITE]. */
export function* gupTestPin(
  k: Kernel,
  task: Task,
  addr: number,
  len: number,
  opts: { write: boolean; fast: boolean },
): Generator<Sleep, number> {
  if (held.has(task)) return -ERRNO.EINVAL;
  // pin_longterm_test_start(): IS_ALIGNED(args.addr | args.size, PAGE_SIZE), at least a page (§7.F)
  if (addr % PAGE_SIZE || len % PAGE_SIZE || len === 0) return -ERRNO.EINVAL;
  const start = addr / PAGE_SIZE;
  const n = len / PAGE_SIZE;
  const flags = FOLL_LONGTERM | (opts.write ? FOLL_WRITE : 0);
  const pfns: number[] = [];
  // pin_longterm_test_start() loops over partial counts; the first error unpins everything
  for (let done = 0; done < n; ) {
    const rc = (opts.fast ? pinUserPagesFast : pinUserPages)(
      k,
      task.mm,
      start + done,
      n - done,
      flags,
      pfns,
    );
    if (rc <= 0) {
      yield sleep(k.takeCharge());
      unpinUserPages(k, pfns);
      return rc < 0 ? rc : -ERRNO.EFAULT;
    }
    done += rc;
  }
  yield sleep(k.takeCharge());
  held.set(task, hold(k, task, 'gup_test', task.pid, pfns, flags | FOLL_PIN));
  return 0;
}

/**
 * Closing /sys/kernel/debug/gup_test (gup_test_release → pin_longterm_test_stop): the pins the
 * task still holds go when it exits (§7.F; exit_files closes the file).
 */
export function gupTestRelease(k: Kernel, task: Task): void {
  const h = held.get(task);
  if (!h) return;
  held.delete(task);
  release(k, h);
}

/** PIN_LONGTERM_TEST_STOP. */
export function gupTestUnpin(k: Kernel, task: Task): number {
  const h = held.get(task);
  if (!h) return -ERRNO.EINVAL;
  held.delete(task);
  release(k, h);
  return 0;
}
