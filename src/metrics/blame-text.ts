// A failure's evidence in words, the same in the text report and the TUI: the windows a
// cma_alloc tried (docs/snapshot.md "failures[]").
import { hex } from './fmt.js';
import type { Snapshot } from './snapshot.js';

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
