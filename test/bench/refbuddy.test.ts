// bench/refbuddy.c, the C allocator `npm run bench` compares against, is the repository's own: it
// compiles with the system's cc and makes the reference allocator's choices, pfn for pfn.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { opStream } from '../../bench/alloc.js';
import {
  checkRefbuddy,
  compileRefbuddy,
  JsRefbuddy,
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

  it('has a JavaScript port that makes the same choices, pfn for pfn', () => {
    const [pages, ops] = [1 << 16, 200_000];
    const buddy = new JsRefbuddy(pages);
    const live = new Int32Array(pages);
    let nl = 0;
    let digest = 14695981039346656037n; // refbuddy.c's digest_pfn(): FNV-1a over each pfn's bytes
    const hash = (pfn: number) => {
      for (let i = 0; i < 4; i++) {
        digest ^= BigInt((pfn >>> (8 * i)) & 0xff);
        digest = (digest * 1099511628211n) & 0xffffffffffffffffn;
      }
    };
    for (const j of opStream(pages, ops)) {
      if (j < 0) {
        const pfn = buddy.allocPages(0);
        if (pfn >= 0) {
          live[nl++] = pfn;
          hash(pfn);
        }
      } else {
        hash(live[j]!);
        buddy.freePages(live[j]!, 0);
        live[j] = live[--nl]!;
      }
    }
    const c = runRefbuddy(bin, pages, ops, true);
    expect({ live: nl, digest: digest.toString(16).padStart(16, '0') }).toEqual({
      live: c.live,
      digest: c.digest,
    });
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
