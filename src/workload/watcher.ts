// Follow a workload on disk: chokidar watches the directories of the workload and of every module
// it imports, so every editor's way of saving works (write-then-rename, in-place writes, vim's
// backupcopy); saves are debounced, and a save that changes no content does not count.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';

const DEBOUNCE_MS = 100;
const SOURCE = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json']);

function hashOf(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined; // deleted (maybe about to be recreated)
  }
}

export interface WorkloadWatcher {
  /** Also follow these files (the modules the workload imports). */
  track(files: readonly string[]): void;
  close(): Promise<void>;
}

/**
 * Call `onChange(file)` when `target` (a workload file, or a directory of workloads: then the
 * file saved last) or a module it imports changes content.
 */
export function watchWorkload(target: string, onChange: (file: string) => void): WorkloadWatcher {
  const root = resolve(target);
  const isDir = statSync(root).isDirectory();
  const hashes = new Map<string, string | undefined>();
  let current = isDir ? undefined : root;
  const remember = (f: string) => hashes.set(f, hashOf(f));
  if (current) remember(current);
  const watcher: FSWatcher = watch(isDir ? root : dirname(root), {
    ignoreInitial: true,
    depth: isDir ? 5 : 0,
    ignored: (p) => p.includes('node_modules'),
  });
  let timer: NodeJS.Timeout | undefined;
  /** files with events since the last settle() */
  const dirty = new Set<string>();
  // content is hashed once the saves have settled, not at each event: chokidar reports the first
  // change of a file and drops the others within 50 ms, so an in-place save's one event can come
  // between its truncation and its write; hashed then, the empty file would stand for the save
  const settle = () => {
    let changed = false;
    let saved: string | undefined;
    for (const file of dirty) {
      const h = hashOf(file);
      if (h === undefined || h === hashes.get(file)) continue; // deleted, or saved unchanged
      if (!hashes.has(file)) saved = file; // directory mode: the workload saved last runs
      hashes.set(file, h);
      changed = true;
    }
    dirty.clear();
    if (!changed) return;
    if (saved) current = saved;
    if (current) onChange(current);
  };
  watcher.on('all', (_event, path) => {
    const file = resolve(path);
    if (!hashes.has(file) && !(isDir && SOURCE.has(extname(file)))) return;
    dirty.add(file);
    clearTimeout(timer);
    timer = setTimeout(settle, DEBOUNCE_MS);
  });
  return {
    track(files) {
      for (const f of files) if (!hashes.has(f)) remember(f);
      watcher.add([...new Set(files.map((f) => dirname(f)))]);
    },
    close: async () => {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
