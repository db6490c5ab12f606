/** One numbered schema change. `up` runs inside a transaction together with the version bump. */
export interface Migration {
  version: number;
  name: string;
  up: string;
}
