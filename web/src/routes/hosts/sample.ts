import type { Sample } from '@pulsewire/protocol';
import type { HostGlance } from '#lib/api/hosts.ts';

/**
 * The agent leaves a section out of a sample when it has no new reading (disks are read once a minute,
 * processes every 5 s, …): "absent" means "unchanged", not "gone". The API answers the newest sample only,
 * so the pages keep what they saw before and lay the newer sample over it.
 */
export function mergeSample(previous: Sample | null | undefined, next: Sample | null | undefined): Sample | null {
  if (!next) return previous ?? null;
  if (!previous) return next;
  if (previous.ts > next.ts) return previous;
  return { ...previous, ...definedOnly(next) };
}

/** The same for the list's glance figures (the fullest disk, for example, comes from the once-a-minute reading). */
export function mergeGlance(
  previous: HostGlance | null | undefined,
  next: HostGlance | null | undefined,
): HostGlance | null {
  if (!next) return previous ?? null;
  if (!previous) return next;
  if (previous.ts > next.ts) return previous;
  return { ...previous, ...definedOnly(next) };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
