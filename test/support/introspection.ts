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

export interface SchemaTypeInfo {
  kind: string;
  inputFields: InputValue[] | null;
  enumValues: { name: string }[] | null;
}

export const isList = (t: TypeRef): boolean => t.kind === 'LIST' || (t.kind === 'NON_NULL' && t.ofType!.kind === 'LIST');

/**
 * A value for an argument (or input field) `name` of `type`, for the suites generated from the
 * schema: `choose` decides first (an id where an ID goes, say; undefined: no opinion), then
 * something plausible — a filler string, 1, false, tomorrow, the enum's first value, an input
 * object with its required fields and IDs (`allFields`: every field).
 */
export function fillArgument(
  types: ReadonlyMap<string, SchemaTypeInfo>,
  name: string,
  type: TypeRef,
  choose: (name: string, base: TypeRef) => unknown,
  allFields = false,
): unknown {
  const base = named(type);
  const one = (() => {
    const chosen = choose(name, base);
    if (chosen !== undefined) return chosen;
    if (base.name === 'String') return name.toLowerCase().includes('email') ? 'someone@example.test' : 'Filler';
    if (base.name === 'Int') return 1;
    if (base.name === 'Boolean') return false;
    if (base.name === 'DateTime') return new Date(Date.now() + 86_400_000).toISOString();
    const info = types.get(base.name!);
    if (base.kind === 'ENUM') return info!.enumValues![0].name;
    if (base.kind === 'INPUT_OBJECT') {
      const fields = (info!.inputFields ?? []).filter((f) => allFields || required(f.type) || named(f.type).name === 'ID');
      return Object.fromEntries(fields.map((f) => [f.name, fillArgument(types, f.name, f.type, choose, allFields)]));
    }
    return null;
  })();
  return isList(type) ? [one] : one;
}
