/** What the sign-in page adds under some errors: the way forward, as a sentence and a link. */
export interface LoginHint {
  text: string;
  link: { href: '/forgot-password' | '/dev/outbox'; label: string };
}

export function loginHint(code: string | null, local: boolean): LoginHint | null {
  if (code === 'rate_limited') {
    return {
      text: 'Sign-in is paused for this account from your network, to stop password guessing.',
      link: { href: '/forgot-password', label: 'Reset your password instead' },
    };
  }
  if (code === 'email_unverified' && local) {
    return {
      text: 'On this local stack, mail lands in the dev outbox.',
      link: { href: '/dev/outbox', label: 'Open the dev outbox' },
    };
  }
  return null;
}
