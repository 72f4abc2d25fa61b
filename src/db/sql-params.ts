/** Builds `$n` placeholders while collecting their values, for a statement whose conditions depend on its arguments. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
