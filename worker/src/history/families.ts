import { CUSTOM_PREFIX } from '@pulsewire/protocol';

/**
 * History chunks hold one family of series (the metric path's first segment: `cpu`, `disk`, `net`,
 * `container`, `custom`...), so a chart reads the chunks of its family only, not a host's every series.
 */
export function familyOf(seriesKey: string): string {
  if (seriesKey.startsWith(CUSTOM_PREFIX)) return 'custom';
  const end = seriesKey.search(/[.{]/);
  return end === -1 ? seriesKey : seriesKey.slice(0, end);
}

/**
 * The landing rows' jsonb sections each family is computed from: reading the open hours of a long chart
 * fetches these sections only, not whole samples.
 */
export const FAMILY_SECTIONS: Readonly<Record<string, readonly string[]>> = {
  cpu: ['cpu'],
  load: ['load'],
  memory: ['memory'],
  swap: ['memory'],
  disk: ['disks'],
  disk_io: ['diskIo'],
  net: ['net'],
  gpu: ['gpus'],
  container: ['containers'],
  processes: ['processes'],
  temp: ['temps'],
  agent: ['agent'],
};
