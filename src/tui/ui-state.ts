// What the user changed on screen: focus, overlays, sorting, filters, selections, speed. Pure; the
// side effects of a key (controlling the session) are in app.tsx, the events that tie it to the
// run in app-state.ts.
import type { Action } from './keys.js';
import { stepSpeed } from './presets.js';
import { defaultDescending, SORT_KEYS, type SortKey } from './process-table.js';

export type PanelId = 'cma' | 'processes' | 'failures' | 'trace';
export const PANELS: readonly PanelId[] = ['cma', 'processes', 'failures', 'trace'];

export type FilterTarget = 'processes' | 'trace';

export interface UiState {
  focus: PanelId;
  help: boolean;
  /** lines the help is scrolled down (clamped when drawn) */
  helpScroll: number;
  /** the failure drill-down is open */
  detail: boolean;
  /** the pid whose process detail is open */
  procDetail?: number;
  sort: { key: SortKey; desc: boolean };
  /** applied filters */
  filters: Record<FilterTarget, string>;
  /** the filter prompt, while typing */
  edit?: { target: FilterTarget; draft: string };
  /** selected row of the processes table */
  procRow: number;
  /** selected failure index; undefined follows the newest */
  failure?: number;
  /** first CMA area shown (when not all fit) */
  areaOffset: number;
  /** trace lines scrolled back from the newest */
  traceBack: number;
  /** the speed the user chose, simulated seconds per wall second */
  speed: number;
  /** a one-line message in the key-hint row */
  notice?: string;
}

export const initialUi = (speed: number): UiState => ({
  focus: 'cma',
  help: false,
  helpScroll: 0,
  detail: false,
  sort: { key: 'pid', desc: false },
  filters: { processes: '', trace: '' },
  procRow: 0,
  areaOffset: 0,
  traceBack: 0,
  speed,
});

/** Extra facts some actions need: how many items there are to move through. */
export interface UiContext {
  failures: number;
  /** the failure shown while following the newest (failures-panel.ts defaultFailure) */
  followed?: number;
  /** the pid of the selected process row */
  selectedPid?: number;
}

const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));

export function reduceUi(s: UiState, a: Action, ctx: UiContext): UiState {
  switch (a.type) {
    case 'help':
      return { ...s, help: !s.help, helpScroll: 0 };
    case 'faster':
      return { ...s, speed: stepSpeed(s.speed, 1) };
    case 'slower':
      return { ...s, speed: stepSpeed(s.speed, -1) };
    case 'sortNext': {
      const key = SORT_KEYS[(SORT_KEYS.indexOf(s.sort.key) + 1) % SORT_KEYS.length]!;
      return { ...s, sort: { key, desc: defaultDescending(key) }, procRow: 0 };
    }
    case 'sortReverse':
      return { ...s, sort: { key: s.sort.key, desc: !s.sort.desc }, procRow: 0 };
    case 'filterStart': {
      const target: FilterTarget = s.focus === 'trace' ? 'trace' : 'processes';
      return { ...s, edit: { target, draft: s.filters[target] } };
    }
    case 'filterType':
      return s.edit ? { ...s, edit: { ...s.edit, draft: s.edit.draft + a.text } } : s;
    case 'filterBackspace':
      return s.edit
        ? { ...s, edit: { ...s.edit, draft: [...s.edit.draft].slice(0, -1).join('') } }
        : s;
    case 'filterApply': {
      if (!s.edit) return s;
      const { edit: _done, ...rest } = s;
      return {
        ...rest,
        filters: { ...s.filters, [s.edit.target]: s.edit.draft.trim() },
        procRow: 0,
        traceBack: 0,
      };
    }
    case 'filterCancel': {
      if (!s.edit) return s;
      const { edit: _done, ...rest } = s;
      return { ...rest, filters: { ...s.filters, [s.edit.target]: '' } };
    }
    case 'focusNext':
    case 'focusPrev': {
      const d = a.type === 'focusNext' ? 1 : PANELS.length - 1;
      return { ...s, focus: PANELS[(PANELS.indexOf(s.focus) + d) % PANELS.length]! };
    }
    case 'open':
      if (s.focus === 'processes' && ctx.selectedPid !== undefined)
        return { ...s, procDetail: ctx.selectedPid, help: false };
      if (ctx.failures === 0) return { ...s, notice: 'no failures yet: nothing to drill into' };
      return { ...s, detail: true, help: false, focus: 'failures' };
    case 'back': {
      if (s.help) return { ...s, help: false };
      if (s.procDetail !== undefined) {
        const { procDetail: _closed, ...rest } = s;
        return rest;
      }
      if (s.detail) return { ...s, detail: false };
      const target: FilterTarget = s.focus === 'trace' ? 'trace' : 'processes';
      if (s.filters[target] !== '') return { ...s, filters: { ...s.filters, [target]: '' } };
      return s;
    }
    case 'move':
      return move(s, a.delta, ctx);
    case 'home':
      return move(s, -Infinity, ctx);
    case 'end':
      return move(s, Infinity, ctx);
    default:
      return s;
  }
}

function move(s: UiState, delta: number, ctx: UiContext): UiState {
  if (s.help) {
    const to = Number.isFinite(delta) ? s.helpScroll + delta : delta < 0 ? 0 : 1e9;
    return { ...s, helpScroll: Math.max(0, to) };
  }
  if (s.detail || s.focus === 'failures') {
    if (ctx.failures === 0) return s;
    const last = ctx.failures - 1;
    // end: follow the newest again (undefined); otherwise an explicit choice
    if (delta === Infinity) {
      const { failure: _follow, ...rest } = s;
      return rest;
    }
    const cur = s.failure ?? ctx.followed ?? last;
    return { ...s, failure: delta === -Infinity ? 0 : clamp(cur + delta, 0, last) };
  }
  switch (s.focus) {
    case 'processes':
      // clamped when drawn, where the number of visible rows is known
      return {
        ...s,
        procRow: Number.isFinite(delta) ? Math.max(0, s.procRow + delta) : delta < 0 ? 0 : 1e9,
      };
    case 'trace':
      // up scrolls back into older lines
      return {
        ...s,
        traceBack: Number.isFinite(delta) ? Math.max(0, s.traceBack - delta) : delta < 0 ? 1e9 : 0,
      };
    case 'cma':
      return {
        ...s,
        areaOffset: Number.isFinite(delta) ? Math.max(0, s.areaOffset + Math.sign(delta)) : 0,
      };
    default:
      return s;
  }
}
