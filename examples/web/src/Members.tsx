import { gql } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import type { ScreenProps } from './App';
import { ASSIGNMENTS, ErrorLine, ROLES, useAction, when } from './ui';

const MEMBERS = gql`
  query Members($id: ID!) {
    organization(id: $id) {
      id
      members(first: 100) {
        totalCount
        nodes { id role assignments displayName email emailVerified joinedAt workspaceAccess { role workspace { id name } } }
      }
    }
  }
`;
// The answer carries the membership's id: Apollo's cache updates the row in place.
const UPDATE = gql`
  mutation UpdateMembership($input: UpdateMembershipInput!) { updateMembership(input: $input) { id role assignments } }
`;
const REMOVE = gql`
  mutation RemoveMember($id: ID!) { removeMember(membershipId: $id) }
`;

/** Members with their role and assignments; who holds MEMBERS_MANAGE changes them (the server decides). */
export function Members({ organization }: ScreenProps) {
  const { data, error, refetch } = useQuery<any>(MEMBERS, { variables: { id: organization.id }, fetchPolicy: 'cache-and-network' });
  const [update] = useMutation(UPDATE);
  const [remove] = useMutation(REMOVE);
  const [run, actionError] = useAction();
  const canManage = organization.viewerPermissions.includes('MEMBERS_MANAGE');

  if (error) return <ErrorLine error={error} />;
  if (!data) return <p>Loading…</p>;
  const members = data.organization.members;
  const change = (id: string, input: object) => run(() => update({ variables: { input: { membershipId: id, ...input } } }));

  return (
    <section aria-label="Members">
      <h2>Members ({members.totalCount})</h2>
      <ErrorLine error={actionError} />
      <table>
        <thead>
          <tr><th>Member</th><th>Role</th><th>Assignments</th><th>Workspaces</th><th>Joined</th><th /></tr>
        </thead>
        <tbody>
          {members.nodes.map((m: any) => (
            <tr key={m.id} data-email={m.email}>
              <td>
                {m.displayName}
                <br />
                <small>{m.email}{m.emailVerified ? '' : ' (unverified)'}</small>
              </td>
              <td>
                {m.role === 'OWNER' || !canManage ? (
                  m.role
                ) : (
                  <select aria-label={`Role of ${m.email}`} value={m.role} onChange={(e) => change(m.id, { role: e.target.value })}>
                    {ROLES.map((r) => <option key={r}>{r}</option>)}
                  </select>
                )}
              </td>
              <td>
                {ASSIGNMENTS.map((a) => (
                  <label key={a} className="check">
                    <input
                      type="checkbox"
                      aria-label={`${a} for ${m.email}`}
                      disabled={!canManage || m.role === 'OWNER'}
                      checked={m.assignments.includes(a)}
                      onChange={(e) => change(m.id, { assignments: e.target.checked ? [...m.assignments, a] : m.assignments.filter((x: string) => x !== a) })}
                    />
                    {a}
                  </label>
                ))}
              </td>
              <td>{m.workspaceAccess.map((w: any) => `${w.workspace.name} (${w.role})`).join(', ') || '—'}</td>
              <td>{when(m.joinedAt)}</td>
              <td>
                {canManage && m.role !== 'OWNER' && (
                  <button onClick={() => run(async () => (await remove({ variables: { id: m.id } }), await refetch()))}>Remove</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
