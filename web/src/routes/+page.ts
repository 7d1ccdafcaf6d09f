import { redirect } from '@sveltejs/kit';
import { resolve } from '$app/paths';
import type { PageLoad } from './$types';

// No overview page yet: the status page is the dashboard's landing page.
export const load: PageLoad = () => {
  redirect(307, resolve('/status'));
};
