// Where a headless run's data goes: stdout, or `-o FILE`. A file the user names is never truncated
// or overwritten before the run has produced its replacement (issue #13): the data goes to a
// temporary file beside it, which is renamed over it only when the run succeeded; a run that fails
// or is interrupted leaves FILE as it was. A FILE that is not a regular file (/dev/null, a FIFO,
// /dev/stdout) is written in place: there is nothing to lose and nothing to rename over.
import {
  chmodSync,
  closeSync,
  openSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { UsageError } from '../usage-error.js';

export interface Output {
  write(text: string | Uint8Array): void;
  /** The run produced its data: FILE becomes it. */
  commit(): void;
  /** The run failed or was interrupted: FILE stays as it was. */
  discard(): void;
}

/**
 * 'ENOENT: no such file or directory' of a failed system call, without the path it was given:
 * that path is the temporary file, which the user never named.
 */
export function systemError(e: unknown): string {
  const errno = (e as NodeJS.ErrnoException).errno;
  const known = errno === undefined ? undefined : getSystemErrorMap().get(errno);
  return known ? `${known[0]}: ${known[1]}` : (e as Error).message;
}

/** Writes to stdout fail through its 'error' event (main.ts); to a file, they throw. */
export const stdoutOutput: Output = {
  write: (text) => void process.stdout.write(text),
  commit: () => {},
  discard: () => {},
};

/** What `-o path` (or `flag` path) names: the real file behind links, if it exists. */
export function target(
  path: string,
  flag = '-o',
): { file: string; regular: boolean; mode?: number } {
  const abs = resolve(path);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(abs);
  } catch {
    return { file: abs, regular: true }; // a new file
  }
  if (st.isDirectory()) throw new UsageError(`${flag} ${path} is a directory`);
  return { file: realpathSync(abs), regular: st.isFile(), mode: st.mode & 0o7777 };
}

/** True when `path` (as -o would write it) is one of `files` (absolute paths). */
export function namesOneOf(path: string, files: readonly string[], flag = '-o'): boolean {
  const { file } = target(path, flag);
  return files.some((f) => {
    try {
      return realpathSync(f) === file;
    } catch {
      return resolve(f) === file;
    }
  });
}

/** `-o path` (or `flag` path): opened now, so that a path that cannot be written is a usage error (exit 2). */
export function fileOutput(path: string, flag = '-o'): Output {
  const t = target(path, flag);
  const temp = t.regular ? join(dirname(t.file), `.${basename(t.file)}.${process.pid}.tmp`) : '';
  let fd: number;
  try {
    fd = openSync(temp || t.file, temp ? 'wx' : 'w', t.mode ?? 0o666);
  } catch (e) {
    throw new UsageError(`cannot write ${flag} ${path}: ${systemError(e)}`);
  }
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  const fail = (e: unknown): never => {
    close();
    if (temp) unlinkSync(temp);
    throw new Error(
      `writing ${path}: ${(e as Error).message}${temp ? `; ${path} left as it was` : ''}`,
    );
  };
  return {
    write(text) {
      try {
        if (typeof text === 'string') writeSync(fd, text);
        else writeSync(fd, text);
      } catch (e) {
        fail(e);
      }
    },
    commit() {
      try {
        close();
        if (!temp) return;
        if (t.mode !== undefined) chmodSync(temp, t.mode); // the umask may have narrowed it
        renameSync(temp, t.file);
      } catch (e) {
        fail(e);
      }
    },
    discard() {
      close();
      if (temp) {
        try {
          unlinkSync(temp);
        } catch {
          // already gone
        }
      }
    },
  };
}
