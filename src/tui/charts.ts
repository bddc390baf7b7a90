// Pure string renderers for the TUI (no Ink): the CMA map, history charts and the memlock gauge.
// Each returns text (or segments with tones), so they are testable as strings and render the
// same in every terminal.
import { Cell, cellRank } from '../metrics/page-state.js';
import { type Line, merge, type Seg, seg } from './text.js';
import type { Glyphs, Tone } from './theme.js';

/** The tone of each map cell state, indexed by Cell. */
const CELL_TONES: Record<Cell, Tone> = {
  [Cell.FREE]: 'free',
  [Cell.CMA_CLIENT]: 'cma_client',
  [Cell.MOVABLE]: 'movable',
  [Cell.ISOLATED]: 'isolated',
  [Cell.PINNED_SHORT]: 'pinned_short',
  [Cell.PINNED_LONG]: 'pinned_long',
  [Cell.PCP]: 'pcp',
};

/** The cell states in legend order, with their snapshot names (pages_by_state). */
export const CELL_LEGEND: readonly { cell: Cell; name: string; label: string }[] = [
  { cell: Cell.FREE, name: 'free', label: 'free' },
  { cell: Cell.CMA_CLIENT, name: 'cma_client', label: 'cma_client' },
  { cell: Cell.MOVABLE, name: 'movable', label: 'movable' },
  { cell: Cell.PINNED_SHORT, name: 'pinned_short', label: 'pinned short' },
  { cell: Cell.PINNED_LONG, name: 'pinned_long', label: 'pinned long' },
  { cell: Cell.ISOLATED, name: 'isolated', label: 'isolated' },
  { cell: Cell.PCP, name: 'pcp', label: 'per-cpu' },
];

export const cellTone = (c: number): Tone => CELL_TONES[c as Cell] ?? 'plain';
export const cellGlyph = (c: number, g: Glyphs): string => g.cells[c] ?? '?';

/**
 * Fewer cells from more: output cell i covers source cells [⌊iL/n⌋, ⌊(i+1)L/n⌋) and shows the
 * worst state among them (cellRank, metrics/view.ts). `marked` source
 * cells stay marked in the output cell that covers them.
 */
export function resample(
  cells: readonly number[],
  n: number,
  marked?: ReadonlySet<number>,
): { cells: number[]; marked: Set<number> } {
  const L = cells.length;
  const outMarked = new Set<number>();
  if (n >= L || n <= 0) {
    for (const m of marked ?? []) if (m >= 0 && m < L) outMarked.add(m);
    return { cells: [...cells], marked: outMarked };
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const a = Math.floor((i * L) / n);
    const b = Math.max(a + 1, Math.floor(((i + 1) * L) / n));
    let worst = 0;
    for (let j = a; j < b; j++) {
      const c = cells[j]!;
      if (cellRank(c) > cellRank(worst)) worst = c;
      if (marked?.has(j)) outMarked.add(i);
    }
    out[i] = worst;
  }
  return { cells: out, marked: outMarked };
}

export interface MapRender {
  lines: Line[];
  /** cells drawn */
  cells: number;
  /** source cells per drawn cell (≥ 1) */
  scale: number;
}

/**
 * The map of one CMA area in at most `rows` lines of `width` cells: one glyph per cell, coloured
 * by state; `marked` source cells (blocking pages) are drawn as the blocking glyph.
 */
export function mapLines(
  cells: readonly number[],
  width: number,
  rows: number,
  g: Glyphs,
  marked?: ReadonlySet<number>,
): MapRender {
  if (width <= 0 || rows <= 0 || cells.length === 0) return { lines: [], cells: 0, scale: 1 };
  const r = resample(cells, width * rows, marked);
  const lines: Line[] = [];
  for (let start = 0; start < r.cells.length; start += width) {
    const line: Seg[] = [];
    for (let i = start; i < Math.min(start + width, r.cells.length); i++) {
      const c = r.cells[i]!;
      line.push(r.marked.has(i) ? seg(g.blocking, 'blocking') : seg(cellGlyph(c, g), cellTone(c)));
    }
    lines.push(merge(line));
  }
  return { lines, cells: r.cells.length, scale: cells.length / r.cells.length };
}

export type ChartStyle = 'braille' | 'block' | 'ascii';

// Braille dots from the bottom of a cell up: left column 7,3,2,1 and right column 8,6,5,4.
const BRAILLE_LEFT = [0x40, 0x04, 0x02, 0x01];
const BRAILLE_RIGHT = [0x80, 0x20, 0x10, 0x08];
const BLOCKS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const ASCII_LEVELS = [' ', '.', ':', '#'];

/** Values per character column and levels per row of each style. */
const GEOMETRY: Record<ChartStyle, { perChar: number; levels: number }> = {
  braille: { perChar: 2, levels: 4 },
  block: { perChar: 1, levels: 8 },
  ascii: { perChar: 1, levels: 3 },
};

/**
 * An area chart of the newest values, `height` rows of `width` characters, newest at the right;
 * 0 at the bottom, `max` at the top. A value above 0 always shows at least one level.
 */
export function areaChart(
  values: readonly number[],
  width: number,
  height: number,
  opts: { max: number; style: ChartStyle },
): string[] {
  if (width <= 0 || height <= 0) return [];
  const { perChar, levels } = GEOMETRY[opts.style];
  const slots = width * perChar;
  const shown = values.slice(Math.max(0, values.length - slots));
  const top = levels * height;
  // level per slot; slots before the first value are empty (-1)
  const lv = new Array<number>(slots).fill(-1);
  shown.forEach((v, i) => {
    const f = opts.max > 0 ? Math.min(1, Math.max(0, v / opts.max)) : 0;
    let l = Math.round(f * top);
    if (l === 0 && v > 0) l = 1;
    lv[slots - shown.length + i] = l;
  });
  const rows: string[] = [];
  for (let r = 0; r < height; r++) {
    const base = (height - 1 - r) * levels; // levels below this row
    let s = '';
    for (let c = 0; c < width; c++) {
      if (opts.style === 'braille') {
        let bits = 0;
        const left = lv[c * 2]!;
        const right = lv[c * 2 + 1]!;
        for (let d = 0; d < 4; d++) {
          if (left - base > d) bits |= BRAILLE_LEFT[d]!;
          if (right - base > d) bits |= BRAILLE_RIGHT[d]!;
        }
        s += bits === 0 ? ' ' : String.fromCharCode(0x2800 + bits);
      } else {
        const fill = Math.max(0, Math.min(levels, lv[c]! - base));
        s += (opts.style === 'block' ? BLOCKS : ASCII_LEVELS)[fill];
      }
    }
    rows.push(s);
  }
  return rows;
}

/** A one-row sparkline: areaChart with a height of 1. */
export const sparkline = (
  values: readonly number[],
  width: number,
  opts: { max: number; style: ChartStyle },
): string => areaChart(values, width, 1, opts)[0] ?? '';

/**
 * A horizontal gauge of `used` against `limit`, exactly `width` characters: '█████·····'.
 * Any use above 0 shows at least one filled cell; at or over the limit it is full.
 */
export function gauge(used: number, limit: number, width: number, g: Glyphs): string {
  if (width <= 0) return '';
  const f = limit > 0 && Number.isFinite(limit) ? Math.min(1, Math.max(0, used / limit)) : 0;
  let n = Math.round(f * width);
  if (n === 0 && used > 0 && Number.isFinite(limit)) n = 1;
  return g.gaugeFull.repeat(n) + g.gaugeEmpty.repeat(width - n);
}
