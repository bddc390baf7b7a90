// Processes: pid, comm, uid, RSS, pinned pages (short, long, in CMA), VmLck, VmPin, the memlock
// gauge against RLIMIT_MEMLOCK and denials; sorted with s/S, filtered with /. Only the visible
// rows are drawn.
import { memo } from 'react';
import type { Snapshot } from '../metrics/snapshot.js';
import { Panel } from './lines.js';
import {
  COLUMNS,
  filterRows,
  fitColumns,
  headerLine,
  procRows,
  rowLine,
  type SortKey,
  sortRows,
} from './process-table.js';
import { type Line, seg } from './text.js';
import { type Theme, themed, useTheme } from './theme.js';

export interface ProcessesPanelProps {
  processes: Snapshot['processes'];
  users: Snapshot['users'];
  sort: { key: SortKey; desc: boolean };
  filter: string;
  /** selected row (clamped here) */
  row: number;
  width: number;
  height: number;
  focused: boolean;
}

export function processLines(
  p: ProcessesPanelProps,
  theme: Theme,
): {
  lines: Line[];
  shown: number;
  total: number;
  /** rows scrolled out of view above and below */
  above: number;
  below: number;
} {
  const inner = p.width - 2;
  const all = procRows(p);
  const rows = sortRows(filterRows(all, p.filter), p.sort);
  const cols = fitColumns(inner);
  const lines: Line[] = [headerLine(cols, p.sort, theme.glyphs)];
  const room = Math.max(0, p.height - 3);
  const sel = Math.min(p.row, Math.max(0, rows.length - 1));
  const first = Math.max(0, Math.min(sel - room + 1, rows.length - room));
  rows.slice(first, first + room).forEach((r, i) => {
    const line = rowLine(r, cols, theme.glyphs);
    lines.push(
      p.focused && first + i === sel ? line.map((s) => ({ ...s, tone: 'selected' })) : line,
    );
  });
  if (rows.length === 0)
    lines.push([seg(p.filter ? `no process matches "${p.filter}"` : 'no processes', 'muted')]);
  const below = Math.max(0, rows.length - first - room);
  return { lines, shown: rows.length, total: all.length, above: first, below };
}

export const ProcessesPanel = themed(
  memo(function ProcessesPanel(p: ProcessesPanelProps) {
    const theme = useTheme();
    const { lines, shown, total, above, below } = processLines(p, theme);
    const g = theme.glyphs;
    const sortCol = COLUMNS.find((c) => c.sort === p.sort.key);
    const [up, down] = theme.ascii ? ['^', 'v'] : ['↑', '↓'];
    // rows out of view say so, first: they must not go unnoticed
    const more = [above > 0 ? `${above} more ${up}` : '', below > 0 ? `${below} more ${down}` : '']
      .filter(Boolean)
      .join(' ');
    const right: Line = [
      ...(more ? [seg(`${more}  `, 'warn')] : []),
      seg(`sort ${sortCol?.title ?? p.sort.key}${p.sort.desc ? g.sortDesc : g.sortAsc}`, 'muted'),
      ...(p.filter ? [seg(`  filter "${p.filter}"`, 'accent')] : []),
    ];
    const title: Line = [
      seg('Processes', 'title'),
      seg(p.filter ? ` (${shown} of ${total})` : ` (${total})`, 'muted'),
    ];
    return (
      <Panel
        frame={{ title, right, width: p.width, height: p.height, focused: p.focused }}
        lines={lines}
      />
    );
  }),
);
