/** The signed-in token and the last organization, kept in localStorage across reloads. */
const TOKEN = 'console.token';

export const getToken = (): string | null => localStorage.getItem(TOKEN);

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN, token);
  else localStorage.removeItem(TOKEN);
}

// Per user: two people signing in on one browser each get their own last organization.
export const lastOrganization = (userId: string): string | null => localStorage.getItem(`console.organization.${userId}`);
export const rememberOrganization = (userId: string, organizationId: string): void => localStorage.setItem(`console.organization.${userId}`, organizationId);
