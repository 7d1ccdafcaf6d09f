// Static SPA: the Worker serves build/index.html for every dashboard URL and the client renders it.
export const ssr = false;
export const prerender = false;
