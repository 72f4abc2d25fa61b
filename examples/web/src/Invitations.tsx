import { gql } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import type { ScreenProps } from './App';
import { ErrorLine, ROLES, useAction, when } from './ui';

const INVITATIONS = gql`
  query Invitations($id: ID!, $status: InvitationStatus) {
    organization(id: $id) {
      id
      invitations(first: 100, status: $status) { totalCount nodes { id email role assignments status sendCount lastSentAt expiresAt } }
    }
  }
`;
const INVITE = gql`
  mutation InviteMembers($input: InviteMembersInput!) { inviteMembers(input: $input) { id } }
`;
const RESEND = gql`
  mutation ResendInvitation($id: ID!) { resendInvitation(id: $id) { id sendCount lastSentAt expiresAt } }
`;
const CANCEL = gql`
  mutation CancelInvitation($id: ID!) { cancelInvitation(id: $id) { id status } }
`;

/** Invite by email (1 to 10 addresses, all or nothing), resend a link, cancel one. */
export function Invitations({ organization }: ScreenProps) {
  const [status, setStatus] = useState('PENDING');
  const { data, error, refetch } = useQuery<any>(INVITATIONS, { variables: { id: organization.id, status: status || null }, fetchPolicy: 'cache-and-network' });
  const [invite] = useMutation(INVITE);
  const [resend] = useMutation(RESEND);
  const [cancel] = useMutation(CANCEL);
  const [emails, setEmails] = useState('');
  const [role, setRole] = useState('VIEWER');
  const [run, actionError] = useAction();

  const onInvite = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const list = emails.split(/[\s,;]+/).filter(Boolean);
      await invite({ variables: { input: { organizationId: organization.id, emails: list, role } } });
      setEmails('');
      await refetch();
    });
  };

  return (
    <section aria-label="Invitations">
      <h2>Invitations</h2>
      <form onSubmit={onInvite} className="inline">
        <input aria-label="Emails to invite" placeholder="grace@example.com, alan@example.com" required size={40} value={emails} onChange={(e) => setEmails(e.target.value)} />
        <select aria-label="Role to invite as" value={role} onChange={(e) => setRole(e.target.value)}>
          {ROLES.map((r) => <option key={r}>{r}</option>)}
        </select>
        <button type="submit">Invite</button>
      </form>
      <ErrorLine error={actionError ?? error} />
      <label>
        Show{' '}
        <select aria-label="Invitation status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">all</option>
          {['PENDING', 'ACCEPTED', 'DECLINED', 'CANCELED', 'EXPIRED'].map((s) => <option key={s}>{s}</option>)}
        </select>
      </label>
      {data && (
        <table>
          <thead>
            <tr><th>Email</th><th>Role</th><th>Status</th><th>Sent</th><th>Expires</th><th /></tr>
          </thead>
          <tbody>
            {data.organization.invitations.nodes.map((i: any) => (
              <tr key={i.id} data-email={i.email}>
                <td>{i.email}</td>
                <td>{i.role}</td>
                <td>{i.status}</td>
                <td>{i.sendCount}×, last {when(i.lastSentAt)}</td>
                <td>{when(i.expiresAt)}</td>
                <td>
                  {i.status === 'PENDING' && (
                    <>
                      <button onClick={() => run(() => resend({ variables: { id: i.id } }))}>Resend</button>{' '}
                      <button onClick={() => run(async () => (await cancel({ variables: { id: i.id } }), await refetch()))}>Cancel</button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
