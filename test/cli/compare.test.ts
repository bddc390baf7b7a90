// `cmascope compare` as a user runs it (issue #7): the thread's verdicts (C7, C8, C24), sharding,
// and errors.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function cmascope(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/cmascope.js', ...args], {
      env: { ...process.env, CI: 'true' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

interface Row {
  variant: string;
  runs: number;
  results: Record<string, Record<string, number>>;
  memlock_denied: number;
  cma_alloc_fail: number;
  first_failure: { op: string; errno: string; blocker?: { comm: string; via: string } } | null;
}

describe('compare --thread', () => {
  it('answers the thread: upstream fails (C7), v1 and v2 start playback (C8), accounting refuses the shm (C24)', async () => {
    const r = await cmascope('compare', '--thread', '--format', 'json');
    expect(r.code).toBe(0);
    const rows = (JSON.parse(r.stdout) as { variants: Row[] }).variants;
    expect(rows.map((v) => v.variant)).toEqual([
      'teePin=upstream',
      'teePin=v1-cma-ifdef',
      'teePin=v2-longterm',
      'teePin=v2-longterm,teeAccounting=io_uring',
    ]);
    const [up, v1, v2, acct] = rows as [Row, Row, Row, Row];
    expect(up.results.playback_start).toEqual({ ENOMEM: 1 });
    expect(up.first_failure).toMatchObject({
      op: 'cma_alloc',
      errno: 'EBUSY',
      blocker: { comm: 'drm-client', via: 'tee_shm' },
    });
    expect(v1.results.playback_start).toEqual({ ok: 1 }); // the board has CMA: v1 pins long-term too
    expect(v2.results.playback_start).toEqual({ ok: 1 });
    expect(v2.cma_alloc_fail).toBe(0);
    expect(acct.results.tee_register).toEqual({ ENOMEM: 1 }); // 64 MiB against an 8 MiB limit
    expect(acct.results.playback_start).toEqual({ ok: 1 });
    expect(acct.memlock_denied).toBeGreaterThan(0);
  });
});

describe('sharding', () => {
  it('merged shards equal an unsharded run byte for byte', async () => {
    const args = [
      'compare',
      '--policy',
      'teePin=upstream',
      '--policy',
      'teePin=v2-longterm',
      '--seeds',
      '1..3',
      '--until',
      '20s',
      '--workers',
      '1',
    ];
    const dir = mkdtempSync(join(tmpdir(), 'cmascope-shards-'));
    const [whole, s0, s1] = await Promise.all([
      cmascope(...args, '--format', 'json'),
      cmascope(...args, '--shard', '0/2'),
      cmascope(...args, '--shard', '1/2'),
    ]);
    const files = [s1, s0].map((s, i) => {
      expect(s.code).toBe(0);
      const f = join(dir, `shard${i}.jsonl`);
      writeFileSync(f, s.stdout);
      return f;
    });
    expect(s0.stdout.trim().split('\n')).toHaveLength(3); // runs 0, 2 and 4 of 6
    const [json, text] = await Promise.all([
      cmascope('compare', '--merge', ...files, '--format', 'json'),
      cmascope('compare', '--merge', ...files, '--format', 'text'),
    ]);
    expect(json.code).toBe(0);
    expect(json.stdout).toBe(whole.stdout);
    const rows = JSON.parse(json.stdout).variants as Row[];
    expect(rows.map((r) => r.runs)).toEqual([3, 3]);
    expect(text.stdout).toContain('▸ teePin=upstream  (3 runs)');
  });

  it('shards of one workload run from two directories merge: the hash is of the files, not their place', async () => {
    const copies = [0, 1].map((i) => {
      const dir = mkdtempSync(join(tmpdir(), `cmascope-checkout${i}-`));
      writeFileSync(join(dir, 'w.ts'), readFileSync('workloads/io-uring-memlock.ts'));
      return join(dir, 'w.ts');
    });
    const shards = await Promise.all(
      copies.map((w, i) =>
        cmascope(
          'compare',
          w,
          '--policy',
          'teePin=upstream',
          '--seeds',
          '1..2',
          '--shard',
          `${i}/2`,
        ),
      ),
    );
    const hashes = shards.map(
      (s) => (JSON.parse(s.stdout) as { key: { workload: string } }).key.workload,
    );
    expect(hashes[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(hashes[1]).toBe(hashes[0]);
    const files = shards.map((s, i) => {
      const f = `${copies[i]}.jsonl`;
      writeFileSync(f, s.stdout);
      return f;
    });
    const merged = await cmascope('compare', '--merge', ...files, '--format', 'json');
    expect(merged.stderr).toBe('');
    expect((JSON.parse(merged.stdout).variants as Row[]).map((r) => r.runs)).toEqual([2]);
  });
});

describe('bad variants', () => {
  it('an unknown policy name lists the valid ones', async () => {
    const r = await cmascope('compare', '--policy', 'teePinn=v2');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "cmascope: unknown policy 'teePinn': valid policies are teePin, teeAccounting, cmaRetry, cmaEligibility, placement, pcp, pinsLongtermByDefault\n",
    );
  });

  it('an invalid value lists the valid values', async () => {
    const r = await cmascope('compare', '--policy', 'teePin=v3');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'cmascope: policy teePin=v3 is not valid: choose one of upstream, v1-cma-ifdef, v2-longterm\n',
    );
  });

  it('no variant at all is a usage error', async () => {
    const r = await cmascope('compare');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--policy');
  });
});

describe('across seeds (issue #14 item 8)', () => {
  it('a numeric result as n, min, median, p90 and max; the --kernel in the header', async () => {
    const args = [
      'compare',
      'test/cli/fixtures/random-size.ts',
      '--policy',
      'teePin=upstream',
      '--seeds',
      '1..20',
      '--kernel',
      '6.4',
    ];
    const [r, json] = await Promise.all([
      cmascope(...args, '--workers', '1'),
      cmascope(...args, '-f', 'json'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^cmascope: 20 runs on 1 worker in [\d.]+ s\n$/);
    const out = r.stdout.split('\n');
    expect(out.slice(0, 4)).toEqual([
      "kernel 6.4 (--kernel; a variant's kernel= wins)",
      '',
      '▸ teePin=upstream  (20 runs)',
      '    mib: n=20 min 16 median 72 p90 128 max 128',
    ]);
    expect(JSON.parse(json.stdout).variants[0].stats.mib).toEqual({
      n: 20,
      min: 16,
      median: 72,
      p90: 128,
      max: 128,
    });
  });

  it('the failing seeds of each variant; a note when no seed changes anything; 1 run, 1 worker', async () => {
    const [failing, one] = await Promise.all([
      cmascope(
        'compare',
        'workloads/odirect-race.ts',
        '--policy',
        'teePin=upstream',
        '--policy',
        'teePin=upstream,cmaRetry=android',
        '--seeds',
        '1..3,5',
        '--until',
        '5s',
      ),
      cmascope(
        'compare',
        'workloads/odirect-race.ts',
        '--policy',
        'teePin=upstream',
        '--until',
        '5s',
        '--workers',
        '1',
      ),
    ]);
    expect(failing.code).toBe(0);
    expect(failing.stdout).toContain('    failing seeds: 1..3,5 (of 4)\n');
    expect(failing.stdout).toContain('t=1.890s)\n'); // printk-style, as run and the TUI print it
    expect(failing.stderr.split('\n')[1]).toBe(
      'cmascope: note: every seed gave the same results in every variant: does the workload draw on sys.random()?',
    );
    expect(one.stderr).toMatch(/^cmascope: 1 run on 1 worker in [\d.]+ s\n$/);
  });
});
