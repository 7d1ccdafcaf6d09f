import type { HostStatus } from '@pulsewire/protocol';
import type { Tone } from '#lib/components/ui/tone.ts';

/** Colour and words of a host's status, the same in the list, on the host page and in onboarding. */
export const statusTone: Record<HostStatus, Tone> = { online: 'success', stale: 'warning', offline: 'danger' };
export const statusLabel: Record<HostStatus, string> = { online: 'Online', stale: 'Stale', offline: 'Offline' };

/** Bar colour for a usage percentage: calm below 75 %, amber to 90 %, red above. */
export function usageTone(pct: number): Tone {
  if (pct >= 90) return 'danger';
  if (pct >= 75) return 'warning';
  return 'primary';
}
