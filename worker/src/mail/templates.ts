export interface MailMessage {
  /** Which mail this is, for logs (which never name the recipient or the subject). */
  kind: string;
  subject: string;
  text: string;
  html: string;
}

export const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  );

function layout(kind: string, title: string, intro: string, action: string, link: string, outro: string): MailMessage {
  const text = `${intro}\n\n${action}: ${link}\n\n${outro}\n\n— Pulsewire`;
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#0f172a;max-width:520px;margin:auto;padding:24px">
<h1 style="font-size:20px">${escapeHtml(title)}</h1>
<p>${escapeHtml(intro)}</p>
<p><a href="${escapeHtml(link)}" style="display:inline-block;background:#4f46e5;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none">${escapeHtml(action)}</a></p>
<p style="font-size:13px;color:#475569">Or paste this link into your browser:<br>${escapeHtml(link)}</p>
<p style="font-size:13px;color:#475569">${escapeHtml(outro)}</p>
</body></html>`;
  return { kind, subject: title, text, html };
}

export const verifyEmailMessage = (link: string) =>
  layout(
    'verify_email',
    'Verify your e-mail for Pulsewire',
    'Welcome to Pulsewire. Confirm that this address is yours to finish setting up your account.',
    'Verify e-mail',
    link,
    'The link expires in 24 hours. If you did not sign up, ignore this message.',
  );

export const existingAccountMessage = (link: string) =>
  layout(
    'existing_account',
    'Someone tried to sign up to Pulsewire with your address',
    'An account already exists for this e-mail address. If it was you, sign in — or reset your password if you forgot it.',
    'Sign in',
    link,
    'If it was not you, you can ignore this message; your account is unchanged.',
  );

export const resetPasswordMessage = (link: string) =>
  layout(
    'reset_password',
    'Reset your Pulsewire password',
    'We received a request to reset the password of your Pulsewire account.',
    'Choose a new password',
    link,
    'The link works once and expires in 1 hour. If you did not ask for it, ignore this message.',
  );

export const changeEmailMessage = (link: string) =>
  layout(
    'change_email',
    'Confirm your new Pulsewire e-mail address',
    'Confirm this address to make it the e-mail of your Pulsewire account.',
    'Confirm address',
    link,
    'The link expires in 24 hours. If you did not ask for this change, ignore this message.',
  );

export const invitationMessage = (link: string, organization: string, inviter: string, role: string) =>
  layout(
    'invitation',
    `You are invited to ${organization} on Pulsewire`,
    `${inviter} invited you to join the organisation "${organization}" on Pulsewire as ${role}.`,
    'Accept invitation',
    link,
    'The invitation expires in 7 days.',
  );

export const emailChangedMessage = (newEmail: string, link: string) =>
  layout(
    'email_changed',
    'The e-mail address of your Pulsewire account was changed',
    `Your Pulsewire account now uses ${newEmail}; this address no longer signs in, and every session was signed out.`,
    'Open Pulsewire',
    link,
    'If you did not make this change, someone else may know your password: reply to this message at once.',
  );
