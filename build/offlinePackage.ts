/**
 * Offline packaging (this CI, no internet): the unpacked Linux app built by electron-builder against a stub
 * Electron, and a .deb made from it with dpkg-deb. The payload (app.asar, app.asar.unpacked) is the real one;
 * the Electron binary is not (it cannot be downloaded here), so the result is checked, not run as a desktop app.
 * Release installers come from `npm run dist` on a machine with internet (build/README.md).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..');
const BUILDER = join(REPO_ROOT, 'node_modules', '.bin', 'electron-builder');
const CONFIG = join(REPO_ROOT, 'build', 'electron-builder.cjs');

/** A stand-in for Electron's distribution: one executable named `electron` that says what it is and fails. */
export function writeStubElectron(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, 'electron');
  writeFileSync(exe, '#!/bin/sh\necho "Inferbox offline build: this is a stub, not Electron (see build/README.md)" >&2\nexit 1\n');
  chmodSync(exe, 0o755);
  return dir;
}

/**
 * `electron-builder --linux dir` with electronDist → a stub and npmRebuild off (better-sqlite3 stays built for
 * this Node, not Electron's ABI). Needs `npm run build` first. Returns the unpacked app folder.
 */
export function packLinuxDir(outDir: string = join(REPO_ROOT, 'release')): string {
  const stub = writeStubElectron(join(REPO_ROOT, '.tmp', 'electron-stub'));
  rmSync(join(outDir, 'linux-unpacked'), { recursive: true, force: true });
  execFileSync(BUILDER, ['--linux', 'dir', '--x64', '--config', CONFIG, `-c.electronDist=${stub}`, '-c.npmRebuild=false', `-c.directories.output=${outDir}`], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ELECTRON_BUILDER_OFFLINE: 'true' },
  });
  return join(outDir, 'linux-unpacked');
}

/** Runtime libraries Electron needs on Debian/Ubuntu (electron-builder's own deb target declares the same). */
const DEB_DEPENDS = ['libgtk-3-0', 'libnotify4', 'libnss3', 'libxss1', 'libxtst6', 'xdg-utils', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0'];

/**
 * The .deb that electron-builder's deb target would make (its fpm tool needs a download): the app under
 * /opt/Inferbox, a launcher in /usr/bin, a .desktop entry and the icon. Returns the .deb path.
 */
export function buildDeb(unpackedDir: string, outDir: string = join(REPO_ROOT, 'release')): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; description: string };
  const root = join(outDir, 'deb-root');
  rmSync(root, { recursive: true, force: true });
  cpSync(unpackedDir, join(root, 'opt', 'Inferbox'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
  symlinkSync('/opt/Inferbox/inferbox', join(root, 'usr', 'bin', 'inferbox'));
  const icons = join(root, 'usr', 'share', 'icons', 'hicolor', '512x512', 'apps');
  mkdirSync(icons, { recursive: true });
  copyFileSync(join(REPO_ROOT, 'build', 'icon.png'), join(icons, 'inferbox.png'));
  const apps = join(root, 'usr', 'share', 'applications');
  mkdirSync(apps, { recursive: true });
  writeFileSync(join(apps, 'inferbox.desktop'), [
    '[Desktop Entry]', 'Name=Inferbox', 'Comment=Local model-serving appliance', 'Exec=/opt/Inferbox/inferbox %U',
    'Icon=inferbox', 'Terminal=false', 'Type=Application', 'Categories=Development;', 'StartupWMClass=Inferbox', '',
  ].join('\n'));
  mkdirSync(join(root, 'DEBIAN'));
  writeFileSync(join(root, 'DEBIAN', 'control'), [
    'Package: inferbox', `Version: ${pkg.version}`, 'Section: devel', 'Priority: optional', 'Architecture: amd64',
    `Depends: ${DEB_DEPENDS.join(', ')}`, 'Maintainer: Inferbox <inferbox@localhost>', 'Homepage: https://localhost/inferbox',
    `Description: Inferbox, a local model-serving appliance`, ` ${pkg.description}`, '',
  ].join('\n'));
  const deb = join(outDir, `inferbox_${pkg.version}_amd64.deb`);
  // gzip, not dpkg's default xz: a few seconds instead of ~a minute for ~80 MB, at some size cost.
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', root, deb], { stdio: ['ignore', 'pipe', 'pipe'] });
  rmSync(root, { recursive: true, force: true });
  return deb;
}
