// The terminal while the TUI runs: the alternate screen and a hidden cursor on the way in, and on
// every way out — q, Ctrl-C, SIGINT, SIGTERM, SIGHUP, an uncaught exception, an unhandled
// rejection, process.exit — the main screen, the cursor and cooked mode back. Ink 6 has no
// alternateScreen option, so this writes the sequences itself.

export const ENTER_ALT_SCREEN = '\u001b[?1049h\u001b[H\u001b[2J';
export const LEAVE_ALT_SCREEN = '\u001b[?1049l';
export const HIDE_CURSOR = '\u001b[?25l';
export const SHOW_CURSOR = '\u001b[?25h';

export interface OutLike {
  write(s: string): unknown;
}
export interface InLike {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
  pause?(): unknown;
}
/** The parts of `process` the guard hooks into. */
export type ProcLike = Pick<NodeJS.Process, 'on' | 'off' | 'exit'>;

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

export class TerminalGuard {
  private active = false;
  private readonly before: (() => void)[] = [];

  constructor(
    private readonly out: OutLike,
    private readonly input: InLike,
    private readonly err: OutLike,
    private readonly proc: ProcLike,
  ) {}

  get isActive(): boolean {
    return this.active;
  }

  /** Switch to the alternate screen and hide the cursor. */
  enter(): void {
    if (this.active) return;
    this.active = true;
    this.out.write(ENTER_ALT_SCREEN + HIDE_CURSOR);
  }

  /** Run `fn` just before the terminal is restored (unmount Ink while its screen is still up). */
  beforeRestore(fn: () => void): void {
    this.before.push(fn);
  }

  /** Back to the main screen with the cursor shown and raw mode off. Safe to call twice. */
  restore(): void {
    if (!this.active) return;
    this.active = false;
    for (const fn of this.before.splice(0)) {
      try {
        fn();
      } catch {
        // restoring the terminal matters more than a clean unmount
      }
    }
    try {
      if (this.input.isTTY && this.input.isRaw) this.input.setRawMode?.(false);
      // what is typed from now on is for the shell, not for us
      this.input.pause?.();
    } catch {
      // stdin may already be closed
    }
    this.out.write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
  }

  /**
   * Restore on every way out. Signals call `shutdown(128 + signal number)`, which should stop the
   * work and exit; crashes restore, print the error and exit 1. Returns the uninstaller.
   */
  install(shutdown: (code: number) => void): () => void {
    const onExit = () => this.restore();
    const onSignal = (signal: keyof typeof SIGNALS) => shutdown(128 + SIGNALS[signal]);
    const onFatal = (e: unknown) => {
      this.restore();
      const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
      this.err.write(`cmascope: the TUI crashed: ${text}\n`);
      this.proc.exit(1);
    };
    const signals = Object.keys(SIGNALS) as (keyof typeof SIGNALS)[];
    const listeners = signals.map((s) => [s, () => onSignal(s)] as const);
    this.proc.on('exit', onExit);
    for (const [s, l] of listeners) this.proc.on(s, l);
    this.proc.on('uncaughtException', onFatal);
    this.proc.on('unhandledRejection', onFatal);
    return () => {
      this.proc.off('exit', onExit);
      for (const [s, l] of listeners) this.proc.off(s, l);
      this.proc.off('uncaughtException', onFatal);
      this.proc.off('unhandledRejection', onFatal);
    };
  }
}
