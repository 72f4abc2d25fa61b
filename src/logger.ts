import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    // Secrets never reach the log, whatever object a caller passes.
    redact: {
      paths: ['*.authorization', '*.Authorization', '*.password', '*.secret', '*.token', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
