import { useState, type FormEvent } from 'react';
import { ErrorLine } from './ui';

/**
 * Development sign-in: the console's server mints a token for the address typed (POST /dev/token,
 * never served in production). A real frontend gets its token from the accounts service instead;
 * pasting one works anywhere.
 */
export function SignIn({ onToken, email: invited }: { onToken: (token: string) => void; email?: string }) {
  const [email, setEmail] = useState(invited ?? '');
  const [name, setName] = useState('');
  const [pasted, setPasted] = useState('');
  const [error, setError] = useState<unknown>(null);

  const signIn = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const res = await fetch('/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, name }) });
      const body = await res.json();
      if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
      onToken(body.token);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <main className="narrow">
      <h1>Organizations console</h1>
      <form onSubmit={signIn} aria-label="Development sign-in">
        <h2>Development sign-in</h2>
        <label>
          Email <input name="email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Name <input name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder="Ada Lovelace" />
        </label>
        <button type="submit">Sign in</button>
        <ErrorLine error={error} />
      </form>
      <form onSubmit={(e) => (e.preventDefault(), onToken(pasted.trim().replace(/^Bearer\s+/i, '')))}>
        <h2>…or paste a token</h2>
        <textarea name="token" rows={3} value={pasted} onChange={(e) => setPasted(e.target.value)} placeholder="eyJ…" />
        <button type="submit" disabled={!pasted.trim()}>
          Use this token
        </button>
      </form>
    </main>
  );
}
