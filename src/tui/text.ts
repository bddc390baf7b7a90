// Styled lines as plain data: a line is a list of segments, each a string and the tone it is
// shown in. Panels build lines with these helpers; only the Ink components turn tones into
// styles. Every line is cut or padded to an exact width, so nothing overflows its panel.

import { visible } from '../metrics/fmt.js';
import type { Tone } from './theme.js';

export interface Seg {
  text: string;
  tone: Tone;
}
export type Line = Seg[];

/** A segment; control characters in its text (a workload's ESC, NUL, LF) are shown, not obeyed. */
export const seg = (text: string, tone: Tone = 'plain'): Seg => ({ text: visible(text), tone });

/** The text of a line without styles. */
export const plain = (line: Line): string => line.map((s) => s.text).join('');

export const lineWidth = (line: Line): number => line.reduce((n, s) => n + [...s.text].length, 0);

/**
 * Exactly `width` columns: cut with `ellipsis` (which takes the last column) when longer, padded
 * with spaces when shorter. Counts code points; the TUI uses only single-width characters.
 */
export function fitLine(line: Line, width: number, ellipsis = '…'): Line {
  if (width <= 0) return [];
  const total = lineWidth(line);
  if (total <= width) return total === width ? line : [...line, seg(' '.repeat(width - total))];
  const out: Line = [];
  let room = width - 1;
  for (const s of line) {
    if (room <= 0) break;
    const chars = [...s.text];
    if (chars.length <= room) {
      out.push(s);
      room -= chars.length;
    } else {
      out.push({ text: chars.slice(0, room).join(''), tone: s.tone });
      room = 0;
    }
  }
  const last = out[out.length - 1];
  out.push(seg([...ellipsis][0] ?? '~', last?.tone ?? 'plain'));
  return out;
}

/** At most `width` columns: cut with `ellipsis` when longer, never padded. */
export const cut = (line: Line, width: number, ellipsis = '…'): Line =>
  lineWidth(line) <= width ? line : fitLine(line, width, ellipsis);

/** A plain string cut or padded to `width`. */
export const fitText = (text: string, width: number, ellipsis = '…'): string =>
  plain(fitLine([seg(text)], width, ellipsis));

export const padStart = (text: string, width: number): string =>
  text.length >= width ? text : ' '.repeat(width - text.length) + text;

/** Join adjacent segments of the same tone: fewer nodes for Ink to style. */
export function merge(line: Line): Line {
  const out: Line = [];
  for (const s of line) {
    const last = out[out.length - 1];
    if (last && last.tone === s.tone)
      out[out.length - 1] = { text: last.text + s.text, tone: s.tone };
    else if (s.text !== '') out.push(s);
  }
  return out;
}

/**
 * `line` in lines of at most `width`, broken before each piece `pieces` splits a segment into
 * (words, by default); the lines after the first start with `indent` spaces. A piece longer than
 * a line is cut.
 */
export function wrap(
  line: Line,
  width: number,
  indent: number,
  pieces: (text: string) => string[] = (t) => t.split(/(?<= )/),
): Line[] {
  if (lineWidth(line) <= width) return [line];
  const out: Line[] = [];
  let cur: Line = [];
  let used = 0;
  for (const s of line) {
    for (const piece of pieces(s.text)) {
      const bare = [...piece.trimEnd()].length;
      if (used > indent && used + bare > width) {
        out.push(trimEnd(cur));
        cur = [seg(' '.repeat(indent))];
        used = indent;
      }
      const text = used === indent && out.length > 0 ? piece.trimStart() : piece;
      cur.push({ text, tone: s.tone });
      used += [...text].length;
    }
  }
  out.push(cur);
  return out.map((l) => cut(merge(l), width));
}

function trimEnd(line: Line): Line {
  const last = line[line.length - 1];
  return last ? [...line.slice(0, -1), { text: last.text.trimEnd(), tone: last.tone }] : line;
}
