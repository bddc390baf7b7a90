// `--serve`: the address it takes, the errors it gives, and the real Prometheus server scraping a
// real run's endpoint (the Debian package `prometheus`; .ci/run installs it).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLoopback, parseServe } from '../../src/cli/serve.js';
import { exporter } from '../../src/metrics/exporters.js';
import type { Snapshot } from '../../src/metrics/snapshot.js';
import { startRun } from '../../src/workload/loader.js';
import type { HostMessage } from '../../src/workload/protocol.js';
import { BIN, cmascope, ROOT, workload } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cmascope-serve-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A free TCP port on 127.0.0.1 (for a program that cannot be told to take port 0). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** Poll `fn` every 200 ms until it returns something, for at most `ms`. */
async function until<T>(
  what: string,
  fn: () => Promise<T | null | undefined>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== null) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `cmascope <args>` left running; its stderr so far, and its exit. */
function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdout.resume();
  const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, stderr: () => stderr, exit };
}

describe('the address', () => {
  it.each([
    ['9464', '127.0.0.1', 9464],
    [':9464', '127.0.0.1', 9464],
    ['0', '127.0.0.1', 0],
    ['localhost:80', 'localhost', 80],
    ['0.0.0.0:9464', '0.0.0.0', 9464],
    ['[::1]:9464', '::1', 9464],
    ['[::]:65535', '::', 65535],
  ])('%s is %s port %i', (text, host, port) => {
    expect(parseServe(text)).toEqual({ host, port });
  });

  it.each(['', 'abc', ':', 'host:', '65536', '1.2.3.4:http', '::1:9464', '[x]:1', '-1', 'a b:1'])(
    '%j is refused',
    (text) => {
      expect(() => parseServe(text)).toThrow(
        `invalid --serve '${text}': expected [HOST:]PORT, e.g. 9464 or 127.0.0.1:9464`,
      );
    },
  );

  it('knows loopback', () => {
    expect(['localhost', '127.0.0.1', '127.1.2.3', '::1'].map(isLoopback)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['0.0.0.0', '::', '10.0.0.1', 'example.org'].map(isLoopback)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('errors', () => {
  it('a bad address is a usage error', async () => {
    const r = await cmascope(['run', workload('io-uring-memlock'), '--serve', 'nine']);
    expect([r.code, r.stderr]).toEqual([
      2,
      "cmascope: invalid --serve 'nine': expected [HOST:]PORT, e.g. 9464 or 127.0.0.1:9464\n",
    ]);
  });

  it('a port in use is a usage error, before anything runs', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const { port } = busy.address() as { port: number };
    try {
      const out = join(dir, 'never.json');
      const r = await cmascope(['run', '--serve', String(port), '-f', 'json', '-o', out]);
      expect([r.code, r.stderr, r.stdout]).toEqual([
        2,
        `cmascope: cannot serve on 127.0.0.1:${port} (--serve ${port}): the port is in use\n`,
        '',
      ]);
      expect(() => readFileSync(out)).toThrow(/ENOENT/);
    } finally {
      busy.close();
    }
  });

  it('a host beyond loopback is served, with a note', async () => {
    const run = start(['run', workload('io-uring-memlock'), '--serve', '0.0.0.0:0']);
    const line = await until('the serving line', async () =>
      /serving http:\/\/0\.0\.0\.0:(\d+)\/metrics\n/.exec(run.stderr()),
    );
    // the first two lines: the run may be over already, and say so on a third
    expect(run.stderr().split('\n').slice(0, 2)).toEqual([
      'cmascope: note: --serve 0.0.0.0:0 is reachable from other machines: anyone who can reach 0.0.0.0 can read the metrics',
      line[0].replace('serving', 'cmascope: serving').trimEnd(),
    ]);
    run.child.kill('SIGTERM');
    await run.exit;
  });
});

it('a headless run posts progress snapshots as it goes, when asked to', async () => {
  const got: HostMessage[] = [];
  const handle = startRun(
    {
      file: join(ROOT, workload('io-uring-memlock')),
      seed: 1,
      set: {},
      policies: {},
      progressMs: 0,
    },
    { onMessage: (m) => got.push(m) },
  );
  const outcome = await handle.done;
  expect(outcome.ok).toBe(true);
  const times = got.flatMap((m) => (m.type === 'progress' ? [m.snapshot.simTimeNs] : []));
  // progressMs 0: at t = 0, then after every event
  expect(times[0]).toBe(0);
  expect(times.length).toBe(outcome.ok ? outcome.events + 1 : 0);
  expect(times).toEqual([...times].sort((a, b) => a - b));
  // the last event (6 s), before the clock runs on to the workload's duration (10 s)
  expect(times.at(-1)).toBeGreaterThan(0);
  expect(times.at(-1)).toBeLessThan(outcome.ok ? outcome.final.simTimeNs : 0);
  expect(got.some((m) => m.type === 'snapshot')).toBe(false); // no --interval: output unchanged
});

const hasPrometheus = spawnSync('prometheus', ['--version']).error === undefined;

// CI installs prometheus (.ci/run): there, a missing server is a failure
it.skipIf(!hasPrometheus && !process.env.CI)(
  'Prometheus scrapes a run’s endpoint and stores the final snapshot’s values',
  async () => {
    expect(hasPrometheus, 'prometheus not found: apt-get install prometheus').toBe(true);
    const json = join(dir, 'final.json');
    const run = start([
      'run',
      workload('secure-playback'),
      '--serve',
      '127.0.0.1:0',
      '-f',
      'json',
      '-o',
      json,
    ]);
    const port = Number(
      (
        await until('the serving line', async () =>
          /serving http:\/\/127\.0\.0\.1:(\d+)\/metrics\n/.exec(run.stderr()),
        )
      )[1],
    );
    // the run is over: every scrape from now on sees its final snapshot
    await until('the end of the run', async () =>
      run.stderr().includes('serving its final snapshot') ? true : undefined,
    );
    expect(run.stderr()).toBe(
      `cmascope: serving http://127.0.0.1:${port}/metrics\ncmascope: the run is over; serving its final snapshot until SIGINT or SIGTERM\n`,
    );
    const final = (JSON.parse(readFileSync(json, 'utf8')) as Snapshot[]).at(-1)!;
    const served = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(await served.text()).toBe(exporter('prom').end(final));

    const web = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: cmascope
    static_configs: [{ targets: ['127.0.0.1:${port}'] }]
`,
    );
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${web}`,
        '--log.level=error',
      ],
      { stdio: 'ignore' },
    );
    children.push(prometheus);
    const query = async (q: string) => {
      const r = await fetch(`http://127.0.0.1:${web}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await r.json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      return body.data.result.length > 0 ? body.data.result : undefined;
    };
    const fail = await until('a scrape', () => query('cmascope_vmstat_cma_alloc_fail_total'));
    expect(fail.map((r) => [r.metric, r.value[1]])).toEqual([
      [
        {
          __name__: 'cmascope_vmstat_cma_alloc_fail_total',
          instance: `127.0.0.1:${port}`,
          job: 'cmascope',
        },
        String(final.vmstat.cma_alloc_fail),
      ],
    ]);
    expect(final.vmstat.cma_alloc_fail).toBe(8);
    const [sim] = (await query('cmascope_sim_time_seconds'))!;
    expect(sim!.value[1]).toBe('600');
    const [up] = (await query('up{job="cmascope"}'))!;
    expect(up!.value[1]).toBe('1');

    prometheus.kill('SIGTERM');
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0); // the run was over and had succeeded
  },
  40_000,
);
