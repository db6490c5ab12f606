// npm run dist:dir: the unpacked Linux app, offline (see offlinePackage.ts). Run after `npm run build`.
import { packLinuxDir } from './offlinePackage.js';

console.log(packLinuxDir());
