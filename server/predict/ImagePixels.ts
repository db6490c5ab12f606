/** An image already decoded, resized and normalized for one image feature (prepareImage's result). */
export class ImagePixels {
  constructor(readonly data: Float32Array) {}
}
