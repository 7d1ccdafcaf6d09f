import { redirect } from '@sveltejs/kit';
import { loginPath } from '#lib/session/routes.ts';
import { session } from '#lib/session/session.svelte.ts';
import type { LayoutLoad } from './$types';

// Alerts belong to an organisation: a signed-out visitor goes to /login and comes back here after.
export const load: LayoutLoad = async ({ url }) => {
  await session.ensure();
  if (session.status === 'signed-out') redirect(307, loginPath(url));
};
