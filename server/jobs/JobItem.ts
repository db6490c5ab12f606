/** One item of a job upload: its OIP infer request body and where it came from, for error messages. */
export interface JobItem {
  /** `items[3]` for a JSON body, `line 7` for a JSON-lines or CSV file. */
  label: string;
  request: unknown;
}
