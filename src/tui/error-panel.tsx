// A failed (re)start of the workload: file:line:column, the message and the code frame. The last
// good run stays on screen around it.
import { relative } from 'node:path';
import { memo } from 'react';
import type { WorkloadErrorInfo } from '../workload/errors.js';
import { Panel } from './lines.js';
import { type Line, seg } from './text.js';
import { themed } from './theme.js';

/** 'workloads/x.ts:12:5' relative to `cwd`, or undefined without a location. */
export function where(e: WorkloadErrorInfo, cwd: string): string | undefined {
  if (!e.location) return undefined;
  const { file, line, column } = e.location;
  return `${relative(cwd, file) || file}:${line}:${column}`;
}

/** What the screen shows around the error: the run that goes on, the run it stopped, or none. */
function shown(hasRun: boolean, stopped: boolean): string {
  if (!hasRun) return 'no run to show: fix the workload and start again (q quits)';
  if (stopped)
    return 'the run above stopped here, as it was at the error; fix the workload, or press p to restart';
  return 'the last good run keeps going above; fix the workload, or press p to restart';
}

export function errorLines(
  e: WorkloadErrorInfo,
  cwd: string,
  hasRun: boolean,
  stopped: boolean,
): Line[] {
  const at = where(e, cwd);
  const out: Line[] = [[...(at ? [seg(`${at}: `, 'title')] : []), seg(e.message, 'crit')]];
  for (const l of (e.frame ?? '').split('\n')) if (l !== '') out.push([seg(l)]);
  out.push([seg(shown(hasRun, stopped), 'muted')]);
  return out;
}

/** Lines the panel needs to show everything. */
export const errorHeight = (e: WorkloadErrorInfo): number =>
  2 + 2 + (e.frame ?? '').split('\n').filter((l) => l !== '').length;

export const ErrorPanel = themed(
  memo(function ErrorPanel(p: {
    error: WorkloadErrorInfo;
    cwd: string;
    hasRun: boolean;
    /** the error stopped the run shown above */
    stopped: boolean;
    width: number;
    height: number;
  }) {
    const title: Line = [
      seg(
        p.error.phase === 'load' ? 'Error loading the workload' : 'Error in the workload',
        'crit',
      ),
    ];
    return (
      <Panel
        frame={{ title, width: p.width, height: p.height, focused: false, tone: 'crit' }}
        lines={errorLines(p.error, p.cwd, p.hasRun, p.stopped)}
      />
    );
  }),
);
