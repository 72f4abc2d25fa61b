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
