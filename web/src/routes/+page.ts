import { redirect } from '@sveltejs/kit';
import { resolve } from '$app/paths';
import type { PageLoad } from './$types';

// The hosts list is home; a signed-out visitor is sent from there to sign in.
export const load: PageLoad = () => {
  redirect(307, resolve('/hosts'));
};
