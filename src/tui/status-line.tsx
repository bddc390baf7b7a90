// The status line (top): workload, seed, kernel and policies, preset, simulated time, speed and
// the run state as a glyph and a word; and the hint line (bottom): keys, the filter prompt, or a
// notice.
import { Box } from 'ink';
import { memo } from 'react';
import { DEFAULT_POLICIES, type Policies } from '../kernel/config.js';
import type { LiveFrame } from '../workload/protocol.js';
import { seconds, speedLabel } from './format.js';
import { BINDINGS, type Binding } from './keys.js';
import { Lines } from './lines.js';
import { PRESETS } from './presets.js';
import { cut, fitLine, type Line, lineWidth, seg } from './text.js';
import { type Theme, themed, useTheme } from './theme.js';
import type { UiState } from './ui-state.js';

/** The kernel version, teePin and teeAccounting always, the other switches when not at their default. */
export function policiesText(k: { version: string } & Policies): string {
  const parts = [k.version, `teePin=${k.teePin}`, `teeAccounting=${k.teeAccounting}`];
  for (const key of Object.keys(DEFAULT_POLICIES) as (keyof Policies)[]) {
    if (key === 'teePin' || key === 'teeAccounting') continue;
    if (k[key] !== DEFAULT_POLICIES[key]) parts.push(`${key}=${String(k[key])}`);
  }
  return parts.join(' ');
}

export interface StatusProps {
  frame: LiveFrame | undefined;
  workload: string;
  preset: number;
  speed: number;
  error: boolean;
  /** the run on screen died (a run error, and no frame since) */
  stopped?: boolean;
  width: number;
}

/** The status line in two parts, flush left and flush right: only the left one gets cut. */
export function statusLine(p: StatusProps, theme: Theme): { left: Line; right: Line } {
  const g = theme.glyphs;
  const sep = seg(` ${g.sep} `, 'muted');
  const left: Line = [seg(p.workload || 'loading…', 'title')];
  const f = p.frame;
  if (f) {
    const s = f.snapshot;
    left.push(sep, seg(policiesText(s.kernel)), sep, seg(`seed ${s.seed}`, 'muted'));
    if (p.preset >= 0) left.push(seg(` · preset ${p.preset + 1}/${PRESETS.length}`, 'muted'));
  }
  const state: Line = !f
    ? [seg('starting', 'muted')]
    : p.stopped
      ? [seg(`${g.finished} STOPPED`, 'crit')]
      : f.finished
        ? [seg(`${g.finished} FINISHED`, 'ok')]
        : f.paused
          ? [seg(`${g.paused} PAUSED`, 'warn')]
          : [seg(`${g.running} RUNNING`, 'ok')];
  // the right part never gets cut: time, speed, state, failures
  const right: Line = [
    ...(f
      ? [
          seg(`t=${seconds(f.snapshot.simTimeNs)}`, 'title'),
          sep,
          seg(speedLabel(p.speed, g.times), 'accent'),
          sep,
        ]
      : []),
    ...(p.error ? [seg('ERROR ', 'crit')] : []),
    ...state,
  ];
  const room = p.width - lineWidth(right) - 1;
  if (room < 10) return { left: [], right: cut(right, p.width, g.ellipsis) };
  return { left: cut(left, room, g.ellipsis), right };
}

export function hintLine(ui: UiState, width: number, theme: Theme): Line {
  const g = theme.glyphs;
  if (ui.edit) {
    return fitLine(
      [
        seg(`/ filter ${ui.edit.target}: `, 'accent'),
        seg(ui.edit.draft),
        seg(theme.ascii ? '_' : '▏', 'accent'),
        seg('   enter applies · esc clears', 'muted'),
      ],
      width,
      g.ellipsis,
    );
  }
  // a notice keeps '? help' at its end: the way to every key stays in view
  if (ui.notice) {
    const help: Line = [seg('  ? ', 'accent'), seg('help', 'muted')];
    return [...cut([seg(ui.notice, 'accent')], width - lineWidth(help), g.ellipsis), ...help];
  }
  // the table's hints, help last; quit and help always, the others while they fit
  const hints = BINDINGS.flatMap((b) => (b.hint ? [b] : []));
  const help = hints.find((b) => b.action.type === 'help')!;
  const order = [...hints.filter((b) => b !== help), help];
  const cost = (b: Binding) => b.hint![0].length + b.hint![1].length + 3;
  let room = width - order.filter(essential).reduce((n, b) => n + cost(b), 0);
  const shown = order.filter((b) => {
    if (essential(b)) return true;
    if (cost(b) > room) return false;
    room -= cost(b);
    return true;
  });
  const out: Line = [];
  for (const b of shown) out.push(seg(`${b.hint![0]} `, 'accent'), seg(`${b.hint![1]}  `, 'muted'));
  return cut(out, width, g.ellipsis);
}

const essential = (b: Binding) => b.action.type === 'help' || b.action.type === 'quit';

export const StatusLine = themed(
  memo(function StatusLine(p: StatusProps) {
    const theme = useTheme();
    const { left, right } = statusLine(p, theme);
    // two nodes: the blanks between them are never written
    return (
      <Box width={p.width} height={1} justifyContent="space-between">
        <Lines lines={[left]} width={lineWidth(left)} />
        <Lines lines={[right]} width={lineWidth(right)} />
      </Box>
    );
  }),
);

export const HintLine = memo(function HintLine(p: { ui: UiState; width: number }) {
  const theme = useTheme();
  return <Lines lines={[hintLine(p.ui, p.width, theme)]} width={p.width} />;
});
