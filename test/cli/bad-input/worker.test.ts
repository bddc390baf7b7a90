// The bad-input catalogue of the workload worker (issue #13): runs that must end, and end with a
// message naming their cause — snapshots past the end, runaway memory, inputs that are not
// files, long honest runs, deadlocks, callbacks that would never run, determinism holes.
import { expect } from 'vitest';
import { cmascope } from '../cli.js';
import { type BadInput, catalogue, SMALL } from './catalogue.js';

const lines = (s: string): string[] => s.trim().split('\n');

const snapshots: BadInput[] = [
  {
    name: '--interval on a run without a duration: snapshots stop where the run ends',
    args: ['run', 'w.ts', '--interval', '1s', '-f', 'ndjson'],
    files: { 'w.ts': SMALL },
    exit: 0,
    stderr: '',
    check: async (r, dir) => {
      const plain = await cmascope(['run', 'w.ts', '-f', 'ndjson'], { cwd: dir });
      const out = lines(r.stdout);
      expect(out.length).toBeLessThan(5);
      expect(out.at(-1)).toBe(lines(plain.stdout).at(-1));
    },
  },
];

catalogue('bad input: the workload worker', [...snapshots]);
