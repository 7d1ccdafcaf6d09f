import type { ApiKeyScope } from '@pulsewire/protocol';

/** What each key scope is for, as the create dialog and the table explain it. */
export const scopes: readonly { value: ApiKeyScope; label: string; description: string }[] = [
  {
    value: 'ingest',
    label: 'Ingest',
    description: 'For the Pulsewire agent on your servers: enrols hosts and sends metrics. Cannot read data back.',
  },
  {
    value: 'read',
    label: 'Read',
    description: 'For scripts and integrations using the public API: reads hosts, metrics and alerts. Changes nothing.',
  },
];
