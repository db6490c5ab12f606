import { inferboxError } from './errors.js';

/**
 * Model names become folder names and URL segments, so they are kept to a safe alphabet:
 * no path separators, no leading or trailing dot, no traversal, lowercase only (on the
 * case-insensitive file systems of Windows and macOS "A" and "a" would share a folder), and none
 * of Windows' reserved device names. Versions are OIP-style increasing integers.
 */
const MODEL_NAME = /^[a-z0-9][a-z0-9_.-]{0,127}$/;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/;
const VERSION = /^[1-9][0-9]{0,8}$/;

export function assertModelName(name: string): string {
  if (!MODEL_NAME.test(name) || name.includes('..') || name.endsWith('.') || WINDOWS_RESERVED.test(name)) {
    throw inferboxError(
      'IBX_ERR_INVALID_NAME',
      `invalid model name '${name}': use 1-128 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit, not ending with '.', and not a reserved device name such as 'con'`,
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
