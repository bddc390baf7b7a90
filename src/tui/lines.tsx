// Draw prepared lines with Ink: one text node per block of lines, sized exactly (width × rows),
// holding the lines with their SGR styles already applied; a panel is a few such nodes.
//
// Why not <Text> with nested <Text color> runs: Ink 6 measures every <Text> through Yoga's measure
// function, and its measureText keeps each distinct string in a module-level Map that is never
// emptied (vadimdemedes/ink#986) — a live monitor whose lines change every frame would grow
// without bound. A text node with a fixed width and height is never measured. Ink's output stage
// costs per character written, escape sequences included (bench/tui.ts, tui_frame_ms): blank
// cells are never written, and a style change writes only the attributes that change.
import { Box } from 'ink';
import { createElement, memo, type ReactNode } from 'react';
import { type FrameOptions, framed } from './frame.js';
import { type Line, lineWidth, type Seg } from './text.js';
import { type Style, type Theme, useTheme } from './theme.js';

const FG: Record<string, number> = {
  black: 30,
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  white: 37,
  gray: 90,
};

const NONE: Style = {};

/** The SGR sequence that turns style `a` into style `b` ('' when nothing changes). */
export function sgr(a: Style, b: Style): string {
  const codes: number[] = [];
  // bold and dim go off together
  const off = (a.bold && !b.bold) || (a.dimColor && !b.dimColor);
  if (off) codes.push(22);
  if (b.bold && (off || !a.bold)) codes.push(1);
  if (b.dimColor && (off || !a.dimColor)) codes.push(2);
  if (!a.underline !== !b.underline) codes.push(b.underline ? 4 : 24);
  if (!a.inverse !== !b.inverse) codes.push(b.inverse ? 7 : 27);
  const fa = a.color ? FG[a.color] : undefined;
  const fb = b.color ? FG[b.color] : undefined;
  if (fa !== fb) codes.push(fb ?? 39);
  return codes.length ? `\u001b[${codes.join(';')}m` : '';
}

/** Only these show on a blank: other styles can run on over spaces, or stop before them. */
const showsOnBlank = (s: Style): boolean => !!(s.inverse || s.underline);

/** --ascii: what is left of other characters, one for one so that widths stay. */
const TO_ASCII: Record<string, string> = {
  '…': '~',
  '·': '.',
  '×': 'x',
  '’': "'",
  '↑': '^',
  '↓': 'v',
  '→': '>',
  '≈': '~',
  '—': '-',
  '▏': '|',
};
const NON_ASCII = /[^\u0020-\u007e]/g;
export const toAscii = (text: string): string => text.replace(NON_ASCII, (c) => TO_ASCII[c] ?? '?');

const TRAILING_BLANKS = / +$/;

/**
 * A line as one string for Ink, its styles as SGR sequences (none when the theme is plain).
 * Spaces that look blank are not written at the end of the line, and do not switch styles
 * between segments. No reset at the end: Ink parses every line it writes on its own.
 */
export function styled(line: Line, theme: Theme): string {
  let out = '';
  let open = NONE;
  let blanks = ''; // spaces after the last character, written only if more follows
  for (const s of line) {
    const style = theme.plain ? NONE : theme.style(s.tone);
    const text = theme.ascii ? toAscii(s.text) : s.text;
    const body = showsOnBlank(style) ? text : text.replace(TRAILING_BLANKS, '');
    if (body === '' && !showsOnBlank(open)) {
      blanks += text;
      continue;
    }
    out += blanks + sgr(open, style) + body;
    open = style;
    blanks = text.slice(body.length);
  }
  return out;
}

const PLACEHOLDERS: string[] = [];
/** `n` one-space lines: what Ink lays out for a node of n rows (see text()). */
const placeholder = (n: number): string => {
  PLACEHOLDERS[n] ??= Array.from({ length: n }, () => ' ').join('\n');
  return PLACEHOLDERS[n];
};

/**
 * A text node of exactly `width` × rows.length cells that shows `rows` (styled strings). Ink sees
 * only one blank per row — a constant string, never measured — and the real text comes in
 * through `internal_transform`, applied per line as Ink writes the output (the mechanism of
 * Ink's own <Transform>).
 */
function text(key: string, width: number, rows: string[]): ReactNode {
  return createElement(
    'ink-text',
    {
      key,
      style: { width, height: rows.length, flexShrink: 0, flexGrow: 0, textWrap: 'truncate-end' },
      internal_transform: (_line: string, i: number) => rows[i] ?? '',
    },
    placeholder(rows.length),
  );
}

/** Lines of at most `width` columns, one under the other. */
export const Lines = memo(function Lines(props: { lines: Line[]; width: number }) {
  const { lines, width } = props;
  const theme = useTheme();
  return text(
    'lines',
    width,
    lines.map((l) => styled(l, theme)),
  );
});

/**
 * A bordered panel from frame.ts: the side borders with their corners, the top border in three
 * parts, the content, and the bottom border, which starts with the same run of edge glyphs as the
 * top one in a node of its own: Ink parses equal lines once per frame.
 */
export const Panel = memo(function Panel(props: { frame: FrameOptions; lines: Line[] }) {
  const theme = useTheme();
  const p = framed(props.frame, props.lines, theme);
  if (p.width < 2 || p.height < 2)
    return <Box width={Math.max(0, p.width)} height={Math.max(0, p.height)} />;
  const inner = p.width - 2;
  const rows = p.height - 2;
  const [tl, tr, bl, br] = p.corners;
  const side = styled([p.side], theme);
  const border = (top: Seg, bottom: Seg) => [
    styled([top], theme),
    ...Array.from({ length: rows }, () => side),
    styled([bottom], theme),
  ];
  const edges = (n: number) => styled([{ ...p.edge, text: p.edge.text.repeat(n) }], theme);
  const run = edges(p.run);
  return (
    <Box width={p.width} height={p.height} flexShrink={0}>
      {text('leftBorder', 1, border(tl, bl))}
      <Box flexDirection="column" width={inner} height={p.height}>
        <Box height={1}>
          {text('title', lineWidth(p.title), [styled(p.title, theme)])}
          {text('run', p.run, [run])}
          {text('right', lineWidth(p.right), [styled(p.right, theme)])}
        </Box>
        {text(
          'content',
          inner,
          Array.from({ length: rows }, (_, i) => styled(p.content[i] ?? [], theme)),
        )}
        <Box height={1}>
          {text('run', p.run, [run])}
          {text('rest', inner - p.run, [edges(inner - p.run)])}
        </Box>
      </Box>
      {text('rightBorder', 1, border(tr, br))}
    </Box>
  );
});
