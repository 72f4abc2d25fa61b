import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { bearerToken } from '../../../auth/tokens';
import { RequestContext, type AppServices } from '../../../context';
import { requestInfo } from '../../../http/request-info';
import { unauthenticated } from '../../../errors';
import { authenticateDirectoryToken, DIRECTORY_TOKEN_PREFIX } from '../directory.service';
import { createGroup, deleteGroup, getGroup, listGroups, patchGroup, putGroup, toScimGroups } from './scim.groups';
import { SCIM_CONTENT_TYPE, ScimError, scimErrorHandler } from './scim.errors';
import { GROUP_SCHEMA, pageOf, USER_SCHEMA } from './scim.request';
import { createUser, deleteUser, getUser, listUsers, patchUser, putUser, toScimUser } from './scim.users';
import type { Database } from '../../../db/database';
import type { Logger } from '../../../logger';

/*
 * SCIM 2.0 (RFC 7643, RFC 7644) at /scim/v2, in this process: a directory's token
 * (`Bearer scim_…`) reaches its own organization's Users and Groups and nothing else, every
 * statement through the request's Database as that organization's tenant (the row-level wall),
 * every change one transaction with its audit event (actor DIRECTORY).
 */

const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** The base URL the client reached: meta.location and $ref are absolute (RFC 7643 §3.1). */
const baseOf = (req: Request) => `${req.protocol}://${req.get('host')}${req.baseUrl}`;

function send(res: Response, status: number, body: unknown, location?: string): void {
  if (location) res.set('location', location);
  statementCount(res);
  res.status(status).type(SCIM_CONTENT_TYPE).send(JSON.stringify(body));
}

/** X-SQL-Statements, as GraphQL answers carry it where EXPOSE_SQL_COUNT allows (the bench reads it). */
function statementCount(res: Response): void {
  const db = res.locals.scimDb as Database | undefined;
  if (db) res.set('x-sql-statements', String(db.tally.statements));
}

const listResponse = (total: number, startIndex: number, resources: unknown[]) => ({
  schemas: [LIST_SCHEMA],
  totalResults: total,
  startIndex,
  itemsPerPage: resources.length,
  Resources: resources,
});

const query = (req: Request, name: string): string | undefined => {
  const value = req.query[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/** `excludedAttributes=members` (Entra reads groups so): the members are not read at all. */
const withMembers = (req: Request) => !(query(req, 'excludedAttributes') ?? '').toLowerCase().split(',').map((a) => a.trim()).includes('members');

type Handler = (ctx: RequestContext, req: Request, res: Response) => Promise<void>;

/** A client without a valid directory token gets 401 before anything else is read. */
function authenticated(app: AppServices, handler: Handler): RequestHandler {
  return async (req, res) => {
    const request = requestInfo(req, res);
    const db = app.db.forRequest();
    if (app.config.exposeSqlCount) res.locals.scimDb = db;
    let token: string | undefined;
    try {
      token = bearerToken(req.get('authorization'));
    } catch {
      throw unauthenticated('Send the directory token as "Authorization: Bearer scim_…"');
    }
    if (!token?.startsWith(DIRECTORY_TOKEN_PREFIX)) throw unauthenticated('Send the directory token as "Authorization: Bearer scim_…"');
    const principal = await authenticateDirectoryToken(db, token);
    await handler(new RequestContext(app, request, principal, null, db), req, res);
  };
}

const SERVICE_PROVIDER_CONFIG = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
  documentationUri: 'https://github.com/organizations-subgraph#scim-20-provisioning',
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: 1000 },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: false },
  authenticationSchemes: [
    { type: 'oauthbearertoken', name: 'Directory token', description: 'Authorization: Bearer scim_… (createDirectoryToken)', primary: true },
  ],
  meta: { resourceType: 'ServiceProviderConfig' },
};

