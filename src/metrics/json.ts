// NDJSON (one snapshot per line, for streams and recordings) and JSON (one pretty array), the
// snapshot objects as they are (docs/snapshot.md "Formats").
import type { Exporter } from './exporter.js';
import { SCHEMA, type Snapshot } from './snapshot.js';

/**
 * One compact line per snapshot. The key order is the snapshot's own, which snapshot() builds in
 * the contract's order; lines carry no `event` key, which is how they differ from event records.
 */
export function ndjsonExporter(): Exporter {
  return {
    begin: () => '',
    snapshot: (s) => `${JSON.stringify(s)}\n`,
    end: (final) => `${JSON.stringify(final)}\n`,
    abort: () => '',
  };
}

export interface ReloadInfo {
  /** the workload file that changed */
  file: string;
  /** its content hash, as the watcher computed it */
  hash: string;
  /** simulated time of the new run, when it has started */
  simTimeNs?: number;
}

/** The NDJSON event line watch mode writes when it reloads the workload. */
export function reloadRecord(info: ReloadInfo): string {
  const rec: Record<string, unknown> = {
    schema: SCHEMA,
    event: 'reload',
    file: info.file,
    hash: info.hash,
  };
  if (info.simTimeNs !== undefined) rec.simTimeNs = info.simTimeNs;
  return `${JSON.stringify(rec)}\n`;
}

// split on '\n' only: JSON text has no raw newline inside strings, but may hold U+2028, which /^/m
// would also take for a line start
const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');

/**
 * A JSON array, 2-space indented, of every interval snapshot and then the final one; when the last
 * interval snapshot has the final one's simTimeNs, the final one replaces it. Streams one snapshot
 * behind (to apply that rule); the bytes equal JSON.stringify(array, null, 2) plus a newline.
 */
export function jsonExporter(): Exporter {
  let held: Snapshot | undefined;
  let first = true;
  const element = (s: Snapshot) => {
    const sep = first ? '' : ',';
    first = false;
    return `${sep}\n${indent(JSON.stringify(s, null, 2))}`;
  };
  return {
    begin() {
      held = undefined;
      first = true;
      return '[';
    },
    snapshot(s) {
      const out = held ? element(held) : '';
      held = s;
      return out;
    },
    end(final) {
      const out = held && held.simTimeNs !== final.simTimeNs ? element(held) : '';
      held = undefined;
      return `${out}${element(final)}\n]\n`;
    },
    abort() {
      const out = held ? element(held) : '';
      held = undefined;
      return `${out}\n]\n`;
    },
  };
}
