// Watch mode: from saving a workload to the first frame of the new run (issue #6), median of 20.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from '../src/workload/session.js';
import { watchWorkload } from '../src/workload/watcher.js';
import { type Bench, log, median, round } from './figure.js';

const SAVES = 20;
const source = (v: number) => `import { defineWorkload } from 'cmascope';
export default defineWorkload({
  name: 'reload-bench',
  machine: { memory: '1GiB', cma: [{ name: 'svp', size: '256MiB' }] },
  duration: '1h',
  *main(sys) {
    sys.record('version', ${v});
    for (;;) yield sys.sleep('1s');
  },
});
`;

export const reloadBench: Bench = {
  id: 'reload',
  title: 'watch: save to the first frame of the new run',
  async figures() {
    const dir = mkdtempSync(join(tmpdir(), 'cmascope-reload-'));
    const file = join(dir, 'w.ts');
    writeFileSync(file, source(0));
    const session = new Session({
      file,
      seed: 1,
      set: {},
      policies: {},
      live: { refreshHz: 10, speed: 1, paused: false, mapCells: 256, traceLines: 50 },
    });
    let waiting: { v: number; resolve: () => void } | undefined;
    session.on('frame', (f) => {
      if (waiting && f.snapshot.results.version === waiting.v) waiting.resolve();
    });
    const watcher = watchWorkload(file, (f) => session.restart({ file: f }, 'reload'));
    const next = (v: number) => new Promise<void>((resolve) => (waiting = { v, resolve }));
    const first = next(0);
    session.start();
    await first;
    const times: number[] = [];
    for (let v = 1; v <= SAVES; v++) {
      const shown = next(v);
      const t0 = performance.now();
      writeFileSync(file, source(v));
      await shown;
      times.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 150));
    }
    await watcher.close();
    await session.stop();
    rmSync(dir, { recursive: true, force: true });
    log(`  save → first frame: ${times.map((t) => t.toFixed(0)).join(' ')} ms`);
    return [{ name: 'reload_ms', value: round(median(times), 0), unit: 'ms', target: '<= 300' }];
  },
};
