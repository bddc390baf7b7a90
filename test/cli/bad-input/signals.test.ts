// What the catalogue's pipes cannot show (issue #13 items 1, 8, 9): a run interrupted by SIGINT or
// SIGTERM closes its JSON and leaves a -o file as it was; stdout on a full disk is one line, exit 1.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../cli.js';
import { workloadWith } from './catalogue.js';

/** Runs for 100 simulated hours, one event a millisecond: long enough to be interrupted. */
const LONG = workloadWith("    for (;;) yield sys.sleep('1ms');").replace(
  'params: { n: 1 },',
  "params: { n: 1 },\n  duration: '100h',",
);

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cmascope-signals-'));
  await writeFile(join(dir, 'long.ts'), LONG);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `cmascope args` in `dir`; `signal` is sent once a snapshot is out (or after 3 s with -o). */
function interrupt(args: string[], signal: NodeJS.Signals): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const send = () => {
      if (!sent) child.kill(signal);
      sent = true;
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (stdout.includes('"simTimeNs"')) send(); // a snapshot is out
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(send, 3000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.concurrent('interrupted runs', () => {
  it('SIGINT with -f json on stdout: a valid JSON array of the snapshots so far, exit 130', async () => {
    const r = await interrupt(['run', 'long.ts', '-f', 'json', '--interval', '1s'], 'SIGINT');
    expect(r.stderr).toBe('cmascope: interrupted by SIGINT\n');
    expect(r.code).toBe(130);
    const snaps = JSON.parse(r.stdout) as { simTimeNs: number }[];
    expect(snaps.length).toBeGreaterThan(0);
    expect(snaps.map((s) => s.simTimeNs)).toEqual(snaps.map((_, i) => (i + 1) * 1e9));
  });

  it('SIGTERM with -o: the file is left as it was, no temporary file stays, exit 143', async () => {
    await writeFile(join(dir, 'prev.json'), 'keep\n');
    const r = await interrupt(['run', 'long.ts', '-f', 'json', '-o', 'prev.json'], 'SIGTERM');
    expect(r.stderr).toBe('cmascope: interrupted by SIGTERM; prev.json left as it was\n');
    expect(r.code).toBe(143);
    expect(readFileSync(join(dir, 'prev.json'), 'utf8')).toBe('keep\n');
    expect(readdirSync(dir).sort()).toEqual(['long.ts', 'prev.json']);
  });
});

it('stdout on a full disk: one line naming the error, exit 1, no stack trace', async () => {
  const full = openSync('/dev/full', 'w');
  const r = await new Promise<Ended>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', 'long.ts', '-f', 'json', '--until', '1s'], {
      cwd: dir,
      stdio: ['ignore', full, 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout: '', stderr }));
  });
  closeSync(full);
  expect(r.stderr).toBe(
    'cmascope: cannot write to stdout: ENOSPC: no space left on device, write\n',
  );
  expect(r.code).toBe(1);
});
