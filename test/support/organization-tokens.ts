import { ok, type TestUser } from './client';

export const ISSUE = 'mutation($org: ID!, $ws: ID) { issueOrganizationToken(organizationId: $org, workspaceId: $ws) { token expiresAt } }';

/** A JWT's header and payload, read as any holder can (no verification: the partner example does that). */
export function decode(token: string): { header: Record<string, any>; payload: Record<string, any> } {
  const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, payload };
}

/** An organization token of `user` (through the test server, or the server at `url`). */
export async function issue(user: TestUser | string, org: string, ws?: string, options: { url?: string } = {}): Promise<{ token: string; expiresAt: string }> {
  return (await ok(ISSUE, { org, ws }, user, options)).issueOrganizationToken;
}
