// Independent checks of the text formats' grammar, for the tests: the OpenMetrics 1.0.0 ABNF
// (what promtool cannot check) and the Prometheus 0.0.4 rules (what promtool checks too). Returns
// the problems found, one string each; [] when the text is valid.
import { spawnSync } from 'node:child_process';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?Inf|NaN)$/;
/** name{label="escaped",...} value */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
/** OpenMetrics: name{label="escaped",...} value [timestamp] */
const OM_SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (\S+))?$/;
/** an OpenMetrics timestamp: a realnumber, in seconds */
const TIMESTAMP = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const OM_TYPES = [
  'counter',
  'gauge',
  'info',
  'stateset',
  'unknown',
  'histogram',
  'gaugehistogram',
  'summary',
];
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;

interface Family {
  type: string;
  help?: string;
  unit?: string;
  samples: number;
  labelSets: Set<string>;
  /** the label set of the last sample and its timestamp (NaN: none) */
  last?: { key: string; ts: number };
}

function parseLabels(text: string, problems: string[], where: string): string[] | undefined {
  const names: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    const m = LABEL.exec(rest);
    if (!m) {
      problems.push(`${where}: bad label syntax at '${rest}'`);
      return undefined;
    }
    if (!LABEL_NAME.test(m[1]!) || m[1]!.startsWith('__'))
      problems.push(`${where}: bad label name ${m[1]}`);
    if (names.includes(m[1]!)) problems.push(`${where}: label ${m[1]} twice`);
    names.push(`${m[1]}=${m[2]}`);
    rest = rest.slice(m[0].length);
    if (m[3] === '' && rest.length > 0) problems.push(`${where}: text after the last label`);
  }
  return names;
}

/**
 * OpenMetrics 1.0.0 text, the parts this project emits (counter, gauge; no exemplars). A Metric
 * (label set) appears once, or, with timestamps, as consecutive MetricPoints whose timestamps
 * increase ("If more than one MetricPoint is exposed for a Metric, then its MetricPoints MUST have
 * monotonically increasing timestamps"; the Python parser also rejects interleaved label sets).
 */
export function openMetricsProblems(text: string): string[] {
  const problems: string[] = [];
  if (!text.endsWith('# EOF\n') && !text.endsWith('# EOF'))
    problems.push('does not end with # EOF');
  const lines = text.replace(/\n$/, '').split('\n');
  const fams = new Map<string, Family>();
  let current: string | undefined;
  const done = new Set<string>();
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}`;
    if (line === '# EOF') {
      if (i !== lines.length - 1) problems.push(`${where}: # EOF before the end`);
      continue;
    }
    if (line === '') {
      problems.push(`${where}: blank line`);
      continue;
    }
    const meta = /^# (HELP|TYPE|UNIT) (\S+)(?: (.*))?$/.exec(line);
    if (meta) {
      const [, kind, name, rest = ''] = meta;
      if (!NAME.test(name!)) problems.push(`${where}: bad name ${name}`);
      if (name !== current) {
        if (done.has(name!) || fams.has(name!))
          problems.push(`${where}: family ${name} interleaved or repeated`);
        if (current) done.add(current);
        current = name;
      }
      const f = fams.get(name!) ?? { type: 'unknown', samples: 0, labelSets: new Set() };
      fams.set(name!, f);
      if (f.samples > 0) problems.push(`${where}: ${kind} after samples of ${name}`);
      if (kind === 'TYPE') {
        if (!OM_TYPES.includes(rest)) problems.push(`${where}: bad type ${rest}`);
        f.type = rest;
      } else if (kind === 'UNIT') {
        f.unit = rest;
        if (!name!.endsWith(`_${rest}`))
          problems.push(`${where}: unit ${rest} is not a suffix of ${name}`);
      } else {
        if (f.help !== undefined) problems.push(`${where}: second HELP for ${name}`);
        f.help = rest;
        if (!/^(?:[^"\\\n]|\\[\\"n])*$/.test(rest)) problems.push(`${where}: bad escape in HELP`);
      }
      continue;
    }
    if (line.startsWith('#')) {
      problems.push(`${where}: a comment (not allowed in OpenMetrics)`);
      continue;
    }
    const m = OM_SAMPLE.exec(line);
    if (!m) {
      problems.push(`${where}: not a sample: ${line}`);
      continue;
    }
    const [, name, labels = '', value, timestamp] = m;
    if (timestamp !== undefined && !TIMESTAMP.test(timestamp))
      problems.push(`${where}: bad timestamp ${timestamp}`);
    const f = current ? fams.get(current) : undefined;
    const expected = f?.type === 'counter' ? `${current}_total` : current;
    if (!f || name !== expected) {
      problems.push(`${where}: sample ${name} outside its family (current ${current})`);
      continue;
    }
    if (f.type === 'counter' && current!.endsWith('_total'))
      problems.push(`${where}: counter family ${current} ends in _total`);
    if (!VALUE.test(value!)) problems.push(`${where}: bad value ${value}`);
    if (f.type === 'counter' && (value!.startsWith('-') || value === 'NaN'))
      problems.push(`${where}: negative counter`);
    const set = parseLabels(labels, problems, where);
    if (set) {
      const key = set.sort().join(',');
      const ts = timestamp === undefined ? Number.NaN : Number(timestamp);
      if (f.last?.key === key) {
        if (Number.isNaN(ts) || Number.isNaN(f.last.ts))
          problems.push(`${where}: a second MetricPoint of ${key} without timestamps`);
        else if (ts <= f.last.ts) problems.push(`${where}: timestamp ${timestamp} not increasing`);
      } else if (f.labelSets.has(key)) {
        problems.push(`${where}: label set ${key} of ${current} repeated or interleaved`);
      }
      f.labelSets.add(key);
      f.last = { key, ts };
    }
    f.samples++;
  }
  return problems;
}