const attribute = (name: string, more: Record<string, unknown> = {}) =>
  Object.assign({ name, type: 'string', multiValued: false, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none' }, more);

const SCHEMAS = [
  {
    id: USER_SCHEMA,
    name: 'User',
    description: 'A membership of the organization; userName is the person\'s email, which it binds to when they sign in.',
    attributes: [
      attribute('userName', { required: true, uniqueness: 'server' }),
      attribute('externalId', { caseExact: true }),
      attribute('displayName'),
      attribute('name', { type: 'complex', subAttributes: [attribute('givenName'), attribute('familyName')] }),
      attribute('emails', { type: 'complex', multiValued: true, subAttributes: [attribute('value'), attribute('type'), attribute('primary', { type: 'boolean' })] }),
      attribute('active', { type: 'boolean' }),
    ],
    meta: { resourceType: 'Schema', location: `/Schemas/${USER_SCHEMA}` },
  },
  {
    id: GROUP_SCHEMA,
    name: 'Group',
    description: 'A group of the directory; setDirectoryGroupMapping says what its members get.',
    attributes: [
      attribute('displayName', { required: true, uniqueness: 'server' }),
      attribute('externalId', { caseExact: true }),
      attribute('members', {
        type: 'complex',
        multiValued: true,
        subAttributes: [attribute('value', { mutability: 'immutable' }), attribute('display', { mutability: 'readOnly' })],
      }),
    ],
    meta: { resourceType: 'Schema', location: `/Schemas/${GROUP_SCHEMA}` },
  },
];

const RESOURCE_TYPES = [
  { schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'], id: 'User', name: 'User', endpoint: '/Users', schema: USER_SCHEMA, meta: { resourceType: 'ResourceType', location: '/ResourceTypes/User' } },
  { schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'], id: 'Group', name: 'Group', endpoint: '/Groups', schema: GROUP_SCHEMA, meta: { resourceType: 'ResourceType', location: '/ResourceTypes/Group' } },
];

/** The /scim/v2 router. `inTurn`: the process's operation gate, shared with GraphQL. */
export function scimRouter(app: AppServices, inTurn: (handler: RequestHandler) => RequestHandler, logger: Logger): Router {
  const router = Router();
  const route = (handler: Handler) => inTurn(authenticated(app, handler));
  // SCIM clients send application/scim+json (some application/json).
  router.use(express.json({ limit: '1mb', type: ['application/scim+json', 'application/json'] }));

  // Discovery needs the token too: it tells a client nothing it could not learn once connected.
  router.get('/ServiceProviderConfig', route(async (_ctx, req, res) => send(res, 200, { ...SERVICE_PROVIDER_CONFIG, meta: { ...SERVICE_PROVIDER_CONFIG.meta, location: `${baseOf(req)}/ServiceProviderConfig` } })));
  router.get('/ResourceTypes', route(async (_ctx, _req, res) => send(res, 200, listResponse(RESOURCE_TYPES.length, 1, RESOURCE_TYPES))));
  router.get('/ResourceTypes/:id', route(async (_ctx, req, res) => {
    const type = RESOURCE_TYPES.find((t) => t.id === req.params.id);
    if (!type) throw new ScimError(404, 'No such resource type');
    send(res, 200, type);
  }));
  router.get('/Schemas', route(async (_ctx, _req, res) => send(res, 200, listResponse(SCHEMAS.length, 1, SCHEMAS))));
  router.get('/Schemas/:id', route(async (_ctx, req, res) => {
    const schema = SCHEMAS.find((s) => s.id === req.params.id);
    if (!schema) throw new ScimError(404, 'No such schema');
    send(res, 200, schema);
  }));

  router.get('/Users', route(async (ctx, req, res) => {
    const { startIndex, count } = pageOf(req.query);
    const page = await listUsers(ctx, query(req, 'filter'), startIndex, count);
    send(res, 200, listResponse(page.total, page.startIndex, page.rows.map((u) => toScimUser(u, baseOf(req)))));
  }));
  router.post('/Users', route(async (ctx, req, res) => {
    const user = toScimUser(await createUser(ctx, req.body), baseOf(req));
    send(res, 201, user, user.meta.location);
  }));
  router.get('/Users/:id', route(async (ctx, req, res) => send(res, 200, toScimUser(await getUser(ctx, String(req.params.id)), baseOf(req)))));
  router.put('/Users/:id', route(async (ctx, req, res) => send(res, 200, toScimUser(await putUser(ctx, String(req.params.id), req.body), baseOf(req)))));
  router.patch('/Users/:id', route(async (ctx, req, res) => send(res, 200, toScimUser(await patchUser(ctx, String(req.params.id), req.body), baseOf(req)))));
  router.delete('/Users/:id', route(async (ctx, req, res) => {
    await deleteUser(ctx, String(req.params.id));
    statementCount(res);
    res.status(204).end();
  }));

  router.get('/Groups', route(async (ctx, req, res) => {
    const { startIndex, count } = pageOf(req.query);
    const page = await listGroups(ctx, query(req, 'filter'), startIndex, count);
    send(res, 200, listResponse(page.total, page.startIndex, await toScimGroups(ctx.db, page.rows, baseOf(req), withMembers(req))));
  }));
  router.post('/Groups', route(async (ctx, req, res) => {
    const [group] = await toScimGroups(ctx.db, [await createGroup(ctx, req.body)], baseOf(req), true);
    send(res, 201, group, group.meta.location);
  }));
  router.get('/Groups/:id', route(async (ctx, req, res) => {
    const [group] = await toScimGroups(ctx.db, [await getGroup(ctx, String(req.params.id))], baseOf(req), withMembers(req));
    send(res, 200, group);
  }));
  router.put('/Groups/:id', route(async (ctx, req, res) => {
    const [group] = await toScimGroups(ctx.db, [await putGroup(ctx, String(req.params.id), req.body)], baseOf(req), true);
    send(res, 200, group);
  }));
  router.patch('/Groups/:id', route(async (ctx, req, res) => {
    const group = await patchGroup(ctx, String(req.params.id), req.body);
    // RFC 7644 §3.5.2: 204 when the client did not ask for attributes; the group otherwise.
    if (!query(req, 'attributes')) {
      statementCount(res);
      res.status(204).end();
      return;
    }
    const [scim] = await toScimGroups(ctx.db, [group], baseOf(req), withMembers(req));
    send(res, 200, scim);
  }));
  router.delete('/Groups/:id', route(async (ctx, req, res) => {
    await deleteGroup(ctx, String(req.params.id));
    res.status(204).end();
  }));

  router.use((_req, _res, next) => next(new ScimError(404, 'No such SCIM endpoint')));
  router.use(scimErrorHandler(logger));
  return router;
}
