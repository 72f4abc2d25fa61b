import { gql } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import type { ScreenProps } from './App';
import { ErrorLine, useAction, WORKSPACE_ROLES } from './ui';

const WORKSPACES = gql`
  query Workspaces($id: ID!, $withMembers: Boolean!) {
    organization(id: $id) {
      id
      workspaces(first: 100) { nodes { id name slug viewerRole viewerPermissions } }
      members(first: 100) @include(if: $withMembers) {
        nodes { id role displayName email workspaceAccess { roleOverride role workspace { id } } }
      }
    }
  }
`;
const CREATE = gql`
  mutation CreateWorkspace($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }
`;
// Replaces all of a member's workspace assignments: the answer updates the member in the cache.
const SET_ACCESS = gql`
  mutation SetWorkspaceAccess($input: SetWorkspaceAccessInput!) {
    setWorkspaceAccess(input: $input) { id workspaceAccess { roleOverride role workspace { id } } }
  }
`;

/** The workspaces the viewer may read, and who is assigned to each (with a role override or the role's default). */
export function Workspaces({ organization }: ScreenProps) {
  const withMembers = organization.viewerPermissions.includes('MEMBERS_READ');
  const { data, error, refetch } = useQuery<any>(WORKSPACES, { variables: { id: organization.id, withMembers }, fetchPolicy: 'cache-and-network' });
  const [create] = useMutation(CREATE);
  const [setAccess] = useMutation(SET_ACCESS);
  const [name, setName] = useState('');
  const [run, actionError] = useAction();

  if (error) return <ErrorLine error={error} />;
  if (!data) return <p>Loading…</p>;
  const members: any[] = data.organization.members?.nodes ?? [];
  const assign = (member: any, workspaceId: string, roleOverride: string | null | undefined) => {
    // undefined: take the workspace away; null: the role's default; else an override.
    const others = member.workspaceAccess.filter((a: any) => a.workspace.id !== workspaceId).map((a: any) => ({ workspaceId: a.workspace.id, roleOverride: a.roleOverride }));
    const workspaces = roleOverride === undefined ? others : [...others, { workspaceId, roleOverride }];
    return run(() => setAccess({ variables: { input: { membershipId: member.id, workspaces } } }));
  };
  const onCreate = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => (await create({ variables: { input: { organizationId: organization.id, name } } }), setName(''), await refetch()));
  };

  return (
    <section aria-label="Workspaces">
      <h2>Workspaces</h2>
      {organization.viewerPermissions.includes('WORKSPACES_CREATE') && (
        <form onSubmit={onCreate} className="inline">
          <input aria-label="New workspace name" placeholder="New workspace name" required value={name} onChange={(e) => setName(e.target.value)} />
          <button type="submit">Create workspace</button>
        </form>
      )}
      <ErrorLine error={actionError} />
      {data.organization.workspaces.nodes.length === 0 && <p>No workspace you can see.</p>}
      {data.organization.workspaces.nodes.map((w: any) => {
        const canManage = w.viewerPermissions.includes('WORKSPACES_MANAGE') && withMembers;
        const assigned = members.filter((m) => m.workspaceAccess.some((a: any) => a.workspace.id === w.id));
        const unassigned = members.filter((m) => !assigned.includes(m) && m.role !== 'OWNER' && m.role !== 'ADMIN');
        return (
          <article key={w.id} className="card" aria-label={`Workspace ${w.name}`}>
            <h3>
              {w.name} <small>/{w.slug} · your role {w.viewerRole ?? '—'}</small>
            </h3>
            <p>Owners, admins and WORKSPACES_ADMIN members enter every workspace; others by assignment:</p>
            <ul>
              {assigned.map((m) => {
                const access = m.workspaceAccess.find((a: any) => a.workspace.id === w.id);
                return (
                  <li key={m.id}>
                    {m.displayName} ({m.role}) as{' '}
                    {canManage ? (
                      <select aria-label={`Workspace role of ${m.email}`} value={access.roleOverride ?? ''} onChange={(e) => assign(m, w.id, e.target.value || null)}>
                        <option value="">default ({access.role})</option>
                        {WORKSPACE_ROLES.map((r) => <option key={r}>{r}</option>)}
                      </select>
                    ) : (
                      access.role
                    )}{' '}
                    {canManage && <button onClick={() => assign(m, w.id, undefined)}>Remove access</button>}
                  </li>
                );
              })}
              {assigned.length === 0 && <li>nobody assigned</li>}
            </ul>
            {canManage && unassigned.length > 0 && (
              <select aria-label={`Give access to ${w.name}`} value="" onChange={(e) => assign(members.find((m) => m.id === e.target.value), w.id, null)}>
                <option value="">Give access to…</option>
                {unassigned.map((m) => <option key={m.id} value={m.id}>{m.displayName} ({m.role})</option>)}
              </select>
            )}
          </article>
        );
      })}
    </section>
  );
}
