// Every bad input a user can give `cmascope run`, with its exit code (1 runtime error, 2 usage error
// or invalid workload) and its message: one line `cmascope: file:line:column: message`, then a code
// frame where the workload's source is to blame, never a bare stack trace. The workloads are in
// test/cli/fixtures/. The tests run concurrently (each spawn waits for a slot in cli.ts).
import { describe, expect, it } from 'vitest';
import { BUNDLED, type CliResult, cmascope, fixture, workload } from './cli.js';

const run = (name: string, ...args: string[]) => cmascope(['run', fixture(name), ...args]);

/** stderr is exactly `line`, then the code frame (source line, caret) if `frame` is given. */
function expectError(r: CliResult, code: number, line: string, frame?: [string, string]): void {
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  expect(lines[0]).toBe(line);
  if (frame) expect(lines.slice(1)).toEqual(frame);
  else expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  expect(r.code).toBe(code);
}

describe.concurrent('the workload file', () => {
  it('missing: exit 2', async () => {
    expectError(
      await run('no-such-workload.ts'),
      2,
      `cmascope: no such workload file: test/cli/fixtures/no-such-workload.ts (bundled workloads: ${BUNDLED})`,
    );
  });

  it('a syntax error: exit 2, file:line:column and a code frame', async () => {
    expectError(
      await run('syntax-error.ts'),
      2,
      'cmascope: test/cli/fixtures/syntax-error.ts:7:15: Unexpected ";"',
      ['  7 |     const x = ;', '    |               ^'],
    );
  });

  it('a throw while loading: exit 2, where it was thrown', async () => {
    expectError(
      await run('throw-at-load.ts'),
      2,
      'cmascope: test/cli/fixtures/throw-at-load.ts:4:40: the table of sizes is empty',
      [
        "  4 | if (table.missing === undefined) throw new Error('the table of sizes is empty');",
        '    |                                        ^',
      ],
    );
  });

  it('no default export: exit 2', async () => {
    expectError(
      await run('no-default.ts'),
      2,
      'cmascope: TypeError: the workload module must `export default defineWorkload({...})`',
    );
  });

  it('a throw while running: exit 1, where the workload threw', async () => {
    expectError(
      await run('throw-while-running.ts'),
      1,
      'cmascope: test/cli/fixtures/throw-while-running.ts:9:11: the player gave up',
      ["  9 |     throw new Error('the player gave up');", '    |           ^'],
    );
  });

  it('an actor that never yields: the watchdog stops it (exit 1)', async () => {
    expectError(
      await run('never-yields.ts', '--watchdog', '1s'),
      1,
      "cmascope: test/cli/fixtures/never-yields.ts: the actor 'never-yields'[100] ran for 1 s of wall time without yielding (an endless loop?); stopped",
    );
  });
});

