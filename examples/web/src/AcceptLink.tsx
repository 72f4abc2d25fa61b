import { gql } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import { rememberOrganization } from './session';
import { SignIn } from './SignIn';
import { ErrorLine, useAction, when } from './ui';

const PREVIEW = gql`
  query InvitationPreview($token: String!) {
    invitation(token: $token) { id email role status expiresAt organizationName inviterName }
  }
`;
const ACCEPT = gql`
  mutation AcceptByLink($token: String!) { acceptInvitation(token: $token) { id user { id } organization { id } } }
`;

/** PUBLIC_URL/invitations/accept?token=…: what the link shows (no sign-in needed), then accept as its invitee. */
export function AcceptLink({ linkToken, signedIn, onSignIn }: { linkToken: string; signedIn: boolean; onSignIn: (token: string) => void }) {
  const { data, error } = useQuery<any>(PREVIEW, { variables: { token: linkToken } });
  const [accept] = useMutation<any>(ACCEPT, { variables: { token: linkToken } });
  const [run, actionError] = useAction();
  const invitation = data?.invitation;
  const home = () => location.assign('/');

  if (error) return <ErrorLine error={error} />;
  if (!data) return <p>Loading…</p>;
  if (!invitation) return <main className="narrow"><p>This link is not valid (any more).</p><button onClick={home}>Open the console</button></main>;
  return (
    <main className="narrow">
      <h1>Join {invitation.organizationName}</h1>
      <p>
        {invitation.inviterName ?? 'Someone'} invited <b>{invitation.email}</b> as {invitation.role}; status {invitation.status}, expires {when(invitation.expiresAt)}.
      </p>
      {!signedIn ? (
        <SignIn onToken={onSignIn} email={invitation.email} />
      ) : invitation.status === 'PENDING' ? (
        <button
          onClick={() =>
            run(async () => {
              // Land in the organization just joined.
              const { acceptInvitation: membership } = (await accept()).data;
              rememberOrganization(membership.user.id, membership.organization.id);
              home();
            })
          }
        >
          Accept
        </button>
      ) : (
        <button onClick={home}>Open the console</button>
      )}
      <ErrorLine error={actionError} />
    </main>
  );
}
