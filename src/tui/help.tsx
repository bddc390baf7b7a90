// The help screen (?): key bindings, what the glyphs mean, what each process column shows, and
// the policy presets p cycles through.
import { memo } from 'react';
import { CELL_LEGEND, cellGlyph, cellTone } from './charts.js';
import { BINDINGS } from './keys.js';
import { Panel } from './lines.js';
import { PRESETS } from './presets.js';
import { COLUMNS } from './process-table.js';
import { fitText, type Line, seg, wrap } from './text.js';
import { type Theme, useTheme } from './theme.js';

/** Entries `TITLE what it means`, as many to a line as fit in `width`. */
function flow(entries: [string, string][], width: number): Line[] {
  const out: Line[] = [];
  let line: Line = [];
  let used = 0;
  for (const [title, what] of entries) {
    const w = 2 + title.length + 1 + what.length + 1;
    if (used > 0 && used + w > width) {
      out.push(line);
      [line, used] = [[], 0];
    }
    line.push(seg(`  ${title}`, 'accent'), seg(` ${what} `));
    used += w;
  }
  if (used > 0) out.push(line);
  return out;
}

export function helpLines(
  theme: Theme,
  preset: number,
  width: number,
  about: { workload: string; description: string },
): Line[] {
  const g = theme.glyphs;
  const out: Line[] = [];
  if (about.description)
    out.push(...wrap([seg(`${about.workload}  `, 'title'), seg(about.description)], width, 2));
  out.push([seg('Keys', 'title')]);
  for (const { help } of BINDINGS) {
    if (!help) continue;
    const [keys, what] = help;
    out.push([
      seg(`  ${fitText(theme.ascii ? keys.replace('↑ ↓', 'up down') : keys, 22)}`, 'accent'),
      seg(what),
    ]);
  }
  out.push([
    seg('CMA map', 'title'),
    seg('  one glyph per cell; the worst page state in the cell wins', 'muted'),
  ]);
  const legend: Line = [seg('  ')];
  for (const l of CELL_LEGEND) {
    legend.push(seg(cellGlyph(l.cell, g), cellTone(l.cell)), seg(` ${l.label}   `));
  }
  legend.push(seg(g.blocking, 'blocking'), seg(' blocking page (failure details)'));
  out.push(legend);
  out.push(
    ...flow(
      [
        [
          'used, alloc ok/fail',
          'pages handed out now; pages cma_alloc gave and refused since boot (sysfs alloc_pages_*)',
        ],
        [
          'bitmap free',
          "ranges the area's bitmap has not handed out (debugfs maxchunk), pages@offset",
        ],
        [
          'movable run',
          'the longest run with no page pinned, isolated or handed out: what cma_alloc can take now',
        ],
      ],
      width,
    ),
  );
  out.push([seg('Processes', 'title'), seg('  the columns, as many as fit:', 'muted')]);
  out.push(
    ...flow(
      COLUMNS.flatMap((c) => (c.legend ? [[c.title, c.legend]] : [])),
      width,
    ),
  );
  out.push([
    seg('Presets', 'title'),
    seg('  p restarts at t = 0 with the same seed under the next one:', 'muted'),
  ]);
  PRESETS.forEach((p, i) => {
    const cur = i === preset;
    out.push([
      seg(`  ${cur ? g.focus : ' '} ${i + 1}. ${p.name}`, cur ? 'accent' : 'plain'),
      seg(`  teePin=${p.policies.teePin} teeAccounting=${p.policies.teeAccounting}`, 'muted'),
    ]);
  });
  const scroll = theme.ascii ? 'j k up down PgUp PgDn' : 'j k ↑ ↓ PgUp PgDn';
  out.push([seg(`${scroll} scroll this help; any other key closes it; q quits.`, 'muted')]);
  return out;
}

export const Help = memo(function Help(p: {
  preset: number;
  /** lines scrolled down */
  offset: number;
  workload: string;
  description: string;
  width: number;
  height: number;
}) {
  const theme = useTheme();
  const lines = helpLines(theme, p.preset, p.width - 4, p);
  const room = Math.max(1, p.height - 2);
  const offset = Math.min(p.offset, Math.max(0, lines.length - room));
  const below = lines.length - offset - room;
  const [up, down] = theme.ascii ? ['^', 'v'] : ['↑', '↓'];
  const more = [offset > 0 ? `${offset} more ${up}` : '', below > 0 ? `${below} more ${down}` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <Panel
      frame={{
        title: [seg('Help', 'title')],
        right: more ? [seg(`${more}  j/k scroll`, 'warn')] : [],
        width: p.width,
        height: p.height,
        focused: true,
      }}
      lines={lines.slice(offset)}
    />
  );
});
