import type { LucideProps } from '@lucide/svelte';
import Bell from '@lucide/svelte/icons/bell';
import Building2 from '@lucide/svelte/icons/building-2';
import ChartLine from '@lucide/svelte/icons/chart-line';
import HeartPulse from '@lucide/svelte/icons/heart-pulse';
import Inbox from '@lucide/svelte/icons/inbox';
import KeyRound from '@lucide/svelte/icons/key-round';
import Server from '@lucide/svelte/icons/server';
import UserRound from '@lucide/svelte/icons/user-round';
import { type Role, roleAtLeast } from '@pulsewire/protocol';
import type { Component } from 'svelte';

/** Dashboard pages the navigation links to. */
export type NavHref =
  | '/status'
  | '/hosts'
  | '/compare'
  | '/alerts'
  | '/settings/account'
  | '/settings/organization'
  | '/settings/api-keys'
  | '/dev/outbox';

export interface NavItem {
  label: string;
  /** Route of a page that exists; `undefined` for sections that are not built yet (shown as "Soon"). */
  href: NavHref | undefined;
  icon: Component<LucideProps>;
  /** `data-testid` of the link. */
  testid?: string;
  /** Least role that may open it; hidden from others. */
  minRole?: Role;
}

/** Monitoring sections: public status, hosts and alerting. */
export const navItems: readonly NavItem[] = [
  { label: 'Status', href: '/status', icon: HeartPulse, testid: 'nav-status' },
  { label: 'Hosts', href: '/hosts', icon: Server, testid: 'nav-hosts' },
  { label: 'Compare', href: '/compare', icon: ChartLine, testid: 'nav-compare' },
  { label: 'Alerts', href: '/alerts', icon: Bell, testid: 'nav-alerts' },
];

/** Settings of the signed-in user and their organisation. */
export const settingsItems: readonly NavItem[] = [
  { label: 'Account', href: '/settings/account', icon: UserRound, testid: 'nav-account' },
  { label: 'Organisation', href: '/settings/organization', icon: Building2, testid: 'nav-organization' },
  { label: 'API keys', href: '/settings/api-keys', icon: KeyRound, testid: 'nav-api-keys', minRole: 'admin' },
];

/** Local mode only: the mail the stack would have sent. */
export const devItems: readonly NavItem[] = [
  { label: 'Dev outbox', href: '/dev/outbox', icon: Inbox, testid: 'nav-dev-outbox' },
];

/** The items a member with `role` may see. */
export function visibleItems(items: readonly NavItem[], role: Role | undefined): NavItem[] {
  return items.filter((item) => !item.minRole || roleAtLeast(role, item.minRole));
}
