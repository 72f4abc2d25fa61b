import { ConfigError, loadConfig, type Config } from './config';

/**
 * config → the application (src/start.ts). The application's modules are loaded only once the
 * configuration is known to be good: a refusal answers in a fraction of a second, not after
 * loading every module.
 */
async function main(): Promise<void> {
  const started = Date.now();
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded here, after the check, on purpose
  const { start } = require('./start') as typeof import('./start');
  await start(config, started);
}

void main();
