import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { ApolloProvider } from '@apollo/client/react';
import { StrictMode, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { AcceptLink } from './AcceptLink';
import { App } from './App';
import { getToken, setToken } from './session';
import { SignIn } from './SignIn';
import './style.css';

/** One Apollo Client per signed-in token: signing in as someone else starts from an empty cache. */
function Root() {
  const [token, setState] = useState(getToken);
  const client = useMemo(
    () => new ApolloClient({ link: new HttpLink({ uri: '/graphql', headers: token ? { authorization: `Bearer ${token}` } : {} }), cache: new InMemoryCache() }),
    [token],
  );
  const signIn = (value: string | null) => {
    setToken(value);
    setState(value);
  };
  // An invitation link: PUBLIC_URL/invitations/accept?token=… (what the invitation mail carries).
  const linkToken = location.pathname === '/invitations/accept' ? new URLSearchParams(location.search).get('token') : null;
  return (
    <ApolloProvider client={client}>
      {linkToken ? <AcceptLink linkToken={linkToken} signedIn={!!token} onSignIn={signIn} /> : token ? <App onSignOut={() => signIn(null)} /> : <SignIn onToken={signIn} />}
    </ApolloProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
