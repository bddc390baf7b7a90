// The trace-event log: the newest lines of the kernel's trace buffer (tracepoint formats) and
// kernel log, failed isolations and allocations marked. Filter with / while focused; ↑↓ scroll back.
import { memo } from 'react';
import { type TraceLine, type TraceTone, traceText } from '../metrics/view.js';
import { Panel } from './lines.js';
import { type Line, seg } from './text.js';
import { type Tone, themed } from './theme.js';

export interface TracePanelProps {
  events: readonly TraceLine[];
  filter: string;
  /** lines scrolled back from the newest (clamped here) */
  back: number;
  width: number;
  height: number;
  focused: boolean;
}

/** How a trace line reads: failures stand out, retries warn. */
const TONES: Record<TraceTone, Tone> = { fail: 'crit', retry: 'warn', done: 'ok', plain: 'plain' };

export function traceLines(p: TracePanelProps): { lines: Line[]; back: number; matched: number } {
  const f = p.filter.toLowerCase();
  const matched = f ? p.events.filter((l) => traceText(l).toLowerCase().includes(f)) : p.events;
  const room = Math.max(0, p.height - 2);
  const back = Math.min(p.back, Math.max(0, matched.length - room));
  const end = matched.length - back;
  const shown = matched.slice(Math.max(0, end - room), end);
  const lines: Line[] = shown.map((l) => {
    // the time muted, the event name bold
    const tone = TONES[l.tone];
    return l.event
      ? [
          seg(`${l.time}: `, 'muted'),
          seg(`${l.event}:`, tone === 'plain' ? 'title' : tone),
          seg(` ${l.body}`, tone),
        ]
      : [seg(`${l.time} `, 'muted'), seg(l.body, tone)];
  });
  if (matched.length === 0) {
    lines.push([seg(f ? `no trace line matches "${p.filter}"` : 'no trace events yet', 'muted')]);
  }
  return { lines, back, matched: matched.length };
}

export const TracePanel = themed(
  memo(function TracePanel(p: TracePanelProps) {
    const { lines, back } = traceLines(p);
    const right: Line = [
      ...(p.filter ? [seg(`filter "${p.filter}"  `, 'accent')] : []),
      seg(back > 0 ? `${back} lines back (end: newest)` : 'newest last', 'muted'),
    ];
    return (
      <Panel
        frame={{
          title: [seg('Trace', 'title')],
          right,
          width: p.width,
          height: p.height,
          focused: p.focused,
        }}
        lines={lines}
      />
    );
  }),
);
