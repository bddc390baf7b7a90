// The pure renderers: map glyphs per state (unicode and ASCII), resampling, charts, gauge, and
// the text helpers every panel relies on to never overflow.
import { describe, expect, test } from 'vitest';
import { Cell } from '../../src/metrics/page-state.js';
import { areaChart, gauge, mapLines, resample, sparkline } from '../../src/tui/charts.js';
import { bytes, speedLabel } from '../../src/tui/format.js';
import { fitLine, lineWidth, plain, seg } from '../../src/tui/text.js';
import { colorEnabled, makeTheme, type Tone } from '../../src/tui/theme.js';

const uni = makeTheme({ color: true, ascii: false }).glyphs;
const asc = makeTheme({ color: true, ascii: true }).glyphs;
const ALL = [
  Cell.FREE,
  Cell.CMA_CLIENT,
  Cell.MOVABLE,
  Cell.ISOLATED,
  Cell.PINNED_SHORT,
  Cell.PINNED_LONG,
];

describe('CMA map', () => {
  test('a distinct glyph and tone per state', () => {
    const m = mapLines(ALL, 6, 1, uni);
    expect(m.lines.map(plain)).toEqual(['·▒░isL']);
    expect(m.lines[0]!.map((s) => s.tone)).toEqual<Tone[]>([
      'free',
      'cma_client',
      'movable',
      'isolated',
      'pinned_short',
      'pinned_long',
    ]);
    expect(mapLines(ALL, 6, 1, asc).lines.map(plain)).toEqual(['.#+isL']);
  });

  test('rows of the given width; runs of one state are one segment', () => {
    const m = mapLines([0, 0, 0, 4, 4, 4, 5, 5], 4, 2, uni);
    expect(m.lines.map(plain)).toEqual(['···s', 'ssLL']);
    expect(m.lines[0]).toHaveLength(2);
  });

  test('resampling keeps the worst state of the cells it merges, and the marks', () => {
    expect(resample([0, 0, 5, 0, 1, 1], 3).cells).toEqual([0, 5, 1]);
    expect(resample([0, 1, 2], 10).cells).toEqual([0, 1, 2]);
    const r = resample([0, 0, 0, 0, 0, 0, 0, 0], 4, new Set([5]));
    expect([...r.marked]).toEqual([2]);
    expect(plain(mapLines([0, 0, 0, 0, 0, 0, 0, 0], 4, 1, uni, new Set([5])).lines[0]!)).toBe(
      '··X·',
    );
  });
});

describe('charts', () => {
  test('braille: two values per character, four levels per row', () => {
    expect(areaChart([0, 8], 1, 1, { max: 8, style: 'braille' })).toEqual(['⢸']);
    expect(areaChart([8, 8], 1, 2, { max: 8, style: 'braille' })).toEqual(['⣿', '⣿']);
    expect(areaChart([4, 4], 1, 2, { max: 8, style: 'braille' })).toEqual([' ', '⣿']);
    // newest at the right; empty on the left until there is history
    expect(areaChart([8], 3, 1, { max: 8, style: 'braille' })).toEqual(['  ⢸']);
  });

  test('block and ASCII fallbacks', () => {
    expect(sparkline([0, 4, 8], 3, { max: 8, style: 'block' })).toBe(' ▄█');
    expect(sparkline([0, 1.5, 3], 3, { max: 3, style: 'ascii' })).toBe(' :#');
    // above 0 always shows
    expect(sparkline([0.01], 1, { max: 100, style: 'block' })).toBe('▁');
  });

  test('memlock gauge', () => {
    expect(gauge(2, 8, 8, uni)).toBe('██······');
    expect(gauge(9, 8, 8, uni)).toBe('████████');
    expect(gauge(1, 1e9, 8, uni)).toBe('█·······');
    expect(gauge(0, 8, 4, asc)).toBe('....');
    expect(gauge(5, Infinity, 4, asc)).toBe('....');
  });
});

describe('text', () => {
  test('fit cuts with an ellipsis and pads to the exact width', () => {
    const line = [seg('abc', 'title'), seg('defgh')];
    expect(plain(fitLine(line, 5))).toBe('abcd…');
    expect(plain(fitLine(line, 10))).toBe('abcdefgh  ');
    expect(lineWidth(fitLine(line, 3, '~'))).toBe(3);
    expect(fitLine(line, 0)).toEqual([]);
  });

  test('sizes and speeds without locale', () => {
    expect([0, 512, 8 << 20, 64 << 20, 1.5 * 2 ** 30, 1023.99 * 1024].map(bytes)).toEqual([
      '0',
      '512B',
      '8.0M',
      '64M',
      '1.5G',
      '1.0M',
    ]);
    expect([0.25, 1, 1000, Infinity].map((s) => speedLabel(s))).toEqual([
      '0.25×',
      '1×',
      '1000×',
      'max',
    ]);
  });
});

describe('theme', () => {
  test('NO_COLOR (not empty), --no-color and FORCE_COLOR=0 turn colour off', () => {
    expect(colorEnabled({}, false)).toBe(true);
    expect(colorEnabled({ NO_COLOR: '1' }, false)).toBe(false);
    expect(colorEnabled({ NO_COLOR: '' }, false)).toBe(true);
    expect(colorEnabled({}, true)).toBe(false);
    expect(colorEnabled({ FORCE_COLOR: '0' }, false)).toBe(false);
  });

  test('monochrome sets no colour on any tone; glyphs still tell states apart', () => {
    const mono = makeTheme({ color: false, ascii: false });
    const tones: Tone[] = [
      'free',
      'cma_client',
      'movable',
      'isolated',
      'pinned_short',
      'pinned_long',
      'pcp',
      'crit',
      'warn',
      'ok',
    ];
    for (const t of tones) expect(mono.style(t).color).toBeUndefined();
    expect(new Set(mono.glyphs.cells).size).toBe(7);
    expect(new Set(asc.cells).size).toBe(7);
  });
});
