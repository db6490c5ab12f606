import type { Metadata, default as Sharp } from 'sharp';

/**
 * sharp (libvips, a native library) loads on the first image, not at start-up: most servers never
 * decode one, and loading it took ~0.15 s of every start (issue 17).
 */
let loading: Promise<typeof Sharp> | undefined;
const loadSharp = () => (loading ??= import('sharp').then((module) => module.default));
import { inferboxError, messageOf } from '../common/errors.js';
import { ImagePixels } from './ImagePixels.js';
import type { ImageSpec } from './modelCard.js';

/**
 * Raster formats taken. SVG, PDF and the like are refused: rendering them runs much more code on
 * untrusted input, and a business app sends photos and scans.
 */
const FORMATS = new Set(['jpeg', 'png', 'webp']);

/** The size an image is resized to before padding: fits inside the target, aspect ratio kept. */
function fitInside(width: number, height: number, spec: ImageSpec): { width: number; height: number } {
  const scale = Math.min(spec.width / width, spec.height / height);
  return { width: Math.min(spec.width, Math.max(1, Math.round(width * scale))), height: Math.min(spec.height, Math.max(1, Math.round(height * scale))) };
}

/**
 * Decodes an image (sharp/libvips), turns it upright by its EXIF orientation, flattens
 * transparency onto white, resizes it as the card says and normalizes every pixel to
 * (value × scale − mean[c]) / std[c] in the card's channel order and layout. The pixel limit is
 * checked on the header before anything is decoded; corrupt or truncated files are a 400.
 */
export async function prepareImage(name: string, bytes: Buffer, spec: ImageSpec, maxPixels: number): Promise<ImagePixels> {
  const sharp = await loadSharp();
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes).metadata();
  } catch (error) {
    throw inferboxError('IBX_ERR_IMAGE_INVALID', name, messageOf(error));
  }
  if (!FORMATS.has(metadata.format)) throw inferboxError('IBX_ERR_IMAGE_INVALID', name, `${metadata.format} is not taken; send PNG, JPEG or WebP`);
  // Orientations 5–8 turn the image on its side: width and height swap once it is upright.
  const sideways = (metadata.orientation ?? 1) >= 5;
  const width = sideways ? metadata.height : metadata.width;
  const height = sideways ? metadata.width : metadata.height;
  if (width * height > maxPixels) throw inferboxError('IBX_ERR_IMAGE_TOO_LARGE', name, width, height, maxPixels);
  const gray = spec.channels === 'gray';
  const target = spec.resize === 'pad' ? fitInside(width, height, spec) : { width: spec.width, height: spec.height };
  let raw: Buffer;
  try {
    let pipeline = sharp(bytes, { limitInputPixels: maxPixels }).rotate().flatten({ background: '#ffffff' });
    pipeline = gray ? pipeline.grayscale() : pipeline.toColourspace('srgb');
    raw = await pipeline.resize(target.width, target.height, { fit: spec.resize === 'cover' ? 'cover' : 'fill' }).raw().toBuffer();
  } catch (error) {
    throw inferboxError('IBX_ERR_IMAGE_INVALID', name, messageOf(error));
  }
  const channels = gray ? 1 : 3;
  const { width: W, height: H } = spec;
  const pixels = new Float32Array(channels * W * H).fill(spec.pad_value);
  const mean = (c: number) => spec.mean[spec.mean.length === 1 ? 0 : c]!;
  const std = (c: number) => spec.std[spec.std.length === 1 ? 0 : c]!;
  for (let y = 0; y < target.height; y++) {
    for (let x = 0; x < target.width; x++) {
      for (let c = 0; c < channels; c++) {
        // sharp gives RGB; a BGR model (OpenCV-trained) reads the channels the other way round.
        const source = spec.channels === 'bgr' ? 2 - c : c;
        const value = (raw[(y * target.width + x) * channels + source]! * spec.scale - mean(c)) / std(c);
        pixels[spec.layout === 'nchw' ? c * H * W + y * W + x : (y * W + x) * channels + c] = value;
      }
    }
  }
  return new ImagePixels(pixels);
}
