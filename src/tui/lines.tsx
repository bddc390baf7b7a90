// Draw prepared lines with Ink: one text node per line, sized exactly (width × 1), holding the
// line with its SGR styles already applied; a panel's side borders are one node each.
//
// Why not <Text> with nested <Text color> runs: Ink 6 measures every <Text> through Yoga's measure
// function, and its measureText keeps each distinct string in a module-level Map that is never
// emptied (vadimdemedes/ink#986) — a live monitor whose lines change every frame would grow
// without bound. A text node with a fixed width and height is never measured. Ink's output stage
// costs per character written, so lines are not padded: blank cells are never written
// (bench/tui.ts, tui_frame_ms).
import { Box } from 'ink';
import { createElement, memo, type ReactNode } from 'react';
import type { Framed } from './frame.js';
import { type Line, lineWidth } from './text.js';
import type { Style, Theme } from './theme.js';

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

/** The SGR sequence that turns `s` on ('' for no style). */
export function sgr(s: Style): string {
  const codes: number[] = [];
  if (s.bold) codes.push(1);
  if (s.dimColor) codes.push(2);
  if (s.underline) codes.push(4);
  if (s.inverse) codes.push(7);
  if (s.color && FG[s.color] !== undefined) codes.push(FG[s.color]!);
  return codes.length ? `\u001b[${codes.join(';')}m` : '';
}

const RESET = '\u001b[0m';

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

/** A line as one string with its styles as SGR sequences (none when the theme is plain). */
export function styled(line: Line, theme: Theme): string {
  let out = '';
  let open = '';
  for (const s of line) {
    const on = theme.plain ? '' : sgr(theme.style(s.tone));
    if (on !== open) {
      if (open) out += RESET;
      out += on;
      open = on;
    }
    out += theme.ascii ? toAscii(s.text) : s.text;
  }
  return open ? out + RESET : out;
}

/**
 * A text node of exactly `width` × rows cells that shows `rows` (styled strings of known widths).
 * Ink sees only blanks of the same widths — cheap to lay out (string-width's ASCII fast path) and
 * a bounded set of strings — and the real text comes in through `internal_transform`, applied
 * per line as Ink writes the output (the mechanism of Ink's own <Transform>).
 */
function text(
  key: number | string,
  width: number,
  rows: { text: string; width: number }[],
): ReactNode {
  const blanks = rows.map((r) => ' '.repeat(r.width)).join('\n');
  return createElement(
    'ink-text',
    {
      key,
      style: { width, height: rows.length, flexShrink: 0, flexGrow: 0, textWrap: 'truncate-end' },
      internal_transform: (_line: string, i: number) => rows[i]?.text ?? '',
    },
    blanks,
  );
}

const row = (line: Line, theme: Theme) => ({ text: styled(line, theme), width: lineWidth(line) });

export const Lines = memo(function Lines(props: { lines: Line[]; theme: Theme; width: number }) {
  const { lines, theme, width } = props;
  return (
    <Box flexDirection="column" width={width} height={lines.length} flexShrink={0}>
      {lines.map((line, i) => text(i, width, [row(line, theme)]))}
    </Box>
  );
});

/** A bordered panel from frame.ts. */
export const Panel = memo(function Panel(props: { panel: Framed; theme: Theme }) {
  const { panel: p, theme } = props;
  const rows = Math.max(0, p.height - 2);
  if (p.width < 2 || p.height < 2)
    return <Box width={Math.max(0, p.width)} height={Math.max(0, p.height)} />;
  const side = Array.from({ length: rows }, () => row([p.side], theme));
  return (
    <Box flexDirection="column" width={p.width} height={p.height} flexShrink={0}>
      {text('top', p.width, [row(p.top, theme)])}
      <Box flexDirection="row" width={p.width} height={rows}>
        {text('left', 1, side)}
        <Box flexDirection="column" width={p.width - 2} height={rows}>
          {p.content.map((line, i) => text(i, p.width - 2, [row(line, theme)]))}
        </Box>
        {text('right', 1, side)}
      </Box>
      {text('bottom', p.width, [row(p.bottom, theme)])}
    </Box>
  );
});
