// Run the real CLI (bin/cmascope.js, on the dist/ that test/global-setup.ts builds) as a spawned
// process, from the repository root, and collect what it wrote.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'cmascope.js');
/** a fixture's path relative to ROOT, as a user would type it */
export const fixture = (name: string): string => `test/cli/fixtures/${name}`;
export const workload = (name: string): string => `workloads/${name}.ts`;
/** the bundled workloads, as messages list them */
export const BUNDLED =
  'cache-churn, io-uring-memlock, mtk-secure-region, odirect-race, rpi-fs-pages-busy, rpi-vc4-storm, secure-playback, zynqmp-udmabuf';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** with `sampleRss`: the peak resident memory of the process and its descendants, MiB */
  peakRssMb?: number;
}

export interface CliOptions {
  cwd?: string;
  /** destroy stdout after the first chunk, as `| head -1` closing the pipe does */
  closeStdoutEarly?: boolean;
  /** kill the process after this many ms (a test safety net) */
  timeoutMs?: number;
  /** sample the resident memory of the process tree every 10 ms (Linux) */
  sampleRss?: boolean;
}

/**
 * Spawns at once per test file: the machine may have 2 cores, and vitest runs test files in
 * parallel, so an unbounded Promise.all would only make every run slower.
 */
const MAX_CONCURRENT = 3;
let running = 0;
const waiting: (() => void)[] = [];

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/**
 * `cmascope <args>`. Runs get a generous --watchdog unless they set one: the 10 s default is wall
 * time, and a loaded CI machine must not turn a slow start into a "did not yield" failure.
 */
export function cmascope(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const argv =
    ['run', 'check'].includes(args[0]!) && !args.includes('--watchdog')
      ? [...args, '--watchdog', '120s']
      : args;
  return slot(() => spawnCli(argv, opts));
}

function spawnCli(args: readonly string[], opts: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      if (opts.closeStdoutEarly) child.stdout.destroy();
    });
    child.stderr.on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 150_000);
    let peakKb = 0;
    const sampler = opts.sampleRss
      ? setInterval(() => (peakKb = Math.max(peakKb, treeRssKb(child.pid!))), 10)
      : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(sampler);
      resolve({ code, signal, stdout, stderr, ...(sampler ? { peakRssMb: peakKb / 1024 } : {}) });
    });
  });
}

/** The resident memory of a process and its descendants, KiB (0 once it is gone). */
function treeRssKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const children = readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean),
    );
    const own = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return children.reduce((kb, c) => kb + treeRssKb(Number(c)), own);
  } catch {
    return 0;
  }
}

/** stderr without the trailing newline, split into lines */
export const lines = (text: string): string[] => text.replace(/\n$/, '').split('\n');
