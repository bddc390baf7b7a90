// Per CMA area: the map (one glyph per cell, worst state in the cell wins), the legend with the
// page counts by state, the free ranges, and the history of free CMA kept from earlier frames.
import { memo } from 'react';
import { Cell } from '../metrics/page-state.js';
import type { CmaAreaSnapshot } from '../metrics/snapshot.js';
import type { View } from '../metrics/view.js';
import { areaChart, CELL_LEGEND, cellGlyph, cellTone, mapLines } from './charts.js';
import { hex, pages, seconds } from './format.js';
import { Panel } from './lines.js';
import { freeHistory, type History } from './model.js';
import { fitText, type Line, seg } from './text.js';
import { type Theme, themed, useTheme } from './theme.js';

export interface CmaPanelProps {
  areas: Record<string, CmaAreaSnapshot>;
  maps: View['maps'];
  history: History;
  width: number;
  height: number;
  mapRows: number;
  histRows: number;
  /** how many areas fitLine, and the first one shown */
  areasShown: number;
  offset: number;
  focused: boolean;
}

/** '· free 57312  ▒ cma_client 0  ...': the glyph of each state and its page count. */
export function legendLine(a: CmaAreaSnapshot | undefined, theme: Theme): Line {
  const out: Line = [];
  for (const l of CELL_LEGEND) {
    const n = a ? a.pages_by_state[l.name as keyof CmaAreaSnapshot['pages_by_state']] : undefined;
    if (l.cell === Cell.PCP && n === undefined) continue; // no per-CPU lists (pcp=off)
    if (out.length > 0) out.push(seg('  '));
    out.push(seg(cellGlyph(l.cell, theme.glyphs), cellTone(l.cell)));
    out.push(seg(` ${l.label}${n === undefined ? '' : ` ${n}`}`));
  }
  return out;
}

/**
 * 'bitmap free 1 range, maxchunk 14336 (56M)  movable run 9000 (35M)  14336@51200 ...': what the
 * CMA bitmap has not handed out (debugfs maxchunk, ranges as pages@offset), and beside it what an
 * allocation needs, a run of pages none of which is pinned, isolated or handed out (§2.4).
 */
export function rangesLine(
  a: CmaAreaSnapshot,
  movableRun: number | undefined,
  width: number,
): Line {
  const n = a.free_ranges.length;
  const head: Line = [
    seg('bitmap free ', 'muted'),
    seg(String(n), 'title'),
    seg(` range${n === 1 ? '' : 's'}, maxchunk `, 'muted'),
    seg(`${a.maxchunk} (${pages(a.maxchunk)})`),
    ...(movableRun === undefined
      ? []
      : [
          seg('  movable run ', 'muted'),
          seg(`${movableRun} (${pages(movableRun)})`, movableRun < a.maxchunk ? 'warn' : 'plain'),
        ]),
    seg('  '),
  ];
  const used = head.reduce((w, s) => w + s.text.length, 0);
  let list = '';
  let shown = 0;
  for (const [off, count] of a.free_ranges) {
    const item = `${shown > 0 ? ' ' : ''}${count}@${off}`;
    const rest = n - shown - 1;
    const tail = rest > 0 ? ` +${rest} more` : '';
    if (used + list.length + item.length + tail.length > width) break;
    list += item;
    shown++;
  }
  const more = n - shown;
  const tail = more > 0 ? `${shown > 0 ? ' ' : ''}+${more} more` : '';
  return [...head, seg(n === 0 ? 'none' : list), seg(tail, 'muted')];
}

/**
 * 'svp  256M at 0x30000000 pfn 0x30000  free 224M  used 0  alloc ok 0 fail 51200': the base as a
 * physical address (as device trees give it) and as a pfn; counts in pages, as debugfs (used) and
 * sysfs (alloc_pages_success/fail) give them.
 */
