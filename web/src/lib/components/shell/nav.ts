import type { LucideProps } from '@lucide/svelte';
import Bell from '@lucide/svelte/icons/bell';
import HeartPulse from '@lucide/svelte/icons/heart-pulse';
import Server from '@lucide/svelte/icons/server';
import Settings from '@lucide/svelte/icons/settings';
import type { Component } from 'svelte';

export interface NavItem {
  label: string;
  /** Route of a page that exists; `undefined` for sections that are not built yet (shown as "Soon"). */
  href: '/status' | undefined;
  icon: Component<LucideProps>;
}

/** Sidebar sections. Only Status exists so far; the others are shown as upcoming and are not links. */
export const navItems: readonly NavItem[] = [
  { label: 'Status', href: '/status', icon: HeartPulse },
  { label: 'Hosts', href: undefined, icon: Server },
  { label: 'Alerts', href: undefined, icon: Bell },
  { label: 'Settings', href: undefined, icon: Settings },
];
