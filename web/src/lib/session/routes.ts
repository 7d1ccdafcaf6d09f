/**
 * Pure rules about where the session sends people: the sign-in redirect with `?next=`, and which
 * `next` values are safe to follow after signing in.
 */

/**
 * Where signed-in users land when there is no (safe) `next`: the hosts list. An admin of an
 * organisation without hosts who arrives there from sign-in, verification or an invitation is
 * taken on to the onboarding page (`/hosts/new`), so a fresh sign-up starts by adding a machine.
 */
export const HOME_PATH = '/hosts';

/** Pages for signed-out visitors, shown without the dashboard's sidebar. */
const AUTH_PAGES = ['/login', '/signup', '/verify', '/forgot-password', '/reset-password', '/invitations/accept'];

export function isAuthPage(pathname: string): boolean {
  return AUTH_PAGES.some((p) => pathname === p || pathname === `${p}/`);
}

/** `/login?next=/settings/api-keys%3Ftab%3D1`: where a protected page sends a signed-out visitor. */
export function loginPath(url: Pick<URL, 'pathname' | 'search' | 'hash'>): string {
  const here = `${url.pathname}${url.search}${url.hash}`;
  if (here === '/' || isAuthPage(url.pathname)) return '/login';
  return `/login?next=${encodeURIComponent(here)}`;
}

/**
 * The `next` to go to after signing in: only a path on this origin (never `//evil.example`,
 * `/\evil`, `javascript:`), and never back to an auth page; otherwise {@link HOME_PATH}.
 */
export function safeNext(next: string | null | undefined): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return HOME_PATH;
  // Control characters and backslashes have no business in our paths and confuse URL parsers.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (/[\u0000-\u001f\\]/.test(next)) return HOME_PATH;
  let url: URL;
  try {
    url = new URL(next, 'http://pulsewire.invalid');
  } catch {
    return HOME_PATH;
  }
  if (url.origin !== 'http://pulsewire.invalid') return HOME_PATH;
  // Following `next` back to /login or /signup would loop; an invitation link is a fine place to return to.
  if (isAuthPage(url.pathname) && url.pathname !== '/invitations/accept') return HOME_PATH;
  return `${url.pathname}${url.search}${url.hash}`;
}
