import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config';

describe('GRAPHIQL', () => {
  const production = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: randomBytes(32).toString('base64') };

  it('is on outside production and off in it unless GRAPHIQL=true, like the landing page', () => {
    expect(loadConfig({}).graphiql).toBe(true);
    expect(loadConfig({ GRAPHIQL: 'false' }).graphiql).toBe(false);
    expect(loadConfig(production).graphiql).toBe(false);
    expect(loadConfig({ ...production, GRAPHIQL: 'true' }).graphiql).toBe(true);
  });
});
