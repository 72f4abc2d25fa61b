/** A User representation needs no lookup: the accounts subgraph owns users; we only add fields. */
export const userReference = {
  User: {
    __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
  },
};
