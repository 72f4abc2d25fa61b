/** Introspection shapes and helpers shared by the suites generated from the schema. */
export interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
export interface InputValue {
  name: string;
  type: TypeRef;
}
export interface Field {
  name: string;
  args: InputValue[];
  type: TypeRef;
}

/** The named type under NON_NULL and LIST wrappers. */
export const named = (t: TypeRef): TypeRef => (t.ofType ? named(t.ofType) : t);
export const required = (t: TypeRef) => t.kind === 'NON_NULL';

/** Every query and mutation with its arguments, and every type's input fields and enum values. */
export const INTROSPECTION = `{ __schema {
  queryType { fields { name args { name type { ...T } } type { ...T } } }
  mutationType { fields { name args { name type { ...T } } type { ...T } } }
  types { name kind inputFields { name type { ...T } } enumValues { name } }
} }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`;

/** A type reference as a variable declaration writes it: `[ID!]!`. */
export const typeString = (t: TypeRef): string => (t.kind === 'NON_NULL' ? `${typeString(t.ofType!)}!` : t.kind === 'LIST' ? `[${typeString(t.ofType!)}]` : t.name!);
