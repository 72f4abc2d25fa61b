const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether an id from outside can be one of ours: anything else is NOT_FOUND without a statement (a `::uuid` cast of it would fail the statement). */
export const isUuid = (value: string): boolean => UUID.test(value);
