import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { loadConfig } from '../src/config';

/**
 * npm run token -- <email> [--name "Ada Lovelace"] [--sub <id>] [--unverified] [--hours 12]
 * npm run token -- --service <client-id> --scope "billing:write usage:write"
 * Prints a development token signed with JWT_SECRET, for the Authorization header (Apollo Sandbox,
 * GraphiQL at /graphiql, curl). bin/token runs this without npm's banner around the token.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const config = loadConfig();
  if (!config.jwtSecret) throw new Error('npm run token needs JWT_SECRET (it signs with HS256)');
  const hours = Number(option('hours') ?? 12);
  const service = option('service');
  let claims: Record<string, unknown>;
  let subject: string;
  if (service) {
    subject = service;
    claims = { scope: option('scope') ?? '' };
  } else {
    const email = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
    if (!email || !email.includes('@')) throw new Error('usage: npm run token -- <email> [--name "Ada Lovelace"] [--sub <id>]');
    subject = option('sub') ?? `user-${createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 16)}`;
    claims = { email, email_verified: !args.includes('--unverified'), name: option('name') ?? email.split('@')[0] };
  }
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(subject).setIssuedAt().setExpirationTime(`${hours}h`);
  if (config.env.JWT_ISSUER) jwt = jwt.setIssuer(config.env.JWT_ISSUER);
  if (config.env.JWT_AUDIENCE) jwt = jwt.setAudience(config.env.JWT_AUDIENCE);
  const token = await jwt.sign(new TextEncoder().encode(config.jwtSecret));
  console.log(token);
  if (process.stdout.isTTY) console.error(`\nIn Apollo Sandbox or GraphiQL (/graphiql), add the header  Authorization: Bearer ${token.slice(0, 12)}…`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
