// Mistakes in a workload, reported as `file:line:column: message` with a code frame, never as a
// bare stack trace.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { visible } from '../metrics/fmt.js';

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** A workload error as it crosses from the worker: plain data. */
export interface WorkloadErrorInfo {
  /** 'load': found before the simulation started (exit 2); 'run': while running (exit 1) */
  phase: 'load' | 'run';
  message: string;
  location?: SourceLocation;
  /** the offending source line with a caret under the column */
  frame?: string;
}

/** The first stack frame inside `file`, after source maps (`err`: an Error or a `{ stack }`). */
export function locate(err: unknown, file: string): SourceLocation | undefined {
  const raw = typeof err === 'object' && err !== null ? (err as { stack?: unknown }).stack : '';
  const stack = typeof raw === 'string' ? raw : '';
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?$/.exec(line.trim());
    if (!m) continue;
    const path = m[1]!.replace(/^file:\/\//, '');
    if (path === file) return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/**
 * Where a value that `err`'s message quotes ('1 GiBs', 'mtk_svp_typo') is written in `file`: the
 * last quoted value that occurs exactly once in the source, in quotes. For errors about the
 * workload's definition, which cmascope's own code throws (no stack frame in the file).
 */
export function locateQuoted(err: unknown, file: string): SourceLocation | undefined {
  const message = err instanceof Error ? err.message : String(err);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // the example in a hint ("e.g. '256MiB'") is not the user's value
  const values = message.replace(/e\.g\. '[^'\n]*'/g, '');
  const quoted = [...values.matchAll(/'([^'\n]*)'/g)].map((m) => m[1]!).reverse();
  for (const value of quoted) {
    const hits = [`'${value}'`, `"${value}"`, `\`${value}\``].flatMap((q) => {
      const at: number[] = [];
      for (let i = text.indexOf(q); i >= 0; i = text.indexOf(q, i + 1)) at.push(i);
      return at;
    });
    if (hits.length !== 1) continue;
    const before = text.slice(0, hits[0]);
    const line = before.split('\n').length;
    const column = hits[0]! - before.lastIndexOf('\n');
    return { file, line, column };
  }
  return undefined;
}

/** A two-line code frame: the source line and a caret (columns are 1-based). */
export function codeFrame(loc: SourceLocation, source?: string): string | undefined {
  let text = source;
  if (text === undefined) {
    try {
      text = readFileSync(loc.file, 'utf8');
    } catch {
      return undefined;
    }
  }
  const lineText = text.split('\n')[loc.line - 1];
  if (lineText === undefined) return undefined;
  const gutter = String(loc.line);
  const pad = ' '.repeat(gutter.length);
  return `  ${gutter} | ${lineText}\n  ${pad} | ${' '.repeat(Math.max(0, loc.column - 1))}^`;
}

/** Build the error record for `err` thrown by (or on behalf of) the workload in `file`. */
export function workloadError(
  phase: 'load' | 'run',
  err: unknown,
  file: string,
  fallback?: SourceLocation,
): WorkloadErrorInfo {
  const cause =
    err instanceof Error && err.name === 'ProcessError' && err.cause !== undefined
      ? err.cause
      : err;
  const message =
    cause instanceof Error
      ? `${cause.name === 'Error' ? '' : `${cause.name}: `}${cause.message}`
      : String(cause);
  const location = locate(cause, file) ?? fallback;
  // a value the message quotes may hold ESC or NUL: the terminal shows them, never obeys them
  const info: WorkloadErrorInfo = { phase, message: visible(message, true) };
  if (location) {
    info.location = location;
    const frame = codeFrame(location);
    if (frame) info.frame = frame;
  }
  return info;
}

/** The one-line form: `workloads/x.ts:12:5: TypeError: ...` (path relative to the cwd). */
export function errorLine(e: WorkloadErrorInfo): string {
  if (!e.location) return e.message;
  const { file, line, column } = e.location;
  return `${relative(process.cwd(), file)}:${line}:${column}: ${e.message}`;
}