function headerLine(name: string, a: CmaAreaSnapshot, perCell: number, theme: Theme): Line {
  return [
    seg(name, 'title'),
    seg(`  ${pages(a.count)} at ${hex(a.base_pfn * 4096)} pfn ${hex(a.base_pfn)}`, 'muted'),
    seg('  free ', 'muted'),
    seg(pages(a.pages_by_state.free), 'ok'),
    seg('  used ', 'muted'),
    seg(String(a.used)),
    seg('  alloc ok ', 'muted'),
    seg(String(a.alloc_pages_success)),
    seg(' fail ', 'muted'),
    seg(String(a.alloc_pages_fail), a.alloc_pages_fail > 0 ? 'crit' : 'plain'),
    seg(`  cell ${theme.ascii ? '~' : '≈'} ${perCell} pages`, 'muted'),
  ];
}

const LABEL = 16;

function historyLines(
  name: string,
  a: CmaAreaSnapshot,
  history: History,
  width: number,
  rows: number,
  theme: Theme,
): Line[] {
  const values = freeHistory(history, name);
  const chartW = Math.max(0, width - LABEL);
  const chart = areaChart(values, chartW, rows, {
    max: a.count,
    style: theme.glyphs.chart === 'braille' ? 'braille' : 'ascii',
  });
  const perChar = theme.glyphs.chart === 'braille' ? 2 : 1;
  const shownT = history.t.slice(Math.max(0, history.t.length - chartW * perChar));
  const span = shownT.length > 1 ? shownT[shownT.length - 1]! - shownT[0]! : 0;
  const now = values[values.length - 1];
  const min = values.length ? Math.min(...values.slice(-chartW * perChar)) : undefined;
  const labels = [
    rows === 1 ? `free ${now === undefined ? '-' : pages(now)}` : 'free CMA',
    `now ${now === undefined ? '-' : pages(now)}`,
    `min ${min === undefined ? '-' : pages(min)}`,
    `over ${seconds(span)}`,
  ];
  return chart.map((c, i) => [
    seg(fitText(labels[i] ?? '', LABEL - 1), 'muted'),
    seg(' '),
    seg(c, 'ok'),
  ]);
}

export function cmaLines(p: CmaPanelProps, theme: Theme): Line[] {
  const inner = p.width - 2;
  const names = Object.keys(p.areas).sort();
  const out: Line[] = [];
  if (names.length === 0) return [[seg('no CMA areas', 'muted')]];
  const offset = Math.min(p.offset, Math.max(0, names.length - p.areasShown));
  for (const name of names.slice(offset, offset + p.areasShown)) {
    const a = p.areas[name]!;
    const map = p.maps[name];
    const m = map ? mapLines(map.cells, inner, p.mapRows, theme.glyphs) : undefined;
    out.push(headerLine(name, a, map && m ? Math.ceil(m.scale * map.pagesPerCell) : 0, theme));
    for (let r = 0; r < p.mapRows; r++) out.push(m?.lines[r] ?? []);
    out.push(legendLine(a, theme));
    out.push(rangesLine(a, map?.movableRun, inner));
    out.push(...historyLines(name, a, p.history, inner, p.histRows, theme));
  }
  return out;
}

export const CmaPanel = themed(
  memo(function CmaPanel(p: CmaPanelProps) {
    const theme = useTheme();
    const count = Object.keys(p.areas).length;
    const right: Line =
      count > p.areasShown
        ? [
            seg(
              `${count - p.areasShown} more area(s): tab here, ${theme.ascii ? 'up/down' : '↑↓'}`,
              'warn',
            ),
          ]
        : [seg(`${count} area${count === 1 ? '' : 's'}`, 'muted')];
    return (
      <Panel
        frame={{
          title: [seg('CMA', 'title')],
          right,
          width: p.width,
          height: p.height,
          focused: p.focused,
        }}
        lines={cmaLines(p, theme)}
      />
    );
  }),
);