describe.concurrent('determinism: no wall clock, no unseeded randomness', () => {
  it('Math.random() and Date.now() throw where the workload calls them (exit 1); explicit dates work', async () => {
    const [random, now, none] = await Promise.all([
      run('wall-clock.ts', '--set', 'use=random'),
      run('wall-clock.ts', '--set', 'use=now'),
      run('wall-clock.ts', '--set', 'use=none', '-f', 'json'),
    ]);
    expectError(
      random,
      1,
      "cmascope: test/cli/fixtures/wall-clock.ts:11:50: TypeError: Math.random() is not available in a workload: runs must be reproducible; use sys.random('stream') (seeded by --seed)",
      [
        "  11 |     if (params.use === 'random') sys.record('r', Math.random());",
        '     |                                                  ^',
      ],
    );
    expectError(
      now,
      1,
      'cmascope: test/cli/fixtures/wall-clock.ts:13:52: TypeError: Date.now() is not available in a workload: runs must be reproducible; use sys.now() (simulated time, ns)',
      [
        "  13 |     if (params.use === 'now') sys.record('n', Date.now());",
        '     |                                                    ^',
      ],
    );
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout).at(-1).results.fixed_date).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe.concurrent('malformed units: the message names the value', () => {
  it("'12 MiBs', -1 and NaN in system calls: exit 1 at the call", async () => {
    const [str, neg, nan] = await Promise.all([
      run('bad-unit-string.ts'),
      run('bad-unit-negative.ts'),
      run('bad-unit-nan.ts'),
    ]);
    expectError(
      str,
      1,
      "cmascope: test/cli/fixtures/bad-unit-string.ts:7:28: UnitError: invalid mapping size '12 MiBs': expected a non-negative number with a unit (B, KiB, MiB, GiB, TiB), e.g. '256MiB'",
      [
        "  7 |     const buf = yield* sys.mmapAnon('12 MiBs');",
        '    |                            ^',
      ],
    );
    expectError(
      neg,
      1,
      'cmascope: test/cli/fixtures/bad-unit-negative.ts:7:15: UnitError: invalid duration -1: expected a non-negative integer number of nanoseconds',
      ['  7 |     yield sys.sleep(-1);', '    |               ^'],
    );
    expectError(
      nan,
      1,
      'cmascope: test/cli/fixtures/bad-unit-nan.ts:9:27: UnitError: invalid buffer size NaN: expected a non-negative integer number of bytes',
      [
        "  9 |     const fd = yield* sys.dmaHeapAlloc('svp', perFrame * params.frames);",
        '    |                           ^',
      ],
    );
  });

  it('in the machine: exit 2, pointing at the value', async () => {
    expectError(
      await run('bad-machine-unit.ts'),
      2,
      "cmascope: test/cli/fixtures/bad-machine-unit.ts:5:22: UnitError: invalid memory size '1 GiBs': expected a non-negative number with a unit (B, KiB, MiB, GiB, TiB), e.g. '256MiB'",
      ["  5 |   machine: { memory: '1 GiBs' },", '    |                      ^'],
    );
  });
});

describe.concurrent('unknown CMA areas and heaps', () => {
  it('in a system call: the kernel says ENOENT (a result, not an error)', async () => {
    const r = await run('unknown-area.ts', '-f', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const final = JSON.parse(r.stdout).at(-1);
    expect(final.results).toEqual({ heap: 'ENOENT', debugfs: 'ENOENT', known: 'number' });
    expect(final.failures.map((f: { op: string; errno: string }) => `${f.op} ${f.errno}`)).toEqual([
      'dma_heap_alloc ENOENT',
      'cma_debugfs_alloc ENOENT',
    ]);
  });

  it('a heap on an area the machine does not have: exit 2', async () => {
    expectError(
      await run('heap-unknown-area.ts'),
      2,
      "cmascope: test/cli/fixtures/heap-unknown-area.ts:8:65: ConfigError: heap 'mtk_svp_cma': unknown CMA area 'mtk_svp_typo'",
      [
        "  8 |     heaps: [{ name: 'mtk_svp_cma', type: 'secure-region', area: 'mtk_svp_typo' }],",
        '    |                                                                 ^',
      ],
    );
  });
});

describe.concurrent('impossible machines: exit 2 with the reason', () => {
  it('CMA larger than memory, a base not 2 MiB aligned, overlapping areas, 2 TiB', async () => {
    const [large, unaligned, overlap, huge] = await Promise.all([
      run('cma-too-large.ts'),
      run('cma-unaligned.ts'),
      run('cma-overlap.ts'),
      run('memory-too-large.ts'),
    ]);
    expectError(
      large,
      2,
      "cmascope: test/cli/fixtures/cma-too-large.ts:5:46: ConfigError: CMA area 'svp' (1024 MiB) does not fit in the normal zone's free memory",
      [
        "  5 |   machine: { memory: '512MiB', cma: [{ name: 'svp', size: '1GiB' }] },",
        '    |                                              ^',
      ],
    );
    expectError(
      unaligned,
      2,
      "cmascope: test/cli/fixtures/cma-unaligned.ts:5:44: ConfigError: CMA area 'svp': base must be 2MiB aligned",
      [
        "  5 |   machine: { memory: '1GiB', cma: [{ name: 'svp', size: '64MiB', base: '257MiB' }] },",
        '    |                                            ^',
      ],
    );
    expectError(
      overlap,
      2,
      "cmascope: test/cli/fixtures/cma-overlap.ts:9:15: ConfigError: CMA areas 'svp' and 'camera' overlap",
      ["  9 |       { name: 'camera', size: '64MiB', base: '700MiB' },", '    |               ^'],
    );
    expectError(
      huge,
      2,
      "cmascope: test/cli/fixtures/memory-too-large.ts:5:22: ConfigError: memory '2TiB' ends above 1TiB (with the DRAM base), the model's limit",
      ["  5 |   machine: { memory: '2TiB' },", '    |                      ^'],
    );
  });
});

describe.concurrent('wrong argument types: a TypeError naming the method, at the call', () => {
  it('touch(42), spawn without a body, a yielded non-call, a main that is not a generator', async () => {
    const [touch, spawn, yielded, notGen] = await Promise.all([
      run('bad-touch.ts'),
      run('bad-spawn.ts'),
      run('yields-garbage.ts'),
      run('not-generator.ts'),
    ]);
    expectError(
      touch,
      1,
      'cmascope: test/cli/fixtures/bad-touch.ts:9:16: TypeError: touch expects a buffer from mmapAnon/mmapFile: got 42',
      ['  9 |     yield* sys.touch(42);', '    |                ^'],
    );
    expectError(
      spawn,
      1,
      "cmascope: test/cli/fixtures/bad-spawn.ts:8:9: TypeError: spawn expects a generator function as its body: got 'not a function'",
      ["  8 |     sys.spawn('worker', { uid: 1000 }, 'not a function');", '    |         ^'],
    );
    expectError(
      yielded,
      1,
      "cmascope: TypeError: actor 'yields-garbage' yielded 42, not a system call: yield p.sleep('1s') or yield* p.mmapAnon('1MiB')",
    );
    expectError(
      notGen,
      2,
      'cmascope: test/cli/fixtures/not-generator.ts:3:16: TypeError: workload: `main` must be a generator function `*main(sys, params) {...}`',
      ['  3 | export default defineWorkload({', '    |                ^'],
    );
  });
});

describe.concurrent('command-line mistakes: exit 2 and one line naming the valid choices', () => {
  const W = workload('io-uring-memlock');
  it('unknown --policy key or value, unknown --set key, bad --set value, bad --kernel', async () => {
    const [key, value, set, setValue, kernel] = await Promise.all([
      cmascope(['run', W, '--policy', 'teePn=v2-longterm']),
      cmascope(['run', W, '--policy', 'teePin=v3']),
      cmascope(['run', W, '--set', 'p9MiB=1']),
      cmascope(['run', W, '--set', 'p1MiB=six']),
      cmascope(['run', W, '--kernel', '5.10']),
    ]);
    expectError(
      key,
      2,
      "cmascope: unknown policy 'teePn': valid policies are teePin, teeAccounting, cmaRetry, cmaEligibility, placement, pcp, pinsLongtermByDefault",
    );
    expectError(
      value,
      2,
      'cmascope: policy teePin=v3 is not valid: choose one of upstream, v1-cma-ifdef, v2-longterm',
    );
    expectError(
      set,
      2,
      "cmascope: unknown parameter 'p9MiB': the workload has p1MiB, p2MiB, p3MiB, teeMiB, memlock",
    );
    expectError(setValue, 2, 'cmascope: parameter p1MiB=six: expected a number');
    expect(kernel.code).toBe(2);
    expect(kernel.stderr).toContain('Argument: kernel, Given: "5.10", Choices: "6.4", "6.18"');
    for (const r of [key, value, set, setValue, kernel]) expect(r.stdout).toBe('');
  });

  it('--kernel takes the version as written (6.4 is not the number 6.4)', async () => {
    const r = await cmascope(['run', W, '--kernel', '6.4', '-f', 'json', '--until', '1s']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).at(-1).kernel.version).toBe('6.4');
  });

  it('tui: --refresh above 10 a second, --speed off the steps of + and -: exit 2 before any terminal is needed', async () => {
    const [refresh, zero, slow, word] = await Promise.all([
      cmascope(['tui', '--refresh', '20']),
      cmascope(['tui', '--refresh', '0']),
      cmascope(['tui', '--speed', '0.05']),
      cmascope(['tui', '--speed', 'fast']),
    ]);
    expectError(refresh, 2, 'cmascope: invalid --refresh 20: expected more than 0 and at most 10');
    expectError(zero, 2, 'cmascope: invalid --refresh 0: expected more than 0 and at most 10');
    expectError(slow, 2, "cmascope: invalid --speed 0.05: expected 0.1 to 1000, or 'max'");
    expectError(word, 2, "cmascope: invalid --speed fast: expected 0.1 to 1000, or 'max'");
  });
});
