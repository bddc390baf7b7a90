// The TUI's entry point: take over the terminal, render the app from the session's frames, and
// give the terminal back however the program ends.
import { render } from 'ink';
import type { Policies } from '../kernel/config.js';
import { App } from './app.js';
import type { SessionLike } from './hooks/use-session-frames.js';
import { TerminalGuard } from './terminal.js';
import type { Theme } from './theme.js';

/**
 * The share of one core that drawing frames may take (frame-gate.ts). With the worker's own
 * share this keeps the TUI under 15 % of a core at 1× (issue 5 item 5, bench/tui.ts tui_cpu_pct).
 */
export const RENDER_BUDGET = 0.06;

export interface TuiOptions {
  theme: Theme;
  /** simulated seconds per wall second at the start; Infinity: as fast as possible */
  speed: number;
  /** --policy switches; the presets of `p` override teePin and teeAccounting */
  basePolicies: Partial<Policies>;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  stderr?: NodeJS.WriteStream;
}

export interface TuiSession extends SessionLike {
  start(): void;
  stop(): Promise<void>;
}

/** Run the TUI until the user quits; resolves with the exit code. */
export async function runTui(session: TuiSession, opts: TuiOptions): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const stdin = opts.stdin ?? process.stdin;
  const stderr = opts.stderr ?? process.stderr;
  const term = new TerminalGuard(stdout, stdin, stderr, process);
  let ink: ReturnType<typeof render> | undefined;
  term.beforeRestore(() => ink?.unmount());
  const uninstall = term.install((code) => {
    void session.stop();
    term.restore();
    process.exit(code);
  });
  term.enter();
  try {
    ink = render(
      <App
        session={session}
        theme={opts.theme}
        speed={opts.speed}
        basePolicies={opts.basePolicies}
        renderBudget={RENDER_BUDGET}
      />,
      { stdout, stdin, stderr, exitOnCtrlC: false, patchConsole: false },
    );
    session.start();
    await ink.waitUntilExit();
    return 0;
  } finally {
    await session.stop();
    term.restore();
    uninstall();
  }
}
