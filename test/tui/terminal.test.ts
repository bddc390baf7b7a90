// The terminal is given back on every way out: the sequences, raw mode, signals, crashes.
import { EventEmitter } from 'node:events';
import { describe, expect, test, vi } from 'vitest';
import {
  ENTER_ALT_SCREEN,
  HIDE_CURSOR,
  LEAVE_ALT_SCREEN,
  SHOW_CURSOR,
  TerminalGuard,
} from '../../src/tui/terminal.js';

function setup() {
  const out: string[] = [];
  const err: string[] = [];
  const input = { isTTY: true, isRaw: true, setRawMode: vi.fn((m: boolean) => (input.isRaw = m)) };
  const proc = Object.assign(new EventEmitter(), { exit: vi.fn() });
  const guard = new TerminalGuard(
    { write: (s: string) => out.push(s) },
    input,
    { write: (s: string) => err.push(s) },
    proc as unknown as NodeJS.Process,
  );
  return { out, err, input, proc, guard };
}

describe('TerminalGuard', () => {
  test('enter: alternate screen, cursor hidden; restore: cursor shown, main screen, raw mode off', () => {
    const { out, input, guard } = setup();
    guard.enter();
    expect(out.join('')).toBe(ENTER_ALT_SCREEN + HIDE_CURSOR);
    const order: string[] = [];
    guard.beforeRestore(() => order.push('unmount'));
    guard.restore();
    expect(out.join('')).toBe(ENTER_ALT_SCREEN + HIDE_CURSOR + SHOW_CURSOR + LEAVE_ALT_SCREEN);
    expect(input.setRawMode).toHaveBeenCalledWith(false);
    expect(order).toEqual(['unmount']);
    guard.restore(); // twice is harmless
    expect(out).toHaveLength(2);
  });

  test.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)(
    '%s calls the shutdown with 128 + the signal',
    (sig) => {
      const { proc, guard } = setup();
      const shutdown = vi.fn();
      const uninstall = guard.install(shutdown);
      guard.enter();
      proc.emit(sig);
      expect(shutdown).toHaveBeenCalledWith({ SIGHUP: 129, SIGINT: 130, SIGTERM: 143 }[sig]);
      uninstall();
      expect(proc.listenerCount(sig)).toBe(0);
    },
  );

  test.each(['uncaughtException', 'unhandledRejection'] as const)(
    'an %s restores the terminal before the error is printed, then exits 1',
    (event) => {
      const { out, err, proc, guard } = setup();
      guard.install(() => {});
      guard.enter();
      proc.emit(event, new Error('boom'));
      expect(out.at(-1)).toBe(SHOW_CURSOR + LEAVE_ALT_SCREEN);
      expect(err.join('')).toMatch(/^cmascope: the TUI crashed: Error: boom/);
      expect(proc.exit).toHaveBeenCalledWith(1);
    },
  );

  test('process exit restores', () => {
    const { out, proc, guard } = setup();
    guard.install(() => {});
    guard.enter();
    proc.emit('exit', 0);
    expect(out.at(-1)).toBe(SHOW_CURSOR + LEAVE_ALT_SCREEN);
  });
});
