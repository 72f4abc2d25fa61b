import { Arg, Ctx, Directive, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context';
import { authorize } from './authorization.service';
import { AuthorizationCheckInput, AuthorizationDecision } from './authorization.types';

@Resolver(() => AuthorizationDecision)
export class AuthorizationResolver {
  @Directive('@requiresScopes(scopes: [["authz:check"]])')
  @Query(() => [AuthorizationDecision], {
    description:
      'Partner services, scope authz:check: up to 100 checks (people or API keys, an organization and optionally a workspace, any permission key), answered in input order with a reason. One SQL statement per kind of subject, whatever the number of checks. An unknown permission key is BAD_USER_INPUT naming it.',
  })
  authorize(@Ctx() ctx: RequestContext, @Arg('checks', () => [AuthorizationCheckInput]) checks: AuthorizationCheckInput[]): Promise<AuthorizationDecision[]> {
    return authorize(ctx, checks);
  }
}
