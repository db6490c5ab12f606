/** What a named-feature prediction request carries, by how it was sent. */
export type PredictInput =
  /** JSON `{"rows": [...]}`: typed values. */
  | { kind: 'rows'; rows: unknown[] }
  /** multipart/form-data: one row; fields are text (parsed per feature type), files are images. */
  | { kind: 'form'; fields: Record<string, string>; files: Record<string, Buffer> }
  /** A raw image/jpeg, image/png or image/webp body: one row with the card's one image feature. */
  | { kind: 'image'; bytes: Buffer };
