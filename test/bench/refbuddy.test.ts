// bench/refbuddy.c, the C allocator `npm run bench` compares against, is the repository's own: it
// compiles with the system's cc and makes the reference allocator's choices, pfn for pfn.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkRefbuddy,
  compileRefbuddy,
  REFBUDDY_EXPECTED,
  runRefbuddy,
} from '../../bench/refbuddy.js';
import { ROOT } from '../cli/cli.js';

const hasCc = (() => {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasCc)('bench/refbuddy.c', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmascope-refbuddy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bin = compileRefbuddy(ROOT, dir);
  const small = REFBUDDY_EXPECTED[0]!;

  it("gives the reference allocator's live pages and digest on the small sequence", () => {
    expect(() => checkRefbuddy(bin, [small])).not.toThrow();
  });

  it('prints the figures the bench parses, and the digest only when asked', () => {
    const r = runRefbuddy(bin, 1 << 12, 10_000);
    expect(r.digest).toBeUndefined();
    expect(r.nsPerOp).toBeGreaterThan(0);
    expect(runRefbuddy(bin, 1 << 12, 10_000, true)).toMatchObject({ live: r.live });
  });

  it('refuses a page count that is not a whole number of 4 MiB blocks', () => {
    expect(() => runRefbuddy(bin, 5000, 10)).toThrow();
  });

  it('is told apart from an allocator that chooses differently', () => {
    expect(() => checkRefbuddy(bin, [{ ...small, digest: '0000000000000000' }])).toThrow(
      /the reference gives/,
    );
  });
});
