// A failure's evidence in words, the same in the text report and the TUI: the windows a
// cma_alloc tried, and the accounting limit that refused a pin or an mlock (docs/snapshot.md
// "failures[]").
import { PAGE_SIZE } from '../sim/units.js';
import { hex, size } from './fmt.js';
import type { Snapshot } from './snapshot.js';

type Failure = Snapshot['failures'][number];
type Memlock = NonNullable<Failure['memlock']>;
type Windows = NonNullable<Snapshot['failures'][number]['windows']>;
type Window = NonNullable<Windows['first']>;

/** '[0x30000, 0x3c800) fin_pfn 0x3488c': a window and where test_pages_isolated stopped. */
export const windowText = (w: Window): string =>
  `[${hex(w.start)}, ${hex(w.end)}) fin_pfn ${w.fin_pfn === null ? 'none' : hex(w.fin_pfn)}`;

/**
 * '[0x30000, 0x3c800) fin_pfn 0x3488c ... [0x33800, 0x40000) fin_pfn 0x3488c': the first and the
 * last failed window (the one when only one was tried; '' when none was).
 */
export function windowRangesText(w: Windows, ellipsis = '...'): string {
  if (!w.first || !w.last) return '';
  return w.tried === 1
    ? windowText(w.first)
    : `${windowText(w.first)} ${ellipsis} ${windowText(w.last)}`;
}

/** '5001 windows: [0x30000, 0x3c800) fin_pfn 0x3488c ... [0x33800, 0x40000) fin_pfn 0x3488c'. */
export function windowsText(w: Windows): string {
  const ranges = windowRangesText(w);
  return `${w.tried} window${w.tried === 1 ? '' : 's'}${ranges ? `: ${ranges}` : ''}`;
}

/**
 * The check that refused: 'user 1000 locked_vm 1536 + 1024 > 2048 pages (RLIMIT_MEMLOCK 8 MiB)';
 * an mm's counter is named by the process that asked: 'pid 101 pinned_vm ...'.
 */
export function memlockText(m: Memlock, pid: number | undefined): string {
  const [owner, counter] = m.counter.split('.') as [string, string];
  const who = owner === 'user' ? `user ${m.uid}` : `pid ${pid ?? '?'}`;
  const cap = m.capIpcLock ? ', CAP_IPC_LOCK not applied' : '';
  return `${who} ${counter} ${m.held} + ${m.requested} > ${m.limit} pages (RLIMIT_MEMLOCK ${size(m.limit * PAGE_SIZE)}${cap})`;
}

const SUBSYSTEM: Record<Memlock['subsystem'], string> = {
  mlock: 'mlock',
  io_uring: 'io_uring ring',
  rdma: 'RDMA MR',
  vfio: 'VFIO DMA mapping',
  tee_shm: 'TEE shm',
};

/** 'io_uring ring of pid 101 (1536 pages), TEE shm id 3 of pid 100 (1024 pages)': the held pages. */
export function chargedByText(m: Memlock): string {
  return m.chargedBy
    .map(
      (c) =>
        `${SUBSYSTEM[c.subsystem]}${c.id === undefined ? '' : ` id ${c.id}`} of pid ${c.pid} (${c.pages} pages)`,
    )
    .join(', ');
}
