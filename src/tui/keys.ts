// Key bindings (issue 5 item 3): a key press becomes an Action. Pure, so the bindings are testable
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

/**
 * The one table of key bindings: it drives the key handler (keyAction), the help screen (its
 * `help` lines, in this order; a binding without one is listed with the one before it) and the
 * footer (its `hint`s). A binding matches a printable key in `chars`, or a key `when` says.
 */
export interface Binding {
  chars?: string;
  when?: (input: string, key: KeyLike) => boolean;
  action: Action;
  help?: readonly [keys: string, what: string];
  hint?: readonly [keys: string, what: string];
}

export const BINDINGS: readonly Binding[] = [
  {
    chars: '?',
    action: { type: 'help' },
    help: ['?', 'help (j/k scroll it, any other key closes it)'],
    hint: ['?', 'help'],
  },
  {
    chars: 'q', // Ctrl-C: keyAction, in any mode
    action: { type: 'quit' },
    help: ['q  Ctrl-C', 'quit'],
    hint: ['q', 'quit'],
  },
  {
    chars: ' ',
    action: { type: 'pause' },
    help: ['space', 'pause / resume'],
    hint: ['space', 'pause'],
  },
  {
    chars: '.',
    action: { type: 'step' },
    help: ['.', 'run one event and say which (pauses)'],
    hint: ['.', 'step'],
  },
  {
    chars: '>',
    action: { type: 'toFailure' },
    help: ['>', 'run to the next failure, then pause'],
    hint: ['>', 'next failure'],
  },
  {
    chars: '+=',
    action: { type: 'faster' },
    help: ['+  -', 'speed up / slow down (0.1× … max)'],
    hint: ['+/-', 'speed'],
  },
  { chars: '-_', action: { type: 'slower' } },
  {
    chars: 's',
    action: { type: 'sortNext' },
    help: ['s  S', 'sort processes by the next column / reverse'],
    hint: ['s/S', 'sort'],
  },
  { chars: 'S', action: { type: 'sortReverse' } },
  {
    chars: '/',
    action: { type: 'filterStart' },
    help: ['/', 'filter processes (trace when focused): type, enter applies, esc clears'],
    hint: ['/', 'filter'],
  },
  {
    when: (_, k) => !!k.tab && !k.shift,
    action: { type: 'focusNext' },
    help: ['tab  shift-tab', 'next / previous panel'],
    hint: ['tab', 'panel'],
  },
  { when: (_, k) => !!k.tab && !!k.shift, action: { type: 'focusPrev' } },
  {
    chars: 'k',
    when: (_, k) => !!k.upArrow,
    action: { type: 'move', delta: -1 },
    help: ['↑ ↓  j k  PgUp PgDn', 'move in the focused panel'],
  },
  { chars: 'j', when: (_, k) => !!k.downArrow, action: { type: 'move', delta: 1 } },
  { when: (_, k) => !!k.pageUp, action: { type: 'move', delta: -10 } },
  { when: (_, k) => !!k.pageDown, action: { type: 'move', delta: 10 } },
  {
    chars: 'g',
    when: (_, k) => !!k.home,
    action: { type: 'home' },
    help: ['g  G  Home End', 'to the first / last line of the focused panel'],
  },
  { chars: 'G', when: (_, k) => !!k.end, action: { type: 'end' } },
  {
    when: (_, k) => !!k.return,
    action: { type: 'open' },
    help: ['enter', 'details of the selected failure or process (esc back)'],
    hint: ['enter', 'details'],
  },
  { when: (_, k) => !!k.escape, action: { type: 'back' } },
  {
    chars: 'p',
    action: { type: 'preset' },
    help: ['p', 'next policy preset, restart with the same seed'],
    hint: ['p', 'preset'],
  },
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
  for (const b of BINDINGS) if (b.when?.(input, key)) return b.action;
  if (key.ctrl || input.length !== 1) return undefined;
  return BINDINGS.find((b) => b.chars?.includes(input))?.action;
}
