// Bundling a workload with esbuild, on the main thread: the esbuild service stays warm between
// runs and reloads while a fresh worker boots in parallel.
import { createHash } from 'node:crypto';
import { readFileSync, type Stats, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Message } from 'esbuild';
import { builtPath } from './built.js';
import { DETERMINISM_DEFINES } from './determinism.js';
import { codeFrame, type WorkloadErrorInfo, workloadError } from './errors.js';

/**
 * The package's built public API, which `import ... from 'cmascope'` resolves to: the worker
 * runs the build, so the workload must share its modules (also when this module runs from its
 * TypeScript source, in tests).
 */
const INDEX = builtPath('index.js');

export interface Bundle {
  code: string;
  /** the files it was built from (absolute paths), for watch mode */
  inputs: string[];
  /**
   * What the workload is, for compare records: a hash of its files' paths (relative to the entry
   * file's directory) and contents. Not of `code`, which names absolute paths: the same workload
   * in another checkout or directory has the same hash, so shards of any machine merge.
   */
  hash: string;
}

function contentHash(entry: string, inputs: readonly string[]): string {
  const h = createHash('sha256');
  const dir = dirname(entry);
  for (const f of [...inputs].sort())
    h.update(`${relative(dir, f)}\0`)
      .update(readFileSync(f))
      .update('\0');
  return h.digest('hex').slice(0, 16);
}

/** esbuild: bundle the workload and what it imports; `cmascope` resolves to this package. */
/** Bundles by entry file, with the size and mtime of every input when it was built. */
const cache = new Map<string, { bundle: Bundle; stamps: string[] }>();
const stamp = (f: string): string => {
  try {
    const st = statSync(f);
    return `${f}:${st.size}:${st.mtimeMs}`;
  } catch {
    return `${f}:gone`;
  }
};

/** The largest file a workload may be built from (a generated table is fine, /dev/zero is not). */
const MAX_INPUT_BYTES = 16 * 2 ** 20;

/** What a path is, when it is not a regular file. */
function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'a socket';
}

/** Why esbuild must not read `path` (a workload input), or undefined if it may. */
function refuseInput(path: string): string | undefined {
  const rel = relative(process.cwd(), path);
  const name = rel === '' || rel.startsWith('..') ? path : rel;
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return undefined; // esbuild says what is missing
  if (!st.isFile()) return `${name} is not a regular file but ${kind(st)}`;
  if (st.size > MAX_INPUT_BYTES)
    return `${name} has ${st.size} bytes: a workload file may have at most ${MAX_INPUT_BYTES} (16 MiB)`;
  return undefined;
}

/** A workload input that is not a regular file, or is too large (exit 2). */
class InputError extends Error {}

/** The bundle of `file`, rebuilt only when one of its inputs changed (compare runs it often). */
export async function bundle(file: string): Promise<Bundle> {
  const refused = refuseInput(file);
  if (refused) throw new InputError(refused);
  const hit = cache.get(file);
  if (hit?.stamps.every((s, i) => s === stamp(hit.bundle.inputs[i]!))) return hit.bundle;
  const b = await buildBundle(file);
  cache.set(file, { bundle: b, stamps: b.inputs.map(stamp) });
  return b;
}

async function buildBundle(file: string): Promise<Bundle> {
  const out = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    sourcesContent: false,
    // the bundle is imported from a temporary directory: absolute sources, so that stack traces
    // name the workload's own file (errors.ts locate())
    sourceRoot: `${pathToFileURL(dirname(file)).href}/`,
    logLevel: 'silent',
    metafile: true,
    outdir: dirname(file),
    define: DETERMINISM_DEFINES, // wall clock and Math.random throw at the call (determinism.ts)
    plugins: [
      {
        name: 'cmascope',
        setup(b) {
          b.onResolve({ filter: /^cmascope$/ }, () => ({
            path: pathToFileURL(INDEX).href,
            external: true,
          }));
          // every input is checked before esbuild reads it: a FIFO would block it, /dev/zero
          // would fill the memory
          b.onLoad({ filter: /.*/ }, (args) => {
            const refused = refuseInput(args.path);
            return refused ? { errors: [{ text: refused }] } : undefined;
          });
        },
      },
    ],
  });
  const inputs = Object.keys(out.metafile.inputs).map((p) => resolve(process.cwd(), p));
  return { code: out.outputFiles[0]!.text, inputs, hash: contentHash(file, inputs) };
}

export function bundleError(e: unknown, file: string): WorkloadErrorInfo {
  if (e instanceof InputError) return { phase: 'load', message: e.message };
  const first = (e as { errors?: Message[] }).errors?.[0];
  if (!first?.location) return workloadError('load', e, file);
  const loc = first.location; // line 1-based, column 0-based
  const location = {
    file: resolve(process.cwd(), loc.file),
    line: loc.line,
    column: loc.column + 1,
  };
  const error: WorkloadErrorInfo = {
    phase: 'load',
    message: first.text,
    location,
  };
  const frame = codeFrame(location, `${'\n'.repeat(loc.line - 1)}${loc.lineText}`);
  if (frame) error.frame = frame;
  return error;
}
