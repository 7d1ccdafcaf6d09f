/** What to tell someone whose e-mailed link did not work, by the API's error code. */
export function tokenProblem(code: string): { title: string; detail: string } {
  switch (code) {
    case 'token_missing':
      return {
        title: 'This link is incomplete',
        detail: 'The address has no token. Open the link from the e-mail again, or copy it whole.',
      };
    case 'token_invalid':
      return {
        title: 'This link is not valid',
        detail: 'It may have been mistyped or cut off. Open the link from the e-mail again, or ask for a new one.',
      };
    case 'token_used':
      return {
        title: 'This link was already used',
        detail:
          'Each link works once, and a password reset or an address change cancels the links sent before it. If you already confirmed your address, just sign in.',
      };
    case 'token_expired':
      return {
        title: 'This link has expired',
        detail: 'For your security, links expire. Sign in: if your address still needs confirming, we send a new link.',
      };
    case 'email_taken':
      return {
        title: 'That address is taken',
        detail: 'Another Pulsewire account already uses this e-mail address, so it was not changed.',
      };
    default:
      return { title: 'We could not verify this link', detail: '' };
  }
}