/** Prometheus text format 0.0.4, as promtool's parser reads it, plus the lint rules it applies. */
export function prometheusProblems(text: string): string[] {
  const problems: string[] = [];
  if (!text.endsWith('\n')) problems.push('does not end with a newline');
  const typed = new Map<string, { type: string; help: boolean; samples: number }>();
  for (const [i, line] of text.replace(/\n$/, '').split('\n').entries()) {
    const where = `line ${i + 1}`;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest = ''] = meta;
      const f = typed.get(name!) ?? { type: 'untyped', help: false, samples: 0 };
      typed.set(name!, f);
      if (kind === 'HELP') {
        if (f.help) problems.push(`${where}: second HELP for ${name}`);
        f.help = true;
        if (/\\[^\\n]/.test(rest.replaceAll('\\\\', '')))
          problems.push(`${where}: bad escape in HELP`);
      } else {
        if (f.samples > 0) problems.push(`${where}: TYPE after samples`);
        f.type = rest;
      }
      continue;
    }
    if (line.startsWith('#') || line === '') continue;
    const m = SAMPLE.exec(line);
    if (!m) {
      problems.push(`${where}: not a sample: ${line}`);
      continue;
    }
    const f = typed.get(m[1]!);
    if (!f) {
      problems.push(`${where}: ${m[1]} has no HELP or TYPE`);
      continue;
    }
    if (!VALUE.test(m[3]!)) problems.push(`${where}: bad value ${m[3]}`);
    if ((f.type === 'counter') !== m[1]!.endsWith('_total'))
      problems.push(`${where}: _total and counter disagree for ${m[1]}`);
    parseLabels(m[2] ?? '', problems, where);
    f.samples++;
  }
  for (const [name, f] of typed) if (!f.help) problems.push(`${name} has no HELP`);
  return problems;
}

export interface Promtool {
  status: number | null;
  output: string;
}

/** `promtool check metrics` with `text` on stdin; undefined when promtool is not installed. */
export function promtoolCheck(text: string): Promtool | undefined {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) return undefined;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export const hasPromtool = (): boolean => spawnSync('promtool', ['--version']).error === undefined;

const PY_OM = `
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(sys.stdin.read()))
print(len(fams), sum(len(f.samples) for f in fams))
`;

/**
 * Parse with the Python client's strict OpenMetrics parser (Debian: python3-prometheus-client), when
 * some python3 has it; undefined otherwise. The output is 'families samples' or the error.
 */
export function pythonOpenMetricsCheck(text: string): Promtool | undefined {
  python ??=
    ['python3', '/usr/bin/python3'].find((py) => {
      const probe = spawnSync(py, ['-c', 'import prometheus_client.openmetrics.parser']);
      return !probe.error && probe.status === 0;
    }) ?? '';
  if (!python) return undefined;
  const r = spawnSync(python, ['-c', PY_OM], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** the python3 that has prometheus_client; '' when none has */
let python: string | undefined;
