// Bundled workloads by name (issue #14 item 2): `cmascope list`, and a name wherever a file goes;
// the command line's habits (item 9): did-you-mean, shell completion.
import { describe, expect, it } from 'vitest';
import { BUNDLED, cmascope, lines, workload } from './cli.js';

describe.concurrent('bundled workloads by name', () => {
  it('list: every bundled workload with its description, the default marked', async () => {
    const r = await cmascope(['list']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'cache-churn                Page cache and anon churn drift into CMA; a 200 MiB camera buffer must migrate them out',
      'io-uring-memlock           io_uring fixed buffers of three processes against a per-user RLIMIT_MEMLOCK',
      'mtk-secure-region          One pinned page anywhere in a 384 MiB whole-region secure heap stops secure playback',
      'odirect-race               An O_DIRECT write in flight against a 200 MiB CMA heap allocation',
      'rpi-fs-pages-busy          Raspberry Pi page cache in CMA against vc4 buffers: 4.10-rc PFNs-busy runs, which 6.4 no longer has',
      'rpi-vc4-storm              Raspberry Pi vc4 buffers fill a 64 MiB CMA area: every frame logs alloc failed, req-size: 2040 pages, ret: -12',
      'secure-playback (default)  A TEE client keeps 64 MiB registered while the player allocates a 200 MiB secure buffer',
      'zynqmp-udmabuf             ZynqMP: u-dma-buf asks for a whole 2 GiB shared-dma-pool region at once and fails on one page',
    ]);
    expect((await cmascope(['workloads'])).stdout).toBe(r.stdout);
  });

  it('run <name> is run <bundled file>, byte for byte', async () => {
    const [byName, byFile] = await Promise.all([
      cmascope(['run', 'io-uring-memlock', '-f', 'ndjson']),
      cmascope(['run', workload('io-uring-memlock'), '-f', 'ndjson']),
    ]);
    expect(byName.code).toBe(0);
    expect(byName.stdout).toBe(byFile.stdout);
    expect(JSON.parse(byName.stdout).results.p2_register).toBe('ENOMEM');
  });

  it('run with no workload runs the default; check takes a name too', async () => {
    const [run, check] = await Promise.all([
      cmascope(['run', '-f', 'ndjson', '--until', '1s']),
      cmascope(['check', 'mtk-secure-region.ts']),
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).workload).toBe('secure-playback');
    expect(check.stderr).toBe(
      'cmascope: mtk-secure-region.ts is valid: One pinned page anywhere in a 384 MiB whole-region secure heap stops secure playback\n',
    );
    expect(check.code).toBe(0);
  });
});

describe.concurrent('did you mean, and completion', () => {
  it.each([
    [['comapre'], "cmascope: no such workload file: comapre (did you mean the command 'compare'?)"],
    [['rnu', 'w.ts'], "cmascope: Unknown argument: w.ts (did you mean 'run'?)"],
    [
      ['run', 'secure-plaback'],
      "cmascope: no such workload file: secure-plaback (did you mean 'secure-playback'?)",
    ],
    [['run', 'chek'], `cmascope: no such workload file: chek (bundled workloads: ${BUNDLED})`],
    [
      ['run', '--intervall', '1s'],
      'cmascope: Unknown argument: intervall (did you mean --interval?)',
    ],
    [['tui', '--sped', '2'], 'cmascope: Unknown argument: sped (did you mean --speed?)'],
    [['compare', '--seeeds', '1..3'], 'cmascope: Unknown argument: seeeds (did you mean --seeds?)'],
    [['run', '--zzzzzz'], 'cmascope: Unknown argument: zzzzzz'],
  ])('cmascope %j', async (args, line) => {
    const r = await cmascope(args);
    expect(lines(r.stderr)[0]).toBe(line);
    expect(r.code).toBe(2);
  });

  it('completion prints a shell completion script for cmascope', async () => {
    const r = await cmascope(['completion']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe('###-begin-cmascope-completions-###');
    expect(r.stdout).toContain(
      'complete -o bashdefault -o default -F _cmascope_yargs_completions cmascope',
    );
  });
});

describe.concurrent('per-command examples in --help (issue #14 item 9)', () => {
  it.each([
    ['run', 'cmascope run secure-playback -f json -o'],
    ['tui', 'cmascope tui mtk-secure-region --speed'],
    ['watch', 'cmascope watch workloads/'],
    ['check', 'cmascope check w.ts'],
    ['compare', 'cmascope compare --merge s1.jsonl'],
    ['capture', 'cmascope capture -o capture.sh'],
    ['import', 'cmascope import --check dev.txt'],
  ])('%s --help ends with its own examples', async (command, example) => {
    const r = await cmascope([command, '--help']);
    expect(r.code).toBe(0);
    const examples = r.stdout.split('\nExamples:\n')[1] ?? '';
    expect(examples).toContain(example);
    for (const line of lines(examples).filter((l) => l.startsWith('  cmascope ')))
      expect(line.split(/\s+/)[2]).toBe(command);
  });
});
