// A bordered panel: the title in the top border, the content cut to fit. Focus shows as a
// different border (double, or '#'/'=' in ASCII) and a marker before the title, so it is visible
// without colour. Content lines are cut, not padded: Ink draws only what is written (lines.tsx).
import { cut, type Line, lineWidth, merge, type Seg, seg } from './text.js';
import type { Theme } from './theme.js';

export interface Framed {
  width: number;
  height: number;
  /** the top border between its corners: the title, `run` edge glyphs, the right part */
  title: Line;
  run: number;
  right: Line;
  /** at most height - 2 lines, each at most width - 2 wide */
  content: Line[];
  /** top-left, top-right, bottom-left, bottom-right */
  corners: readonly [Seg, Seg, Seg, Seg];
  /** the horizontal border glyph, and the vertical one */
  edge: Seg;
  side: Seg;
}

/** What a panel's frame shows besides its content. */
export interface FrameOptions {
  title: Line;
  /** shown at the right end of the top border */
  right?: Line;
  width: number;
  height: number;
  focused: boolean;
  /** tone of the border instead of the focus/border default (the error panel) */
  tone?: 'crit';
}

export function framed(o: FrameOptions, content: Line[], theme: Theme): Framed {
  const { width, height } = o;
  const g = theme.glyphs;
  const [tl, tr, bl, br, h, v] = o.focused ? g.borderFocus : g.border;
  const tone = o.tone ?? (o.focused ? 'focus' : 'border');
  const inner = Math.max(0, width - 2);
  // top: ╭─ ▶ Title ─────── right ─╮
  let title: Line = [
    seg(`${h} `, tone),
    ...(o.focused ? [seg(`${g.focus} `, 'focus')] : []),
    ...o.title,
    seg(' ', tone),
  ];
  let right: Line = o.right && o.right.length > 0 ? [seg(' '), ...o.right, seg(` ${h}`, tone)] : [];
  if (lineWidth(title) + lineWidth(right) > inner) {
    title = cut(title, inner, g.ellipsis);
    right = [];
  }
  return {
    width,
    height,
    title: merge(title),
    run: inner - lineWidth(title) - lineWidth(right),
    right: merge(right),
    content: content.slice(0, Math.max(0, height - 2)).map((l) => cut(l, inner, g.ellipsis)),
    corners: [seg(tl, tone), seg(tr, tone), seg(bl, tone), seg(br, tone)],
    edge: seg(h, tone),
    side: seg(v, tone),
  };
}
