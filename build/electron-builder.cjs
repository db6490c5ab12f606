// electron-builder configuration for the Inferbox desktop appliance (see build/README.md).
//   Release build (machine with internet): npm run dist      (Electron downloaded, better-sqlite3 rebuilt for Electron's ABI)
//   Offline structural build (this CI):     npm run dist:dir  (stub electronDist, npmRebuild off: not a runnable app)
// A .cjs file, not YAML: electron-builder replaces (does not merge) the top-level `files` with a platform's
// own `files`, so each platform gets the full list computed here, with the other platforms' ORT binaries excluded.

/** What goes into app.asar besides the production node_modules (which electron-builder adds itself, dependencies
 * only, never devDependencies): the compiled code, the console build and the bundled default model.
 * packageRoot() needs package.json and models/ side by side. */
const COMMON_FILES = [
  'package.json',
  'dist/server/**/*',
  'dist/electron/**/*',
  '!dist/**/*.map',
  'renderer/dist/**/*',
  'models/*/model.onnx',
  'models/*/model.json',
  'models/*/samples.json',
  'models/*/card.json',
  // the OIP v2 gRPC service definition, loaded at start (packageRoot()/proto)
  'proto/*.proto',
  // sources and build leftovers of the native modules
  '!node_modules/better-sqlite3/{src,deps,docs}/**',
  '!node_modules/better-sqlite3/build/Release/{obj,obj.target,.deps}/**',
  '!node_modules/better-sqlite3/build/Release/test_extension.node',
  '!node_modules/better-sqlite3/build/{deps,*.mk,Makefile,config.gypi,binding.Makefile}',
  '!node_modules/onnxruntime-node/script/**',
  '!node_modules/**/*.{map,md,ts}',
  // type declarations pulled in by protobufjs (@types/node, @types/long): never loaded at run time
  '!node_modules/{@types,undici-types}/**',
];

/** onnxruntime-node ships binaries for darwin, linux and win32 (~100 MB each); a package keeps its own. */
const ORT_PLATFORMS = ['darwin', 'linux', 'win32'];
const filesFor = (ortPlatform) => [
  ...COMMON_FILES,
  ...ORT_PLATFORMS.filter((p) => p !== ortPlatform).map((p) => `!node_modules/onnxruntime-node/bin/napi-v6/${p}/**`),
  // ...and its own architecture only (x64 and arm64 builds are separate packages). electron-builder
  // expands ${arch} per build; !(…) is minimatch's "anything but".
  `!node_modules/onnxruntime-node/bin/napi-v6/${ortPlatform}/!(\${arch})/**`,
  // koffi (FreedMemory) ships prebuilt binaries for 18 platforms (26 MB): a package keeps its own.
  `!node_modules/koffi/build/koffi/!(${ortPlatform}_\${arch})/**`,
  '!node_modules/koffi/{src,vendor,doc}/**',
];

module.exports = {
  appId: 'dev.inferbox.appliance',
  productName: 'Inferbox',
  copyright: 'Copyright © Inferbox contributors',
  // `electron` is not a devDependency (its binary cannot be downloaded here), so the version is stated.
  electronVersion: '45.3.4',
  directories: { output: 'release', buildResources: 'build' },
  extraMetadata: { main: 'dist/electron/main.js' },
  files: COMMON_FILES,
  asar: true,
  // Native code cannot be loaded from inside an asar: the addons and ORT's shared libraries (and the CUDA
  // provider of a GPU edition, which `npm run gpu:install` puts in the same folder) go to app.asar.unpacked.
  // sharp's addon loads libvips from its @img/sharp-libvips-<platform> package by a relative path, so
  // both @img packages are unpacked whole (npm installs only the building platform's).
  asarUnpack: ['**/*.node', 'node_modules/onnxruntime-node/bin/**', 'node_modules/@img/**'],
  // A release build rebuilds better-sqlite3 for Electron's ABI (needs Electron's headers from the internet).
  // dist:dir turns this off on the command line (-c.npmRebuild=false).
  npmRebuild: true,
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Development',
    executableName: 'inferbox',
    icon: 'icon.png',
    synopsis: 'Local model-serving appliance',
    maintainer: 'Inferbox <inferbox@localhost>',
    files: filesFor('linux'),
  },
  deb: { packageCategory: 'devel' },
  win: { target: 'nsis', icon: 'icon.png', files: filesFor('win32') },
  nsis: { oneClick: true, perMachine: false, runAfterFinish: true },
  mac: { target: 'dmg', category: 'public.app-category.developer-tools', icon: 'icon.png', files: filesFor('darwin') },
};
