import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';

/** Every regular file under `root` as archive paths (forward slashes, relative); missing root → none. */
export async function listFiles(root: string, prefix = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    const path = prefix ? posix.join(prefix, entry.name) : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(join(root, entry.name), path)));
    else if (entry.isFile()) files.push(path);
  }
  return files.sort();
}
