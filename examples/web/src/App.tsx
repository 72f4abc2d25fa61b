import { gql } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { AuditLog } from './AuditLog';
import { Invitations } from './Invitations';
import { Members } from './Members';
import { lastOrganization, rememberOrganization } from './session';
import { ErrorLine, useAction } from './ui';
import { Workspaces } from './Workspaces';

// `me` comes from the accounts subgraph, `viewer` from this one: the gateway joins them.
const VIEWER = gql`
  query Console {
    me { id email name }
    viewer {
      id
      memberships(first: 100) { nodes { id role organization { id name slug kind viewerPermissions } } }
      pendingInvitations { id role organization { id name } }
    }
  }
`;
const CREATE_TEAM = gql`
  mutation CreateTeam($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }
`;
const ACCEPT = gql`
  mutation AcceptInvitation($id: ID!) { acceptInvitation(id: $id) { id organization { id } } }
`;
const DECLINE = gql`
  mutation DeclineInvitation($id: ID!) { declineInvitation(id: $id) { id } }
`;

const TABS = [
  { name: 'Members', permission: 'MEMBERS_READ', Screen: Members },
  { name: 'Invitations', permission: 'MEMBERS_INVITE', Screen: Invitations },
  { name: 'Workspaces', permission: null, Screen: Workspaces },
  { name: 'Audit log', permission: 'AUDIT_READ', Screen: AuditLog },
] as const;

export function App({ onSignOut }: { onSignOut: () => void }) {
  const { data, error, refetch } = useQuery<any>(VIEWER);
  const [chosen, setChosen] = useState<string | null>(null);
  const [tab, setTab] = useState<string>('Members');
  const [teamName, setTeamName] = useState('');
  const [createTeam] = useMutation<any>(CREATE_TEAM);
  const [accept] = useMutation<any>(ACCEPT);
  const [decline] = useMutation<any>(DECLINE);
  const [run, actionError] = useAction();

  if (error) return <main><ErrorLine error={error} /><button onClick={onSignOut}>Sign out</button></main>;
  if (!data) return <p>Loading…</p>;

  const userId: string = data.viewer.id;
  const organizations = data.viewer.memberships.nodes.map((m: any) => m.organization);
  const select = (id: string) => {
    rememberOrganization(userId, id);
    setChosen(id);
  };
  // This session's choice, else the last one on this browser, else the first (the personal organization).
  const current =
    organizations.find((o: any) => o.id === chosen) ?? organizations.find((o: any) => o.id === lastOrganization(userId)) ?? organizations[0];

  const onCreateTeam = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const result = await createTeam({ variables: { input: { name: teamName } } });
      await refetch();
      select(result.data.createOrganization.id);
      setTeamName('');
    });
  };
  const tabs = TABS.filter((t) => t.permission === null || current?.viewerPermissions.includes(t.permission));
  const active = tabs.find((t) => t.name === tab) ?? tabs[0];

  return (
    <main>
      <header>
        <label>
          Organization{' '}
          <select aria-label="Organization" value={current?.id} onChange={(e) => select(e.target.value)}>
            {organizations.map((o: any) => (
              <option key={o.id} value={o.id}>
                {o.name} {o.kind === 'PERSONAL' ? '(personal)' : ''}
              </option>
            ))}
          </select>
        </label>
        <form onSubmit={onCreateTeam} className="inline">
          <input aria-label="New team name" placeholder="New team name" required value={teamName} onChange={(e) => setTeamName(e.target.value)} />
          <button type="submit">Create team</button>
        </form>
        <span className="who">
          {data.me?.name} &lt;{data.me?.email}&gt; <button onClick={onSignOut}>Sign out</button>
        </span>
      </header>
      <ErrorLine error={actionError} />

      {data.viewer.pendingInvitations.length > 0 && (
        <section className="pending" aria-label="Invitations for you">
          <h2>Invitations for you</h2>
          {data.viewer.pendingInvitations.map((i: any) => (
            <p key={i.id}>
              Join <b>{i.organization.name}</b> as {i.role}{' '}
              <button onClick={() => run(async () => { const r = await accept({ variables: { id: i.id } }); await refetch(); select(r.data.acceptInvitation.organization.id); })}>
                Accept
              </button>{' '}
              <button onClick={() => run(async () => (await decline({ variables: { id: i.id } }), await refetch()))}>Decline</button>
            </p>
          ))}
        </section>
      )}

      {current && (
        <>
          <nav>
            {tabs.map((t) => (
              <button key={t.name} className={t === active ? 'active' : ''} onClick={() => setTab(t.name)}>
                {t.name}
              </button>
            ))}
          </nav>
          {active && <active.Screen key={current.id} organization={current} />}
        </>
      )}
    </main>
  );
}

/** What each screen gets: the organization chosen, with the viewer's permissions in it. */
export interface ScreenProps {
  organization: { id: string; name: string; slug: string; kind: string; viewerPermissions: string[] };
}
