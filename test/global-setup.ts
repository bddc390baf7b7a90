// vitest globalSetup: build dist/ once before any test runs, for the tests that spawn the real CLI
// (test/cli). `npx tsc -p tsconfig.build.json` with the project's own TypeScript. Type errors do
// not stop the tests (`npm run typecheck` reports them; tsc still emits): only a build that
// produced no CLI does.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export default function setup(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.error) throw new Error(`global setup: could not run tsc: ${r.error.message}`);
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  if (r.status !== 0) {
    const diagnostics = `${r.stdout}${r.stderr}`.trim();
    if (!existsSync(main)) throw new Error(`global setup: the build failed:\n${diagnostics}`);
    process.stderr.write(
      `global setup: tsc reported errors (dist/ was emitted anyway):\n${diagnostics}\n`,
    );
  }
  if (process.env.CMASCOPE_SETUP_VERBOSE)
    process.stderr.write(`global setup: built dist/ in ${Math.round(performance.now() - t0)} ms\n`);
}
