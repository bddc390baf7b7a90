// The drill-down on one failure (enter; esc goes back): the request and the area it was tried in,
// the blame, every blocking page (one fin_pfn per failed window, distinct) with the cell state
// it sits in now and the holder named when the failure happened, and the map of the area with
// the blocking pages marked.
import { memo } from 'react';
import { chargedByText, windowText } from '../metrics/blame-text.js';
import { Cell } from '../metrics/page-state.js';
import type { Snapshot } from '../metrics/snapshot.js';
import type { View } from '../metrics/view.js';
import type { LiveFrame } from '../workload/protocol.js';
import { CELL_LEGEND, cellGlyph, cellTone, mapLines } from './charts.js';
import { blameText, commOf, type Failure, holderText } from './failures-panel.js';
import { bytes, hex, pages, seconds } from './format.js';
import { Panel } from './lines.js';
import { fitText, type Line, padStart, seg, wrap } from './text.js';
import { type Theme, themed, useTheme } from './theme.js';

export interface FailureDetailProps {
  index: number;
  failures: Snapshot['failures'];
  total: number;
  processes: Snapshot['processes'];
  areas: Snapshot['cma'];
  maps: View['maps'];
  holders: LiveFrame['holders'];
  width: number;
  height: number;
  mapRows: number;
}

const KNOWN = new Set([
  't',
  'op',
  'pid',
  'area',
  'count',
  'errno',
  'windows',
  'blocking_pfn',
  'blocking_pfns',
  'blocker',
  'memlock',
]);

/** Why a page in this state blocks alloc_contig_range (spec: isolation fails on unmovable pages). */
export function whyText(
  cell: number | undefined,
  holder: { via: string } | null | undefined,
): string {
  const via = holder ? ` (${holder.via})` : '';
  switch (cell) {
    case Cell.PINNED_SHORT:
      return `pinned without FOLL_LONGTERM${via}: the page stayed in CMA and cannot migrate while the pin is held`;
    case Cell.PINNED_LONG:
      return `pinned long-term inside CMA${via}: migration cannot move it while the pin is held`;
    default: {
      const now = CELL_LEGEND.find((l) => l.cell === cell)?.label;
      return `${now ? `now ${now}: ` : ''}whatever held it${via} when the allocation failed has let go since`;
    }
  }
}

const LABEL = 10;
const label = (text: string): ReturnType<typeof seg> => seg(fitText(text, LABEL), 'muted');

