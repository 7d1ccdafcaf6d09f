import { describe, expect, it } from 'vitest';
import { cpuRule, diskRule, HOST_A, HOST_B } from './fixtures.ts';
import { hostThresholds, linesOfTotal, scopeCovers, thresholdLines } from './thresholds.ts';

const web = { id: HOST_A, labels: { env: 'prod', role: 'web' } };
const db = { id: HOST_B, labels: { env: 'prod', role: 'db' } };

describe('scopeCovers', () => {
  it('covers every host, listed hosts, or hosts whose labels match the selector', () => {
    expect(scopeCovers({ type: 'all' }, web)).toBe(true);
    expect(scopeCovers({ type: 'hosts', hostIds: [HOST_B] }, web)).toBe(false);
    expect(scopeCovers({ type: 'hosts', hostIds: [HOST_B] }, db)).toBe(true);
    expect(scopeCovers({ type: 'labels', selector: 'env=prod, role!=db' }, web)).toBe(true);
    expect(scopeCovers({ type: 'labels', selector: 'env=prod, role!=db' }, db)).toBe(false);
    expect(scopeCovers({ type: 'labels', selector: 'role=~w.*' }, web)).toBe(true);
  });

  it('covers nothing with a selector that does not parse', () => {
    expect(scopeCovers({ type: 'labels', selector: 'env' }, web)).toBe(false);
  });
});

describe('thresholdLines', () => {
  it('draws the warning and critical thresholds of threshold rules on that metric, critical first', () => {
    expect(thresholdLines([cpuRule(), diskRule()], web, 'cpu.total')).toEqual([
      { level: 'critical', value: 97, rule: 'High CPU' },
      { level: 'warning', value: 90, rule: 'High CPU' },
    ]);
  });

  it('skips disabled rules, other kinds and rules whose scope leaves the host out', () => {
    const rules = [
      cpuRule({ enabled: false }),
      cpuRule({ scope: { type: 'hosts', hostIds: [HOST_B] } }),
      cpuRule({
        condition: {
          kind: 'rate',
          metric: { path: 'cpu.total', match: [] },
          windowSeconds: 300,
          per: 'minute',
          comparison: 'gt',
          warning: { threshold: 10 },
        },
      }),
    ];
    expect(thresholdLines(rules, web, 'cpu.total')).toEqual([]);
    expect(thresholdLines(rules, db, 'cpu.total')).toHaveLength(2);
  });

  it('honours the rule’s series matchers against the chart’s labels (one filesystem)', () => {
    const rootOnly = diskRule({
      condition: {
        kind: 'threshold',
        metric: { path: 'disk.used_pct', match: [{ name: 'mount', op: '=', value: '/' }] },
        aggregation: 'last',
        windowSeconds: 0,
        comparison: 'gt',
        critical: { threshold: 99 },
      },
    });
    const rules = [diskRule(), rootOnly];
    expect(thresholdLines(rules, web, 'disk.used_pct', { mount: '/' }).map((l) => l.value)).toEqual([95, 99, 85]);
    expect(thresholdLines(rules, web, 'disk.used_pct', { mount: '/data' }).map((l) => l.value)).toEqual([95, 85]);
  });

  it('draws one line per level and value when several rules agree', () => {
    expect(thresholdLines([cpuRule(), cpuRule({ name: 'Copy' })], web, 'cpu.total')).toHaveLength(2);
  });
});

describe('hostThresholds', () => {
  it('picks CPU, memory and per-mount disk lines for one host', () => {
    const memory = cpuRule({
      name: 'High memory',
      condition: {
        kind: 'threshold',
        metric: { path: 'memory.used_pct', match: [] },
        aggregation: 'avg',
        windowSeconds: 300,
        comparison: 'gt',
        warning: { threshold: 90 },
      },
    });
    const lines = hostThresholds([cpuRule(), memory, diskRule()], web);
    expect(lines.cpu.map((l) => l.value)).toEqual([97, 90]);
    expect(lines.memory).toEqual([{ level: 'warning', value: 90, rule: 'High memory' }]);
    expect(lines.disk('/').map((l) => l.value)).toEqual([95, 85]);
  });

  it('moves percent lines onto a chart in bytes, keeping a percent label', () => {
    expect(linesOfTotal([{ level: 'warning', value: 90, rule: 'High memory' }], 16e9)).toEqual([
      { level: 'warning', value: 14.4e9, rule: 'High memory', text: 'Warning 90 %' },
    ]);
    expect(linesOfTotal([{ level: 'warning', value: 90, rule: 'x' }], undefined)).toEqual([]);
  });
});
