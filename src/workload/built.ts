// Where the package's build is: the worker and the run's process execute dist/, and workloads
// import the built API, also when cmascope itself runs from its TypeScript source (tests) or
// inside a bundle (benches).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** `dist/<path>` of the package this module belongs to. */
export function builtPath(path: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, 'dist', path);
}

/** `dist/workload/<name>`: next to the calling module when it runs from dist/, else the build. */
export function builtWorkloadModule(name: string, caller: string): URL {
  const local = new URL(`./${name}`, caller);
  return existsSync(local) ? local : pathToFileURL(builtPath(join('workload', name)));
}
