// `cmascope capture`: the script, its options, and -o written through a temporary file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureScript } from '../../src/device/capture-script.js';
import { catalogue } from '../cli/bad-input/catalogue.js';
import { cmascope } from '../cli/cli.js';

describe('the capture script', () => {
  const script = captureScript({ pageOwnerBytes: 0, traceSeconds: 0 });

  it('only reads: no redirection into a file but /dev/null, no echo into sysfs or tracefs', () => {
    const writes = script
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'))
      .map((l) => l.replace(/'[^']*'|"[^"]*"/g, "''")) // quoted text is not a redirection
      .flatMap((l) => [...l.matchAll(/(?<![<2])>\s*([^\s;]+)/g)].map((m) => m[1]));
    expect(writes).toEqual(['/dev/null']);
  });

  it('bakes the page_owner cap and the trace seconds into the script', () => {
    const s = captureScript({ pageOwnerBytes: 16 << 20, traceSeconds: 5 });
    expect(s).toContain('\nPAGE_OWNER_BYTES=16777216\nTRACE_SECONDS=5\n');
  });
});

describe('cmascope capture', () => {
  it('prints the script, or writes it with -o', async () => {
    const r = await cmascope(['capture', '--page-owner', '1MiB', '--trace', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(captureScript({ pageOwnerBytes: 1 << 20, traceSeconds: 3 }));
  });
});

catalogue('capture options', [
  {
    name: '-o writes the script, replacing the file only once written',
    files: { 'capture.sh': 'old\n' },
    args: ['capture', '-o', 'capture.sh'],
    exit: 0,
    stderr: '',
    writes: ['capture.sh'],
    check: (_r, dir) => {
      expect(readFileSync(join(dir, 'capture.sh'), 'utf8')).toBe(
        captureScript({ pageOwnerBytes: 0, traceSeconds: 0 }),
      );
    },
  },
  {
    name: '--page-owner that is not a size',
    args: ['capture', '--page-owner', 'lots'],
    exit: 2,
    stderr: /^cmascope: invalid --page-owner 'lots'/,
  },
  {
    name: '--trace of a fraction of a second',
    args: ['capture', '--trace', '0.5'],
    exit: 2,
    stderr: 'cmascope: --trace 0.5: expected whole seconds from 0 to 600',
  },
]);