export function detailLines(p: FailureDetailProps, theme: Theme): Line[] {
  const g = theme.glyphs;
  const f: Failure | undefined = p.failures[p.index];
  if (!f) return [[seg('no such failure', 'muted')]];
  const inner = p.width - 2;
  const out: Line[] = [];
  out.push([
    seg(`Failure ${p.index + 1} of ${p.total}  `, 'title'),
    seg(`t=${seconds(f.t)}  `, 'muted'),
    seg(f.op, 'title'),
    seg('  '),
    seg(f.errno, 'crit'),
    seg(`  caller ${commOf(p.processes, f.pid)}`, 'muted'),
  ]);
  const blame = blameText(f, g);
  out.push(
    ...wrap(
      [
        label('blame'),
        seg(
          blame ?? 'no page named: this failure did not come from a CMA window',
          blame ? 'warn' : 'muted',
        ),
      ],
      inner,
      LABEL,
    ),
  );
  if (f.memlock?.chargedBy.length) {
    out.push(...wrap([label('charged'), seg(`by ${chargedByText(f.memlock)}`)], inner, LABEL));
  }
  const area = f.area === undefined ? undefined : p.areas[f.area];
  if (f.area !== undefined) {
    const req = f.count === undefined ? '' : `${f.count} pages (${pages(f.count)}) `;
    const where = area
      ? ` [base pfn ${hex(area.base_pfn)}, ${area.count} pages (${pages(area.count)})]`
      : '';
    out.push(...wrap([label('request'), seg(`${req}from ${f.area}${where}`)], inner, LABEL));
  }
  const extra = Object.entries(f).filter(([k]) => !KNOWN.has(k));
  if (extra.length > 0) {
    out.push([label('fields'), seg(extra.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('  '))]);
  }
  // failures of the same call at the same instant: dma_heap_alloc ENOMEM after cma_alloc EBUSY
  const related = p.failures
    .map((q, i) => ({ q, i }))
    .filter(({ q, i }) => i !== p.index && q.t === f.t && q.pid === f.pid);
  for (const { q, i } of related) {
    out.push([
      label(i === related[0]!.i ? 'related' : ''),
      seg(`#${i + 1} ${q.op}${q.area ? ` ${q.area}` : ''} ${q.errno}`, 'title'),
      seg(q.blocking_pfn === undefined ? '' : `  ${blameText(q, g)}`, 'warn'),
      seg(`  (${i < p.index ? (theme.ascii ? 'up' : '↑') : theme.ascii ? 'down' : '↓'})`, 'muted'),
    ]);
  }
  const pfns = f.blocking_pfns ?? (f.blocking_pfn === undefined ? [] : [f.blocking_pfn]);
  if (pfns.length === 0) return out;
  const map = f.area === undefined ? undefined : p.maps[f.area];
  const holders = p.holders?.[p.index];
  const holderOf = (j: number) => holders?.[j] ?? (j === 0 ? f.blocker : undefined);
  const cellAt = (pfn: number) =>
    map && area ? map.cells[Math.floor((pfn - area.base_pfn) / map.pagesPerCell)] : undefined;
  const w = f.windows;
  if (w) {
    out.push([
      label('windows'),
      seg(`${w.tried} failed window${w.tried === 1 ? '' : 's'}`, 'title'),
      seg(w.first ? `${w.tried === 1 ? ':' : ', first'} ${windowText(w.first)}` : '', 'muted'),
    ]);
    if (w.last && w.tried > 1) out.push([label(''), seg(`last ${windowText(w.last)}`, 'muted')]);
  }
  out.push([
    label(w ? '' : 'windows'),
    seg(`${pfns.length} distinct blocking page${pfns.length === 1 ? '' : 's'}`, 'title'),
    seg(' (the fin_pfn of each failed window)', 'muted'),
  ]);
  out.push(...wrap([label('why'), seg(whyText(cellAt(pfns[0]!), holderOf(0)))], inner, LABEL));
  // the holders as processes, now
  const pids = [
    ...new Set(pfns.map((_, j) => holderOf(j)?.pid).filter((x): x is number => x !== undefined)),
  ];
  for (const pid of pids.slice(0, 3)) {
    const q = p.processes.find((x) => x.pid === pid);
    if (!q) continue;
    out.push(
      ...wrap(
        [
          label(pid === pids[0] ? 'holder' : ''),
          seg(`${q.comm}[${q.pid}]`, 'title'),
          seg(
            ` uid ${q.uid} now: pinned short ${pages(q.pinned.short)}, long ${pages(q.pinned.long)}, in CMA ${pages(q.pinned.in_cma)}; VmPin ${bytes(q.VmPin * 1024)}, VmLck ${bytes(q.VmLck * 1024)}`,
            'muted',
          ),
        ],
        inner,
        LABEL,
      ),
    );
  }
  const W = { pfn: 10, off: 8, cell: 16 };
  out.push([
    seg(
      `${fitText('PFN', W.pfn)} ${padStart('OFFSET', W.off)}  ${fitText('CELL NOW', W.cell)} HOLDER (when it failed)`,
      'title',
    ),
  ]);
  const tableRoom = Math.max(
    1,
    Math.min(pfns.length, p.height - 2 - out.length - (map ? p.mapRows + 1 : 0)),
  );
  pfns.slice(0, tableRoom).forEach((pfn, j) => {
    const off = area ? pfn - area.base_pfn : undefined;
    const cell = cellAt(pfn);
    const state = CELL_LEGEND.find((l) => l.cell === cell);
    const holder = holderOf(j);
    out.push([
      seg(
        `${fitText(hex(pfn), W.pfn)} ${padStart(off === undefined ? '-' : String(off), W.off)}  `,
      ),
      cell === undefined ? seg(fitText('-', W.cell)) : seg(cellGlyph(cell, g), cellTone(cell)),
      seg(cell === undefined ? ' ' : fitText(` ${state?.label ?? '?'}`, W.cell)),
      seg(holder ? holderText(holder) : 'nobody named', holder ? 'warn' : 'muted'),
    ]);
  });
  if (pfns.length > tableRoom)
    out.push([seg(`${g.ellipsis} ${pfns.length - tableRoom} more blocking pages`, 'muted')]);
  if (map && area) {
    const marked = new Set(pfns.map((pfn) => Math.floor((pfn - area.base_pfn) / map.pagesPerCell)));
    const m = mapLines(map.cells, inner, p.mapRows, g, marked);
    out.push([
      seg(`map of ${f.area} now, `, 'muted'),
      seg(g.blocking, 'blocking'),
      seg(
        ` = a blocking page (1 cell ${theme.ascii ? '~' : '≈'} ${Math.ceil(m.scale * map.pagesPerCell)} pages)`,
        'muted',
      ),
    ]);
    out.push(...m.lines);
  }
  return out;
}

export const FailureDetail = themed(
  memo(function FailureDetail(p: FailureDetailProps) {
    const theme = useTheme();
    const right: Line = [
      seg(`esc back  ${theme.ascii ? 'up/down' : '↑↓'} other failures`, 'muted'),
    ];
    return (
      <Panel
        frame={{
          title: [seg('Failure details', 'title')],
          right,
          width: p.width,
          height: p.height,
          focused: true,
        }}
        lines={detailLines(p, theme)}
      />
    );
  }),
);
