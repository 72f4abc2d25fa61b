import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { loadConfig, type Config } from '../src/config';

/** The subject a development token gives an address: the same user for the same address, whoever signs it. */
export const developmentSubject = (email: string): string => `user-${createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 16)}`;

/** A development token: `claims` for `subject`, HS256 with JWT_SECRET, with the configured issuer and audience. */
export async function signDevelopmentToken(config: Config, subject: string, claims: Record<string, unknown>, hours = 12): Promise<string> {
  if (!config.jwtSecret) throw new Error('a development token needs JWT_SECRET (it signs with HS256)');
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(subject).setIssuedAt().setExpirationTime(`${hours}h`);
  if (config.env.JWT_ISSUER) jwt = jwt.setIssuer(config.env.JWT_ISSUER);
  if (config.env.JWT_AUDIENCE) jwt = jwt.setAudience(config.env.JWT_AUDIENCE);
  return jwt.sign(new TextEncoder().encode(config.jwtSecret));
}

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
    subject = option('sub') ?? developmentSubject(email);
    claims = { email, email_verified: !args.includes('--unverified'), name: option('name') ?? email.split('@')[0] };
  }
  const token = await signDevelopmentToken(config, subject, claims, hours);
  console.log(token);
  if (process.stdout.isTTY) console.error(`\nIn Apollo Sandbox or GraphiQL (/graphiql), add the header  Authorization: Bearer ${token.slice(0, 12)}…`);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
