import type { Channel } from '@pulsewire/protocol';
import { toast } from 'svelte-sonner';
import { channels as channelsApi } from '#lib/api/alerts.ts';
import { formatMs } from '#lib/format/format.ts';
import { describeError } from '#lib/forms/errors.ts';

/** "Send test": a test notification through the same outbox as real ones, its outcome as a toast. */
export async function sendTest(channel: Pick<Channel, 'id' | 'name'>): Promise<void> {
  try {
    const delivery = await channelsApi.test(channel.id);
    if (delivery?.status === 'sent') {
      toast.success(`Test sent to “${channel.name}”`, {
        description: delivery.latencyMs === null ? undefined : `Delivered in ${formatMs(delivery.latencyMs)}.`,
      });
    } else if (delivery?.status === 'failed' || delivery?.status === 'retrying') {
      toast.error(`Test to “${channel.name}” failed`, {
        description:
          delivery.status === 'retrying'
            ? `${delivery.lastError ?? 'Not delivered'} — retrying; see the delivery log.`
            : (delivery.lastError ?? undefined),
      });
    } else {
      toast.success(`Test queued for “${channel.name}”`, { description: 'Its outcome appears in the delivery log.' });
    }
  } catch (error) {
    toast.error(`Could not send a test to “${channel.name}”`, { description: describeError(error) });
  }
}
