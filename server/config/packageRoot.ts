import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed package's folder (holding package.json and the bundled models/), found by walking
 * up from this file, so it is right both from server/ under tsx and from dist/server/ when built.
 */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'models'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no Inferbox package root above ${from}`);
    dir = parent;
  }
}

export function packageVersion(root: string = packageRoot()): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}
