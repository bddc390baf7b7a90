// The compare view (issue #7): variants side by side, one column each, filled in as runs finish.
// `cmascope compare ... --tui`; q or Ctrl-C quits (stopping the pool).
import { Box, render, Text, useApp, useInput } from 'ink';
import { useEffect, useState } from 'react';
import type { VariantSummary } from '../compare/table.js';
import { formatDuration } from '../sim/units.js';
import { TerminalGuard } from './terminal.js';
import type { Theme, Tone } from './theme.js';

export interface CompareProgress {
  rows: VariantSummary[];
  done: number;
  total: number;
  finished: boolean;
}

const distribution = (counts: Record<string, number> | undefined) =>
  counts
    ? Object.entries(counts)
        .map(([v, n]) => `${v}×${n}`)
        .join(' ')
    : '-';

function blame(r: VariantSummary): string {
  const f = r.first_failure;
  if (!f) return '-';
  const who = f.blocker ? ` ${f.blocker.comm}[${f.blocker.pid}] via ${f.blocker.via}` : '';
  return `${f.op} ${f.errno}${who}`;
}

/** The table's rows: a label and, per variant, a cell and its tone. */
export function compareRows(rows: readonly VariantSummary[]): [string, [string, Tone][]][] {
  const resultKeys = [...new Set(rows.flatMap((r) => Object.keys(r.results)))];
  const cell = (
    f: (r: VariantSummary) => string,
    tone: (r: VariantSummary) => Tone = () => 'plain',
  ) => rows.map((r): [string, Tone] => [f(r), tone(r)]);
  return [
    ['runs', cell((r) => `${r.runs}${r.errors ? ` (${r.errors} failed)` : ''}`)],
    ...resultKeys.map((k): [string, [string, Tone][]] => [
      k,
      cell(
        (r) => distribution(r.results[k]),
        (r) => (Object.keys(r.results[k] ?? {}).some((v) => /^E[A-Z]+$/.test(v)) ? 'crit' : 'ok'),
      ),
    ]),
    [
      'cma_alloc ok / fail',
      cell(
        (r) => `${r.cma_alloc_success} / ${r.cma_alloc_fail}`,
        (r) => (r.cma_alloc_fail ? 'crit' : 'ok'),
      ),
    ],
    ['pages migrated', cell((r) => String(r.pgmigrate_success))],
    [
      'memlock denials',
      cell(
        (r) => String(r.memlock_denied),
        (r) => (r.memlock_denied ? 'warn' : 'plain'),
      ),
    ],
    [
      'cma_alloc latency',
      cell((r) =>
        r.latency_ns
          ? `${formatDuration(r.latency_ns.median)} (worst ${formatDuration(r.latency_ns.max)})`
          : '-',
      ),
    ],
    ['first failure', cell(blame, (r) => (r.first_failure ? 'crit' : 'muted'))],
  ];
}

export function CompareView(props: { progress: CompareProgress; theme: Theme; width: number }) {
  const { rows, done, total, finished } = props.progress;
  const label = 20;
  const col = Math.max(12, Math.floor((props.width - label - 2) / Math.max(1, rows.length)) - 1);
  const clip = (s: string, w: number) =>
    s.length > w ? `${s.slice(0, w - 1)}${props.theme.glyphs.ellipsis}` : s.padEnd(w);
  return (
    <Box flexDirection="column">
      <Text {...props.theme.style('title')}>
        {clip(
          `cmascope compare  ${done}/${total} runs${finished ? '  done' : ''}   q quit`,
          props.width,
        )}
      </Text>
      <Box>
        <Text>{' '.repeat(label + 1)}</Text>
        {rows.map((r) => (
          <Text key={r.variant} {...props.theme.style('accent')}>
            {clip(r.variant, col)}{' '}
          </Text>
        ))}
      </Box>
      {compareRows(rows).map(([name, cells]) => (
        <Box key={name}>
          <Text {...props.theme.style('muted')}>{clip(name, label)} </Text>
          {cells.map(([text, tone], i) => (
            <Text key={rows[i]!.variant} {...props.theme.style(tone)}>
              {clip(text, col)}{' '}
            </Text>
          ))}
        </Box>
      ))}
    </Box>
  );
}

function App(props: {
  subscribe: (fn: (p: CompareProgress) => void) => void;
  initial: CompareProgress;
  theme: Theme;
  onQuit: () => void;
}) {
  const { exit } = useApp();
  const [progress, setProgress] = useState(props.initial);
  useEffect(() => props.subscribe(setProgress), [props]);
  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) {
      props.onQuit();
      exit();
    }
  });
  return (
    <CompareView progress={progress} theme={props.theme} width={process.stdout.columns ?? 100} />
  );
}

/** Show a comparison live until the user quits; `stop` ends the pool early. */
export async function runCompareTui(
  initial: CompareProgress,
  subscribe: (fn: (p: CompareProgress) => void) => void,
  theme: Theme,
  stop: () => void,
): Promise<void> {
  const guard = new TerminalGuard(process.stdout, process.stdin, process.stderr, process);
  guard.enter();
  const uninstall = guard.install((code) => {
    stop();
    guard.restore();
    process.exit(code);
  });
  const app = render(<App initial={initial} subscribe={subscribe} theme={theme} onQuit={stop} />, {
    exitOnCtrlC: false,
    patchConsole: false,
  });
  guard.beforeRestore(() => app.unmount());
  await app.waitUntilExit();
  guard.restore();
  uninstall();
}
