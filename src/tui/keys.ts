// Key bindings (issue 5 §3): a key press becomes an Action. Pure, so the bindings are testable
// without a terminal; app.tsx applies the actions.

/** The fields of Ink's Key that the bindings read. */
export interface KeyLike {
  ctrl?: boolean;
  shift?: boolean;
  tab?: boolean;
  return?: boolean;
  escape?: boolean;
  backspace?: boolean;
  delete?: boolean;
  upArrow?: boolean;
  downArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
}

export type Action =
  | { type: 'quit' }
  | { type: 'help' }
  | { type: 'pause' }
  | { type: 'step' }
  | { type: 'toFailure' }
  | { type: 'faster' }
  | { type: 'slower' }
  | { type: 'sortNext' }
  | { type: 'sortReverse' }
  | { type: 'filterStart' }
  | { type: 'filterType'; text: string }
  | { type: 'filterBackspace' }
  | { type: 'filterApply' }
  | { type: 'filterCancel' }
  | { type: 'focusNext' }
  | { type: 'focusPrev' }
  | { type: 'open' }
  | { type: 'back' }
  | { type: 'preset' }
  | { type: 'move'; delta: number }
  | { type: 'home' }
  | { type: 'end' };

/** The bindings, as the help screen lists them. */
export const BINDINGS: readonly [keys: string, what: string][] = [
  ['?', 'help (any key closes it)'],
  ['q  Ctrl-C', 'quit'],
  ['space', 'pause / resume'],
  ['.', 'run one event and say which (pauses)'],
  ['>', 'run to the next failure, then pause'],
  ['+  -', 'speed up / slow down (0.1× … max)'],
  ['s  S', 'sort processes by the next column / reverse'],
  ['/', 'filter processes (trace when focused): type, enter applies, esc clears'],
  ['tab  shift-tab', 'next / previous panel'],
  ['↑ ↓  j k  PgUp PgDn', 'move in the focused panel'],
  ['g  G  Home End', 'to the first / last line of the focused panel'],
  ['enter', 'drill down into the selected failure (esc back)'],
  ['p', 'next policy preset, restart with the same seed'],
];

/** The keys Ink reads for the control characters that a burst of keys may hold. */
const CONTROL_KEYS: Record<string, KeyLike> = {
  '\t': { tab: true },
  '\r': { return: true },
  '\u007f': { backspace: true },
  '\b': { backspace: true },
};

/**
 * Keys typed faster than Ink reads them arrive as one string ('++', '\t\t'): one key each, with
 * the flags Ink would have given it alone. Ink already splits escape sequences off.
 */
export function burstKeys(input: string): [string, KeyLike][] {
  return [...input].map((ch) => [ch, CONTROL_KEYS[ch] ?? {}]);
}

/** What a key does: in the filter prompt (`editing`) printable keys are text. */
export function keyAction(input: string, key: KeyLike, editing: boolean): Action | undefined {
  if (key.ctrl && input === 'c') return { type: 'quit' };
  if (editing) {
    if (key.return) return { type: 'filterApply' };
    if (key.escape) return { type: 'filterCancel' };
    if (key.backspace || key.delete) return { type: 'filterBackspace' };
    if (key.ctrl || key.tab || key.upArrow || key.downArrow) return undefined;
    // printable text (a paste arrives as one string); drop control characters
    const text = [...input].filter((ch) => ch >= ' ' && ch !== '\u007f').join('');
    return text === '' ? undefined : { type: 'filterType', text };
  }
  if (key.tab) return key.shift ? { type: 'focusPrev' } : { type: 'focusNext' };
  if (key.return) return { type: 'open' };
  if (key.escape) return { type: 'back' };
  if (key.upArrow) return { type: 'move', delta: -1 };
  if (key.downArrow) return { type: 'move', delta: 1 };
  if (key.pageUp) return { type: 'move', delta: -10 };
  if (key.pageDown) return { type: 'move', delta: 10 };
  if (key.home) return { type: 'home' };
  if (key.end) return { type: 'end' };
  if (key.ctrl) return undefined;
  switch (input) {
    case '?':
      return { type: 'help' };
    case 'q':
      return { type: 'quit' };
    case ' ':
      return { type: 'pause' };
    case '.':
      return { type: 'step' };
    case '>':
      return { type: 'toFailure' };
    case '+':
    case '=':
      return { type: 'faster' };
    case '-':
    case '_':
      return { type: 'slower' };
    case 's':
      return { type: 'sortNext' };
    case 'S':
      return { type: 'sortReverse' };
    case '/':
      return { type: 'filterStart' };
    case 'p':
      return { type: 'preset' };
    case 'k':
      return { type: 'move', delta: -1 };
    case 'j':
      return { type: 'move', delta: 1 };
    case 'g':
      return { type: 'home' };
    case 'G':
      return { type: 'end' };
    default:
      return undefined;
  }
}
