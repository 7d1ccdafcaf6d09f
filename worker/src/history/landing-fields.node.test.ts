import { METRICS, type Sample, samplePoints } from '@pulsewire/protocol';
import { syntheticSample } from '@pulsewire/stack/synthetic';
import { describe, expect, it } from 'vitest';
import { landingColumns, landingRow, METRIC_SAMPLE_FIELDS, sampleFieldsOf } from './landing-fields.ts';

/**
 * The table of fields per metric against `samplePoints` itself: a sample cut down to a metric's fields (the
 * row the landing read's SQL sends, made in JavaScript, put back together by `cut`) gives that metric's points
 * exactly as the whole sample does (the SQL itself is checked against the real database in landing-fields.test.ts).
 */
describe('landing fields', () => {
  const samples = [0, 1, 2].map((i) => syntheticSample(1, Date.UTC(2026, 3, 1, 12) + i * 10_000));

  it('names every metric of the catalog, and nothing else', () => {
    expect(Object.keys(METRIC_SAMPLE_FIELDS).sort()).toEqual(METRICS.map((m) => m.path).sort());
  });

  it('keeps what each metric is computed from', () => {
    for (const { path } of METRICS) {
      const points = samples.flatMap((sample) => samplePoints(sample)).filter((p) => p.metric === path);
      expect(points.length, `${path} has values in the synthetic host`).toBeGreaterThan(0);
      for (const sample of samples) {
        const sections = sampleFieldsOf([path]);
        const cut = { ts: sample.ts, ...landingColumns(sections).cut(landingRow(sample, sections)) };
        const of = (points: ReturnType<typeof samplePoints>) => points.filter((p) => p.metric === path);
        expect(of(samplePoints(cut)), path).toEqual(of(samplePoints(sample)));
      }
    }
  });

  it('leaves out absent sections, absent or null fields and empty lists, as the whole sample has none', () => {
    const sections = sampleFieldsOf(['cpu.total', 'memory.used_pct', 'net.rx', 'disk.used_pct']);
    const { cut } = landingColumns(sections);
    const sample = {
      ts: 0,
      cpu: { user: 1 },
      memory: { total: 10, available: null },
      net: [{ iface: 'eth0' }, 'not an object'],
      disks: [],
    } as unknown as Sample;
    expect(cut(landingRow(sample, sections))).toEqual({ memory: { total: 10 }, net: [{ iface: 'eth0' }, {}] });
  });

  it('merges the fields of several series of one section, and ignores custom metrics', () => {
    const fields = sampleFieldsOf(['memory.used_pct', 'swap.used_pct', 'net.rx{iface="eth0"}', 'custom.jobs']);
    expect([...fields.keys()].sort()).toEqual(['memory', 'net']);
    expect(fields.get('memory')?.fields).toEqual(['total', 'available', 'swapTotal', 'swapUsed']);
    expect(fields.get('net')).toEqual({ section: 'net', list: true, fields: ['iface', 'rxBytesPerSec'] });
  });
});
