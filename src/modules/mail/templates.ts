export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Outside production only: written to the log beside a mail that is logged instead of sent, never mailed. */
  development?: Record<string, string>;
}

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function invitationMail(input: { to: string; organizationName: string; inviterName: string; role: string; link: string; expiresAt: Date }): Mail {
  const expires = input.expiresAt.toUTCString();
  const role = input.role.charAt(0) + input.role.slice(1).toLowerCase();
  return {
    to: input.to,
    subject: `${input.inviterName} invited you to ${input.organizationName}`,
    text: [
      `${input.inviterName} invited you to join ${input.organizationName} as ${role}.`,
      '',
      `Accept the invitation: ${input.link}`,
      '',
      `The invitation expires on ${expires}. If you did not expect it, ignore this mail.`,
    ].join('\n'),
    html: `<!doctype html><html><body style="font-family:sans-serif">
<p><strong>${escapeHtml(input.inviterName)}</strong> invited you to join <strong>${escapeHtml(input.organizationName)}</strong> as ${escapeHtml(role)}.</p>
<p><a href="${escapeHtml(input.link)}">Accept the invitation</a></p>
<p style="color:#666">The invitation expires on ${escapeHtml(expires)}. If you did not expect it, ignore this mail.</p>
</body></html>`,
  };
}
