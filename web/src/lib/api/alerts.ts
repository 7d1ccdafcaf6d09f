import {
  AcceptedResponse,
  Alert,
  AlertList,
  type AlertQuery,
  Channel,
  ChannelCreated,
  type ChannelInput,
  ChannelList,
  type ChannelPatch,
  ChannelTestResult,
  DeliveryList,
  type MaintenanceWindowInput,
  MaintenanceWindowList,
  MetricCatalog,
  Rule,
  type RuleInput,
  RuleList,
  type RulePatch,
  RulePreview,
  type SilenceInput,
  SilenceList,
} from '@pulsewire/protocol';
import { z } from 'zod';
import { apiGet, apiSend, type RequestOptions } from './client.ts';

/**
 * The alerting side of the API (design.md, "Alerts"): rules, the metric catalogue and rule preview,
 * channels and their delivery logs, alerts, silences and maintenance windows. Thin wrappers over
 * {@link apiGet}/{@link apiSend} that parse every answer with the protocol's schemas.
 */

export type { Alert, Channel, Rule, RuleInput, RulePatch };
export type AlertView = 'active' | 'history';
export type MetricCatalogEntry = z.infer<typeof MetricCatalog>['metrics'][number];
export type RulePreviewAnswer = z.infer<typeof RulePreview>;
export type PreviewHost = RulePreviewAnswer['hosts'][number];
export type PreviewSeries = PreviewHost['series'][number];
export type Delivery = z.infer<typeof DeliveryList>['deliveries'][number];
export type ChannelCreatedAnswer = z.infer<typeof ChannelCreated>;
export type Silence = z.infer<typeof SilenceList>['silences'][number];
export type MaintenanceWindow = z.infer<typeof MaintenanceWindowList>['windows'][number];
export type AlertPage = z.infer<typeof AlertList>;

const Silence = SilenceList.shape.silences.element;
const MaintenanceWindow = MaintenanceWindowList.shape.windows.element;

/**
 * DELETE answers: the API's usual `{ok, message}` or an empty 204. Either means it is gone.
 */
const Deleted = z.union([AcceptedResponse, z.undefined()]).transform(() => undefined);

/**
 * `POST /alerts/:id/ack`: the acknowledged alert, or `{ok, message}` (the contract names no body);
 * resolves to the alert when the server sent it, else null (the caller refetches or patches locally).
 */
const Acknowledged = z
  .union([Alert, AcceptedResponse, z.undefined()])
  .transform((body) => (body && 'id' in body ? body : null));

/** `POST /channels/:id/test` goes through the outbox like any notification: the answer is its delivery-log line. */
const TestQueued = ChannelTestResult.transform((body) => body.delivery);

const at = (base: string, id: string) => `${base}/${encodeURIComponent(id)}`;

/** Query parameters of `GET /alerts` (every one optional; empty values are left out). */
export type AlertFilters = Partial<Omit<z.input<typeof AlertQuery>, 'limit'>> & { limit?: number };

/** `?view=history&level=critical…` for `GET /alerts`, in a stable order, without empty values. */
export function alertQueryString(filters: AlertFilters): string {
  const params = new URLSearchParams();
  const order = ['view', 'level', 'hostId', 'ruleId', 'from', 'to', 'limit', 'cursor'] as const;
  for (const key of order) {
    const value = filters[key];
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export const rules = {
  list: (options?: RequestOptions) => apiGet('/rules', RuleList, options),
  get: (id: string, options?: RequestOptions) => apiGet(at('/rules', id), Rule, options),
  create: (input: RuleInput) => apiSend('POST', '/rules', input, Rule),
  update: (id: string, patch: RulePatch) => apiSend('PATCH', at('/rules', id), patch, Rule),
  remove: (id: string) => apiSend('DELETE', at('/rules', id), undefined, Deleted),
  /** What a rule can watch, with the label values seen on this organisation's hosts. */
  metrics: (options?: RequestOptions) => apiGet('/rules/metrics', MetricCatalog, options),
  /** The rule as edited, against the last `hours` of the hosts it covers. */
  preview: (rule: RuleInput, options: RequestOptions & { hours?: number } = {}) => {
    const { hours, ...rest } = options;
    return apiSend('POST', '/rules/preview', { rule, ...(hours ? { hours } : {}) }, RulePreview, rest);
  },
};

export const channels = {
  list: (options?: RequestOptions) => apiGet('/channels', ChannelList, options),
  /** The webhook signing secret comes back once, here and from {@link channels.rotateSecret}. */
  create: (input: ChannelInput) => apiSend('POST', '/channels', input, ChannelCreated),
  update: (id: string, patch: z.input<typeof ChannelPatch>) => apiSend('PATCH', at('/channels', id), patch, Channel),
  remove: (id: string) => apiSend('DELETE', at('/channels', id), undefined, Deleted),
  test: (id: string) => apiSend('POST', `${at('/channels', id)}/test`, undefined, TestQueued),
  rotateSecret: (id: string) => apiSend('POST', `${at('/channels', id)}/rotate-secret`, undefined, ChannelCreated),
  deliveries: (id: string, options?: RequestOptions) =>
    apiGet(`${at('/channels', id)}/deliveries`, DeliveryList, options),
};

export const alerts = {
  list: (filters: AlertFilters = {}, options?: RequestOptions) =>
    apiGet(`/alerts${alertQueryString(filters)}`, AlertList, options),
  acknowledge: (id: string) => apiSend('POST', `${at('/alerts', id)}/ack`, undefined, Acknowledged),
};

export const silences = {
  list: (options?: RequestOptions) => apiGet('/silences', SilenceList, options),
  create: (input: z.input<typeof SilenceInput>) => apiSend('POST', '/silences', input, Silence),
  /** Ends the silence now. */
  expire: (id: string) => apiSend('DELETE', at('/silences', id), undefined, Deleted),
};

export const maintenanceWindows = {
  list: (options?: RequestOptions) => apiGet('/maintenance-windows', MaintenanceWindowList, options),
  create: (input: z.input<typeof MaintenanceWindowInput>) =>
    apiSend('POST', '/maintenance-windows', input, MaintenanceWindow),
  update: (id: string, patch: Partial<z.input<typeof MaintenanceWindowInput>>) =>
    apiSend('PATCH', at('/maintenance-windows', id), patch, MaintenanceWindow),
  remove: (id: string) => apiSend('DELETE', at('/maintenance-windows', id), undefined, Deleted),
};
