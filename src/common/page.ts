import { ArgsType, Field, Int } from 'type-graphql';
import { badInput } from '../errors';
import { isUuid } from './ids';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** `first` and `after` of every connection field. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: `At most ${MAX_PAGE_SIZE}; ${DEFAULT_PAGE_SIZE} when omitted.` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' })
  after?: string | null;
}

/** A keyset page: up to `first` rows after the row `afterId`, in id order. */
export interface Page {
  first: number;
  /** The id the page starts after, decoded from the cursor. */
  afterId: string | null;
}

/** `first` as a page size: the default when absent, BAD_USER_INPUT past 0 to MAX_PAGE_SIZE. */
export function pageSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) throw badInput('first', `first must be between 0 and ${MAX_PAGE_SIZE}`);
  return size;
}

/** Validates `first` and `after` into a keyset page: BAD_USER_INPUT naming the field otherwise. */
export function toPage(args: PageArgs): Page {
  const first = pageSize(args.first);
  let afterId: string | null = null;
  if (args.after) {
    afterId = Buffer.from(args.after, 'base64url').toString('utf8');
    if (!isUuid(afterId)) throw badInput('after', 'after is not a cursor this API returned');
  }
  return { first, afterId };
}

/** A cursor is the row's id in base64url: opaque to clients, checked by `toPage` when it comes back. */
export const encodeCursor = (id: string): string => Buffer.from(id, 'utf8').toString('base64url');
