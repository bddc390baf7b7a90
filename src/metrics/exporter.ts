// What every headless format implements (exporters.ts picks one by name).
import type { Snapshot } from './snapshot.js';

export interface Exporter {
  begin(): string;
  snapshot(s: Snapshot): string;
  end(final: Snapshot): string;
  /** The run ended without a final snapshot (an error, a signal): what makes the output whole. */
  abort(): string;
}
