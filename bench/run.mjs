// `npm run bench [-- --json]`: bundle the TypeScript benches with esbuild, then run them.

import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
// the benches that run the real binary need dist/
execFileSync('npx', ['tsc', '-p', join(here, '..', 'tsconfig.build.json')], { stdio: 'inherit' });
await build({
  entryPoints: [join(here, 'main.ts'), join(here, 'rss_child.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: join(here, '.out'),
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
// React's production build, as the TUI runs it (src/cli/tui.ts): bench/tui.ts renders frames
process.env.NODE_ENV ??= 'production';
await import('./.out/main.js');
