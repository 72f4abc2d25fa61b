import { CombinedGraphQLErrors, ServerError } from '@apollo/client';
import { useState } from 'react';

/** An error as a user should read it: the GraphQL error's code and message. */
export function describe(error: unknown): string {
  if (CombinedGraphQLErrors.is(error)) return error.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; ');
  // The console's server answers 502/504 when nothing listens behind it.
  if (ServerError.is(error)) return `${error.message}: is the gateway running (npm run gateway)?`;
  return error instanceof Error ? error.message : String(error);
}

export function ErrorLine({ error }: { error: unknown }) {
  return error ? <p className="error" role="alert">{describe(error)}</p> : null;
}

/** Runs an action (usually a mutation) and keeps its error to show, cleared on the next run. */
export function useAction(): [(action: () => Promise<unknown>) => Promise<void>, unknown] {
  const [error, setError] = useState<unknown>(null);
  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    }
  };
  return [run, error];
}

export const ROLES = ['ADMIN', 'DEVELOPER', 'VIEWER', 'GUEST'] as const;
export const ASSIGNMENTS = ['AUDITOR', 'BILLING_MANAGER', 'WORKSPACES_ADMIN', 'MEMBERS_ADMIN'] as const;
export const WORKSPACE_ROLES = ['ADMIN', 'DEVELOPER', 'VIEWER'] as const;

export const when = (iso: string) => new Date(iso).toLocaleString();
