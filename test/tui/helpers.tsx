// Shared by the TUI tests: fixture frames captured from the real default workload
// (fixtures/capture.mjs), a fake Session, and waiting for Ink to take input and re-render.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { makeTheme } from '../../src/tui/theme.js';
import type { ControlMessage, LiveFrame, RunRequest } from '../../src/workload/protocol.js';

export const frame = (name: 'upstream-failure' | 'v2-finished'): LiveFrame =>
  JSON.parse(
    readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'),
  ) as LiveFrame;

export const mono = makeTheme({ color: false, ascii: false });
export const ascii = makeTheme({ color: false, ascii: true });
export const colour = makeTheme({ color: true, ascii: false });

/** Stand-in for workload/session.ts Session: records what the TUI asks of it. */
export class FakeSession extends EventEmitter {
  controls: ControlMessage[] = [];
  restarts: Partial<RunRequest>[] = [];
  control(m: ControlMessage): void {
    this.controls.push(m);
  }
  restart(changes: Partial<RunRequest>): void {
    this.restarts.push(changes);
  }
}

/** Let React and Ink's input handling settle (ink-testing-library needs a tick around input). */
export const tick = (ms = 25): Promise<void> => new Promise((r) => setTimeout(r, ms));

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
export const strip = (s: string | undefined): string => (s ?? '').replace(ANSI, '');

export const KEYS = {
  enter: '\r',
  escape: '\u001b',
  tab: '\t',
  shiftTab: '\u001b[Z',
  ctrlC: '\u0003',
  up: '\u001b[A',
  down: '\u001b[B',
  backspace: '\u007f',
} as const;
