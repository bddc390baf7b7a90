// Semantic colours and glyphs for the TUI. Colour is never the only signal: every page state,
// pause state and warning also has its own glyph or text.
// Monochrome when NO_COLOR is set and not empty, with --no-color, or with FORCE_COLOR=0: chalk
// (Ink's colour engine) ignores NO_COLOR, so this layer decides (§2.6).
import {
  type ComponentType,
  createContext,
  createElement,
  type ReactNode,
  useContext,
} from 'react';

/** What a piece of text means; the theme turns it into a style. */
export type Tone =
  | 'plain'
  | 'muted'
  | 'title'
  | 'accent'
  | 'border'
  | 'focus'
  | 'ok'
  | 'warn'
  | 'crit'
  | 'info'
  | 'selected'
  | 'free'
  | 'cma_client'
  | 'movable'
  | 'isolated'
  | 'pinned_short'
  | 'pinned_long'
  | 'pcp'
  | 'blocking';

/** The props of an Ink <Text> that a tone sets. */
export interface Style {
  color?: string;
  bold?: boolean;
  dimColor?: boolean;
  inverse?: boolean;
  underline?: boolean;
}

/** Characters that depend on --ascii. */
export interface Glyphs {
  /** indexed by the map cell state (metrics/view.ts Cell) */
  cells: readonly string[];
  blocking: string;
  arrow: string;
  ellipsis: string;
  running: string;
  paused: string;
  finished: string;
  sortAsc: string;
  sortDesc: string;
  gaugeFull: string;
  gaugeEmpty: string;
  focus: string;
  times: string;
  sep: string;
  /** panel borders: [top-left, top-right, bottom-left, bottom-right, horizontal, vertical] */
  border: readonly [string, string, string, string, string, string];
  borderFocus: readonly [string, string, string, string, string, string];
  chart: 'braille' | 'ascii';
}

export interface Theme {
  readonly color: boolean;
  /** no escape sequences at all (FORCE_COLOR=0): not even bold or inverse */
  readonly plain: boolean;
  readonly ascii: boolean;
  readonly glyphs: Glyphs;
  style(tone: Tone): Style;
}

const UNICODE: Glyphs = {
  // Cell.FREE, CMA_CLIENT, MOVABLE, ISOLATED, PINNED_SHORT, PINNED_LONG, PCP
  cells: ['·', '▒', '░', 'i', 's', 'L', ':'],
  blocking: 'X',
  arrow: '→',
  ellipsis: '…',
  running: '▶',
  paused: '⏸',
  finished: '■',
  sortAsc: '▲',
  sortDesc: '▼',
  gaugeFull: '█',
  gaugeEmpty: '·',
  focus: '▶',
  times: '×',
  sep: '│',
  border: ['╭', '╮', '╰', '╯', '─', '│'],
  borderFocus: ['╔', '╗', '╚', '╝', '═', '║'],
  chart: 'braille',
};

const ASCII: Glyphs = {
  cells: ['.', '#', '+', 'i', 's', 'L', ':'],
  blocking: 'X',
  arrow: '->',
  ellipsis: '~',
  running: '>',
  paused: '||',
  finished: '#',
  sortAsc: '^',
  sortDesc: 'v',
  gaugeFull: '#',
  gaugeEmpty: '.',
  focus: '>',
  times: 'x',
  sep: '|',
  border: ['+', '+', '+', '+', '-', '|'],
  borderFocus: ['#', '#', '#', '#', '=', '#'],
  chart: 'ascii',
};

const COLOURS: Record<Tone, Style> = {
  plain: {},
  muted: { color: 'gray' },
  title: { bold: true },
  accent: { color: 'cyan' },
  border: { color: 'gray' },
  focus: { color: 'cyan', bold: true },
  ok: { color: 'green' },
  warn: { color: 'yellow' },
  crit: { color: 'red', bold: true },
  info: { color: 'blue' },
  selected: { inverse: true },
  free: { color: 'gray' },
  cma_client: { color: 'blue' },
  movable: { color: 'cyan' },
  isolated: { color: 'yellow' },
  pinned_short: { color: 'magenta', bold: true },
  pinned_long: { color: 'red', bold: true },
  pcp: { color: 'gray' },
  blocking: { color: 'red', bold: true, inverse: true },
};

// No colours: bold, dim, inverse and underline are not colours (no-color.org).
const MONO: Record<Tone, Style> = {
  plain: {},
  muted: { dimColor: true },
  title: { bold: true },
  accent: {},
  border: {},
  focus: { bold: true },
  ok: {},
  warn: { bold: true },
  crit: { bold: true },
  info: {},
  selected: { inverse: true },
  free: { dimColor: true },
  cma_client: {},
  movable: {},
  isolated: { underline: true },
  pinned_short: { bold: true },
  pinned_long: { bold: true },
  pcp: { dimColor: true },
  blocking: { bold: true, inverse: true },
};

/** Whether to colour: not with --no-color, a non-empty NO_COLOR, or FORCE_COLOR=0. */
export function colorEnabled(env: NodeJS.ProcessEnv, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false;
  return true;
}

export function makeTheme(opts: { color: boolean; ascii: boolean; plain?: boolean }): Theme {
  const styles = opts.color ? COLOURS : MONO;
  return {
    color: opts.color,
    plain: opts.plain ?? false,
    ascii: opts.ascii,
    glyphs: opts.ascii ? ASCII : UNICODE,
    style: (tone) => styles[tone],
  };
}

/** The theme of everything under the screen's root, which provides it once (screen.tsx Screen). */
export const ThemeContext = createContext<Theme | undefined>(undefined);

/** The theme the root provided; a panel outside any root is a bug, not an unstyled panel. */
export function useTheme(): Theme {
  const theme = useContext(ThemeContext);
  if (!theme) throw new Error('useTheme: no ThemeContext above this component');
  return theme;
}

/** The props of a panel that can also be drawn alone (tests): a theme given here is provided. */
export type Themed<P> = P & { theme?: Theme };

/** `C` under the root's theme, or under its own `theme` prop when drawn alone. */
export function themed<P extends object>(C: ComponentType<P>): (p: Themed<P>) => ReactNode {
  return function WithTheme(p: Themed<P>) {
    const inner = createElement(C, p);
    return p.theme ? createElement(ThemeContext.Provider, { value: p.theme }, inner) : inner;
  };
}
