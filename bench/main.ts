// The bench runner: every module in BENCHES (or those named by `--only id,id`), printed as a
// table or, with --json, one JSON object per figure per line and nothing else on stdout. A missed
// target is a measurement, not a failure: the exit code is 0 unless a bench could not run.
import { cpus } from 'node:os';
import { alloc } from './alloc.js';
import { cma } from './cma.js';
import { compareBench } from './compare.js';
import { type Bench, type Figure, log, status } from './figure.js';
import { reloadBench } from './reload.js';
import { rss } from './rss.js';
import { simBench } from './sim.js';
import { traceBench } from './trace.js';
import { tuiBench } from './tui.js';

/** Add a bench here. */
const BENCHES: readonly Bench[] = [
  alloc,
  cma,
  rss,
  simBench,
  compareBench,
  tuiBench,
  reloadBench,
  traceBench,
];

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1]?.split(',') : undefined;
/** The table's column widths: the name column as wide as the longest name. */
const COLS = [28, 12, 8, 8, 4];
const row = (cells: string[]) =>
  cells.map((c, i) => (i === 1 ? c.padStart(COLS[i]!) : c.padEnd(COLS[i]!))).join('  ');

const selected = BENCHES.filter((b) => !only || only.includes(b.id));
if (selected.length === 0) {
  log(`bench: nothing matches --only; the benches are ${BENCHES.map((b) => b.id).join(', ')}`);
  process.exit(1);
}
const all: Figure[] = [];
let failed = 0;
for (const b of selected) {
  log(`bench ${b.id}: ${b.title} ...`);
  try {
    for (const f of await b.figures()) {
      all.push(f);
      if (json) {
        const { name, value, unit, target } = f;
        process.stdout.write(`${JSON.stringify({ name, value, unit, target })}\n`);
      }
    }
  } catch (e) {
    failed++;
    log(`bench ${b.id} FAILED: ${e instanceof Error ? e.message : String(e)}`);
  }
}
if (!json) {
  console.log(
    `\nnode ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}\n`,
  );
  COLS[0] = Math.max(COLS[0]!, ...all.map((f) => f.name.length));
  console.log(row(['name', 'value', 'unit', 'target', 'status']));
  console.log(row(COLS.map((n) => '-'.repeat(n))));
  for (const f of all) {
    const s = status(f);
    console.log(row([f.name, String(f.value), f.unit, f.target, s === 'MISS' ? 'MISS <<<' : s]));
  }
  const missed = all.filter((f) => status(f) === 'MISS').map((f) => f.name);
  console.log(missed.length ? `\nMISS: ${missed.join(', ')}` : '\nall targets met');
}
if (failed) process.exitCode = 1;
