import { inferboxError } from './errors.js';

/**
 * Model names become folder names and URL segments, so they are kept to a safe alphabet:
 * no path separators, no leading dot, no traversal. Versions are OIP-style increasing integers.
 */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const VERSION = /^[1-9][0-9]{0,8}$/;

export function assertModelName(name: string): string {
  if (!MODEL_NAME.test(name) || name.includes('..')) {
    throw inferboxError(
      'IBX_ERR_INVALID_NAME',
      `invalid model name '${name}': use 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

export function assertVersion(version: string): string {
  if (!VERSION.test(version)) {
    throw inferboxError('IBX_ERR_INVALID_NAME', `invalid version '${version}': versions are positive integers such as "1"`);
  }
  return version;
}
