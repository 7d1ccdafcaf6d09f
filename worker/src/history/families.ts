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
