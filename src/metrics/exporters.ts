// The headless outputs of a run (docs/snapshot.md "Formats").
// The CLI writes begin(), then snapshot(s) for every interval snapshot as the run goes, then
// end(final) with the snapshot taken when the run ended, each to stdout as returned.
//
// Formats that list several snapshots (json, csv) take every interval snapshot and then the final
// one; when the last interval snapshot has the final one's simTimeNs, the final one replaces it, so
// no instant appears twice. ndjson writes every line it is given, final included. openmetrics with
// `intervals` (--interval) lists every snapshot, timestamped, by the same rule, all in end(). prom,
// openmetrics without `intervals` and text show the final snapshot only. Every non-empty string ends with a newline
// (CRLF for csv). A run that ends without a final snapshot gets abort() instead of end(): json
// closes its array, csv and openmetrics with intervals write what they have; the others have
// nothing to add.
import { csvExporter } from './csv.js';
import type { Exporter } from './exporter.js';
import {
  openMetricsSeriesExporter,
  openMetricsText,
  promExporter,
  prometheusText,
} from './exposition.js';
import { jsonExporter, ndjsonExporter } from './json.js';
import { textExporter } from './text.js';

export type Format = 'ndjson' | 'json' | 'csv' | 'prom' | 'openmetrics' | 'text';
export const FORMATS: readonly Format[] = ['ndjson', 'json', 'csv', 'prom', 'openmetrics', 'text'];

/**
 * A fresh exporter (json and csv keep state between calls: use one per run). `intervals`: the run
 * takes interval snapshots (--interval), which openmetrics then lists with timestamps.
 */
export function exporter(format: Format, opts: { intervals?: boolean } = {}): Exporter {
  switch (format) {
    case 'ndjson':
      return ndjsonExporter();
    case 'json':
      return jsonExporter();
    case 'csv':
      return csvExporter();
    case 'prom':
      return promExporter(prometheusText);
    case 'openmetrics':
      return opts.intervals ? openMetricsSeriesExporter() : promExporter(openMetricsText);
    case 'text':
      return textExporter();
    default:
      throw new TypeError(`unknown format '${String(format)}': one of ${FORMATS.join(', ')}`);
  }
}

export { type ReloadInfo, reloadRecord } from './json.js';
