import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempFromMillidegrees, tempsCollector } from './temps.ts';
import { SourceAbsentError } from './types.ts';

// The recording VM has no sensors, so this tree mimics a typical hwmon layout (coretemp with labels, nvme without).
function sysTree(): string {
  const sys = mkdtempSync(path.join(tmpdir(), 'pw-sys-'));
  const chip = (name: string, files: Record<string, string>) => {
    const dir = path.join(sys, 'class', 'hwmon', name);
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  };
  chip('hwmon0', {
    name: 'coretemp\n',
    temp1_label: 'Package id 0\n',
    temp1_input: '45000\n',
    temp2_label: 'Core 0\n',
    temp2_input: '43500\n',
  });
  chip('hwmon1', { name: 'nvme\n', temp1_input: '38850\n', temp2_input: '-273000\n' });
  return sys;
}

describe('temperature collector', () => {
  it('reads hwmon sensors with their labels, dropping impossible readings', async () => {
    const result = await tempsCollector({ proc: '/proc', sys: sysTree() }, true).collect(0);
    expect(result?.temps).toEqual([
      { label: 'coretemp Package id 0', c: 45 },
      { label: 'coretemp Core 0', c: 43.5 },
      { label: 'nvme temp1', c: 38.9 },
    ]);
  });

  it('reports absent sensors as absent', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'pw-sys-'));
    await expect(tempsCollector({ proc: '/proc', sys: empty }, true).collect(0)).rejects.toBeInstanceOf(
      SourceAbsentError,
    );
  });

  it('converts millidegrees', () => {
    expect(tempFromMillidegrees('51234')).toBe(51.2);
    expect(tempFromMillidegrees('garbage')).toBeUndefined();
  });
});
