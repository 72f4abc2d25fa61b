import { createHmac } from 'node:crypto';

/** The secret every benchmark server is started with (JWT_SECRET). */
export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret-0123';

function sign(claims: Record<string, unknown>): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, iat: now, exp: now + 86_400 })}`;
  return `${body}.${createHmac('sha256', BENCH_SECRET).update(body).digest('base64url')}`;
}

/** A user token carrying the name the dataset gave that user, so that signing in changes nothing. */
export const userToken = (sub: string, email: string, name: string): string => sign({ sub, email, email_verified: true, name });

/** A generated user's token: `bench-user-<n>` as bench/generate.ts made them. */
export const benchUserToken = (n: number): string => userToken(`bench-user-${n}`, `bench-user-${n}@bench.test`, `Bench User ${n}`);

/** A partner service's token (`sub` a client id, `scope`, no `email`): what calls `authorize`. */
export const serviceToken = (clientId: string, scope: string): string => sign({ sub: clientId, scope });
