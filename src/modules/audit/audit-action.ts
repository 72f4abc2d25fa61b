import { badInput } from '../../errors';

/**
 * Who owns an action's name. Core actions are `<target>.<verb>` (two segments); a partner's are
 * `<client id>.<target>.<verb>` (three), so neither can ever pass for the other: the origin is
 * read from the stored action, and the hash-chained table needs no column for it.
 */
export enum AuditEventOrigin {
  CORE = 'CORE',
  PARTNER = 'PARTNER',
}

const SEGMENT = '[a-z][a-z0-9_]*';
const CORE_ACTION = new RegExp(`^${SEGMENT}\\.${SEGMENT}$`);
/** A client id that can begin an action: no dot (the separator), nothing a reader could misread. */
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const MAX_NAME = 100;

/** Anything but the core shape is a partner's: an event claims to be core only when it looks it. */
export function auditOrigin(action: string): AuditEventOrigin {
  return CORE_ACTION.test(action) ? AuditEventOrigin.CORE : AuditEventOrigin.PARTNER;
}

/** The core writes only `<target>.<verb>`; anything else would read as a partner's event. */
export function assertCoreAction(action: string): void {
  if (!CORE_ACTION.test(action)) throw new Error(`Core audit action ${JSON.stringify(action)} is not <target>.<verb>`);
}

/**
 * A partner's action must be its own: the calling service's client id (the JWT `sub`, exactly,
 * case included), then `<target>.<verb>`. A client id outside CLIENT_ID cannot name one: mapping
 * it onto the allowed characters could make two clients one, so it is refused instead.
 */
export function partnerAction(clientId: string, action: string): string {
  if (!CLIENT_ID.test(clientId)) {
    throw badInput(
      'action',
      'action must be <client id>.<target>.<verb>, and this service\'s client id cannot begin one: a client id that records audit events is 1 to 100 letters, digits, - or _',
    );
  }
  const name = action.startsWith(`${clientId}.`) ? action.slice(clientId.length + 1) : null;
  if (name === null || name.length > MAX_NAME || !CORE_ACTION.test(name)) {
    throw badInput(
      'action',
      `action must be ${clientId}.<target>.<verb>: this service's client id, then two lower-case words (a-z, 0-9, _) separated by a dot, at most ${MAX_NAME} characters after the client id`,
    );
  }
  return action;
}
