// Resident memory of a loaded 16 GiB and 64 GiB machine, each in a fresh node process.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type Bench, type Figure, log, repoRoot, round } from './figure.js';

const MACHINES = [
  { tag: '16g', memory: '16GiB', target: '<= 100' },
  { tag: '64g', memory: '64GiB', target: '<= 400' },
] as const;

export const rss: Bench = {
  id: 'rss',
  title: 'resident memory at 90% used',
  async figures() {
    const child = join(repoRoot(), 'bench/.out/rss_child.js');
    const figs: Figure[] = [];
    for (const m of MACHINES) {
      const out = execFileSync(process.execPath, ['--expose-gc', child, m.memory], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const r = JSON.parse(out) as Record<'rss' | 'heapUsed' | 'arrayBuffers', number> &
        Record<'used' | 'total' | 'migrated', number>;
      const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
      log(
        `  ${m.memory}: ${r.used}/${r.total} pages used, ${r.migrated} migrated by cma_alloc;` +
          ` rss ${mb(r.rss)} = typed arrays ${mb(r.arrayBuffers)} + JS heap ${mb(r.heapUsed)} + rest`,
      );
      figs.push({
        name: `rss_${m.tag}_mb`,
        value: round(r.rss / 1e6, 1),
        unit: 'MB',
        target: m.target,
      });
    }
    return figs;
  },
};
