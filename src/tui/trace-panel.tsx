// The trace-event log: the newest lines of the kernel's trace buffer (tracepoint formats), failed
// isolations and allocations marked. Filter with / while focused; ↑↓ scroll back.
import { memo } from 'react';
import { framed } from './frame.js';
import { Panel } from './lines.js';
import { type Line, seg } from './text.js';
import type { Theme, Tone } from './theme.js';

export interface TracePanelProps {
  trace: readonly string[];
  filter: string;
  /** lines scrolled back from the newest (clamped here) */
  back: number;
  width: number;
  height: number;
  focused: boolean;
  theme: Theme;
}

/** How a trace line reads: failures stand out, retries warn. */
export function traceTone(line: string): Tone {
  if (/ret=fail|errorno=-\d|alloc failed|nr_failed=[1-9]/.test(line)) return 'crit';
  if (/busy_retry/.test(line)) return 'warn';
  if (/cma_alloc_finish|cma_release/.test(line)) return 'ok';
  return 'plain';
}

export function traceLines(p: TracePanelProps): { lines: Line[]; back: number; matched: number } {
  const f = p.filter.toLowerCase();
  const matched = f ? p.trace.filter((l) => l.toLowerCase().includes(f)) : p.trace;
  const room = Math.max(0, p.height - 2);
  const back = Math.min(p.back, Math.max(0, matched.length - room));
  const end = matched.length - back;
  const shown = matched.slice(Math.max(0, end - room), end);
  const lines: Line[] = shown.map((l) => {
    // '5.606408: migrate:mm_migrate_pages: ...': the time muted, the event name bold
    const m = /^(\[?[\d.]+\]?:?) ([\w-]+:[\w-]+:?|[\w-]+:)(.*)$/.exec(l);
    const tone = traceTone(l);
    return m
      ? [seg(`${m[1]} `, 'muted'), seg(m[2]!, tone === 'plain' ? 'title' : tone), seg(m[3]!, tone)]
      : [seg(l, tone)];
  });
  if (matched.length === 0) {
    lines.push([seg(f ? `no trace line matches "${p.filter}"` : 'no trace events yet', 'muted')]);
  }
  return { lines, back, matched: matched.length };
}

export const TracePanel = memo(function TracePanel(p: TracePanelProps) {
  const { lines, back } = traceLines(p);
  const right: Line = [
    ...(p.filter ? [seg(`filter "${p.filter}"  `, 'accent')] : []),
    seg(back > 0 ? `${back} lines back (end: newest)` : 'newest last', 'muted'),
  ];
  return (
    <Panel
      panel={framed(
        {
          title: [seg('Trace', 'title')],
          right,
          width: p.width,
          height: p.height,
          focused: p.focused,
        },
        lines,
        p.theme,
      )}
      theme={p.theme}
    />
  );
});
