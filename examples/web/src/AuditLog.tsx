import { gql } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import type { ScreenProps } from './App';
import { getToken } from './session';
import { ErrorLine, useAction, when } from './ui';

const AUDIT = gql`
  query AuditLog($id: ID!, $after: String, $filter: AuditEventFilter) {
    organization(id: $id) {
      id
      auditEvents(first: 25, after: $after, filter: $filter) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id occurredAt action metadata actor { type id display } target { type id display } }
      }
    }
  }
`;

interface Filter {
  actions?: string[];
  actorId?: string;
  targetType?: string;
  since?: string;
  until?: string;
}

/** The form's fields as the API's AuditEventFilter (and /audit/export's parameters). */
function toFilter(form: FormData): Filter {
  const text = (name: string) => String(form.get(name) ?? '').trim() || undefined;
  const date = (name: string) => (text(name) ? new Date(text(name)!).toISOString() : undefined);
  const actions = text('actions')?.split(/[\s,]+/).filter(Boolean);
  return { actions, actorId: text('actorId'), targetType: text('targetType'), since: date('since'), until: date('until') };
}

/** Newest first, filtered; CSV export of the same filter through GET /audit/export. */
export function AuditLog({ organization }: ScreenProps) {
  const [filter, setFilter] = useState<Filter>({});
  const [pages, setPages] = useState<string[]>([]); // the cursors of the pages before this one
  const after = pages.at(-1) ?? null;
  const { data, error } = useQuery<any>(AUDIT, { variables: { id: organization.id, after, filter }, fetchPolicy: 'cache-and-network' });
  const [run, exportError] = useAction();

  const onFilter = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setFilter(toFilter(new FormData(event.currentTarget)));
    setPages([]);
  };

  // A download needs the token, which a plain link cannot send: fetch it, then save the blob.
  const exportCsv = () =>
    run(async () => {
      const params = new URLSearchParams({ organizationId: organization.id, format: 'csv' });
      for (const [key, value] of Object.entries(filter)) if (value?.length) params.set(key, Array.isArray(value) ? value.join(',') : value);
      const res = await fetch(`/audit/export?${params}`, { headers: { authorization: `Bearer ${getToken()}` } });
      if (!res.ok) throw new Error(`export failed: HTTP ${res.status} ${await res.text()}`);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(await res.blob());
      link.download = `audit-${organization.slug}.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000); // once the browser has saved it
    });

  const events = data?.organization.auditEvents;
  return (
    <section aria-label="Audit log">
      <h2>Audit log {events && <small>({events.totalCount} events)</small>}</h2>
      <form onSubmit={onFilter} className="filters">
        <input name="actions" aria-label="Actions" placeholder="member.role_changed, member.*" />
        <input name="actorId" aria-label="Actor id" placeholder="actor id" />
        <input name="targetType" aria-label="Target type" placeholder="target type (membership…)" />
        <label>since <input name="since" type="datetime-local" aria-label="Since" /></label>
        <label>until <input name="until" type="datetime-local" aria-label="Until" /></label>
        <button type="submit">Filter</button>
        <button type="button" onClick={exportCsv}>Export CSV</button>
      </form>
      <ErrorLine error={error ?? exportError} />
      {events && (
        <>
          <table>
            <thead>
              <tr><th>When</th><th>Action</th><th>Actor</th><th>Target</th><th>Details</th></tr>
            </thead>
            <tbody>
              {events.nodes.map((e: any) => (
                <tr key={e.id} data-action={e.action}>
                  <td>{when(e.occurredAt)}</td>
                  <td><code>{e.action}</code></td>
                  <td title={e.actor.id}>{e.actor.display ?? e.actor.id} <small>{e.actor.type}</small></td>
                  <td>{e.target ? `${e.target.type} ${e.target.display ?? e.target.id}` : '—'}</td>
                  <td><code className="metadata">{e.metadata ? JSON.stringify(e.metadata) : ''}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>
            <button disabled={!pages.length} onClick={() => setPages(pages.slice(0, -1))}>Newer</button>{' '}
            <button disabled={!events.pageInfo.hasNextPage} onClick={() => setPages([...pages, events.pageInfo.endCursor])}>Older</button>
          </p>
        </>
      )}
    </section>
  );
}
