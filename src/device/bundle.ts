// A capture bundle (`cmascope capture`): the files of a device, each under a header line
// `==> PATH <==`, or `==> PATH <== (missing)` when the device had no such file. Sections keep the
// bundle's line numbers, so that every value the import takes can cite its line and every error
// names file:line.
import { UsageError } from '../usage-error.js';

export const BUNDLE_MAGIC = '# cmascope capture v1';

/** The capture's `uname -r` section. */
export const UNAME = 'uname -r';

export interface Section {
  /** the path the header names */
  path: string;
  /** the bundle's line number of the header */
  header: number;
  /** the file's lines, without the header; empty when missing */
  lines: string[];
  missing: boolean;
}

/** A malformed bundle: one line, `file:line: message`; bad input, so exit 2. */
export class BundleError extends UsageError {
  override name = 'BundleError';
}

export class Bundle {
  private readonly byPath = new Map<string, Section>();

  constructor(
    /** the bundle's name for messages */
    readonly file: string,
    readonly sections: readonly Section[],
  ) {
    for (const s of sections) this.byPath.set(s.path, s);
  }

  get(path: string): Section | undefined {
    const s = this.byPath.get(path);
    return s && !s.missing ? s : undefined;
  }

  /** The section of `path`, or a BundleError naming what the import needs it for. */
  need(path: string, why: string): Section {
    const s = this.get(path);
    if (s) return s;
    const had = this.byPath.get(path);
    throw new BundleError(
      had
        ? `${this.file}:${had.header}: ${path} is missing on the device: ${why}`
        : `${this.file}: no ${path} in the capture: ${why}`,
    );
  }

  /** Sections whose path starts with `prefix`, in bundle order. */
  under(prefix: string): Section[] {
    return this.sections.filter((s) => !s.missing && s.path.startsWith(prefix));
  }

  /** `file:line` of line `i` of a section. */
  where(s: Section, i: number): string {
    return `${this.file}:${s.header + 1 + i}`;
  }

  /** A BundleError at line `i` of section `s`. */
  error(s: Section, i: number, msg: string): BundleError {
    return new BundleError(`${this.where(s, i)}: ${s.path}: ${msg}`);
  }
}

const HEADER = /^==> (.+) <==( \(missing\))?$/;

/** Split a bundle's text into its sections. */
export function parseBundle(text: string, file: string): Bundle {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines[0]?.replace(/\r$/, '') !== BUNDLE_MAGIC) {
    throw new BundleError(
      `${file}:1: not a capture bundle: the first line must be '${BUNDLE_MAGIC}' (make one with: cmascope capture | adb shell sh -s > ${file})`,
    );
  }
  const sections: Section[] = [];
  let cur: Section | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const h = HEADER.exec(line);
    if (h) {
      cur = { path: h[1]!, header: i + 1, lines: [], missing: h[2] !== undefined };
      sections.push(cur);
      continue;
    }
    if (!cur)
      throw new BundleError(`${file}:${i + 1}: a line before the first '==> PATH <==' header`);
    if (cur.missing)
      throw new BundleError(
        `${file}:${i + 1}: a line under '${cur.path}', which is marked missing`,
      );
    cur.lines.push(line);
  }
  return new Bundle(file, sections);
}
