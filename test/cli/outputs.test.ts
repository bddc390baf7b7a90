// Every bundled workload's output, byte for byte, against the digests recorded in outputs.sha256:
// a refactor must leave what users see unchanged. A change that means to alter an output records
// it anew, and its diff shows which runs moved:
//   npm run build && UPDATE_OUTPUTS=1 npx vitest run test/cli/outputs.test.ts
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FORMATS } from '../../src/metrics/exporters.js';
import { BUNDLED, cmascope, ROOT, workload } from './cli.js';

const DIGESTS = join(ROOT, 'test/cli/outputs.sha256');

/** The runs recorded: each workload in ndjson (every snapshot) and text, on each kernel version;
 * the default workload in every format. */
const RUNS: { name: string; args: string[] }[] = BUNDLED.split(', ').flatMap((w) =>
  ['6.18', '6.4'].flatMap((kernel) =>
    (w === 'secure-playback' ? FORMATS : (['ndjson', 'text'] as const)).map((f) => ({
      name: `${w}.${kernel}.${f}`,
      args: ['run', workload(w), '--kernel', kernel, '-f', f],
    })),
  ),
);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `sha256sum` lines: digest, two spaces, the run's name. */
function recorded(): Map<string, string> {
  const text = readFileSync(DIGESTS, 'utf8');
  return new Map(
    text
      .trimEnd()
      .split('\n')
      .map((l) => [l.slice(66), l.slice(0, 64)] as const),
  );
}

describe('the bundled workloads’ outputs (test/cli/outputs.sha256)', () => {
  it('are byte-identical to the recorded ones', { timeout: 600_000 }, async () => {
    const outputs = await Promise.all(
      RUNS.map(async ({ name, args }) => {
        const r = await cmascope(args);
        expect.soft(r.stderr, name).toBe('');
        expect.soft(r.code, name).toBe(0);
        return [name, sha256(r.stdout)] as const;
      }),
    );
    if (process.env.UPDATE_OUTPUTS === '1') {
      writeFileSync(DIGESTS, outputs.map(([n, d]) => `${d}  ${n}\n`).join(''));
    }
    expect(new Map(outputs)).toEqual(recorded());
  });
});
