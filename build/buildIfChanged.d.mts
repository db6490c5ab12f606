/** Types of buildIfChanged.mjs (plain JavaScript so that `npm start` runs it with node before anything is compiled). */
export interface BuildTarget {
  name: string;
  /** Files and folders (relative to the root) whose contents decide the output. */
  inputs: string[];
  /** A file the build makes (relative to the root): a missing one means rebuild. */
  output: string;
  /** argv of the build, run in the root with process.execPath. */
  command: string[];
  /** Files to delete before building when the output is missing. */
  forgetOnMissingOutput?: string[];
}

export interface BuildOutcome {
  name: string;
  built: boolean;
  reason: string;
  ms: number;
}

export function startTargets(root: string): BuildTarget[];
export function fingerprint(root: string, inputs: string[]): string;
export function buildIfChanged(root: string, targets: BuildTarget[], options?: { log?: (line: string) => void; force?: boolean }): BuildOutcome[];
