import 'reflect-metadata';
import { isObjectType, type GraphQLResolveInfo } from 'graphql';
import { buildSubgraph, directFieldResolvers } from './schema';

describe('field resolvers called without type-graphql\'s handler', () => {
  it('are those taking only an untyped root and the context; arguments and typed roots keep the handler', async () => {
    await buildSubgraph();
    const direct = new Set(directFieldResolvers().map(({ type, field }) => `${type}.${field}`));
    for (const field of ['Membership.email', 'Membership.displayName', 'Membership.user', 'Membership.organization', 'Workspace.organization']) {
      expect(direct).toContain(field);
    }
    // Organization.members takes arguments; Invitation's fields take an InvitationEntity, which type-graphql converts.
    for (const field of ['Organization.members', 'Organization.workspaces', 'Invitation.status', 'Invitation.organization']) {
      expect(direct).not.toContain(field);
    }
  });

  it('answer through the built schema with the root and context they are given', async () => {
    const membership = (await buildSubgraph()).getType('Membership');
    if (!isObjectType(membership)) throw new Error('no Membership type');
    const { email, displayName, user } = membership.getFields();
    const root = { userId: 'u-1', profile: { email: 'a@b.test', name: null } };
    const info = {} as GraphQLResolveInfo;
    expect(email.resolve!(root, {}, {}, info)).toBe('a@b.test');
    expect(displayName.resolve!(root, {}, {}, info)).toBe('a@b.test');
    expect(user.resolve!(root, {}, {}, info)).toEqual({ id: 'u-1' });
  });
});
