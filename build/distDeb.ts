// npm run dist:deb: the .deb from the unpacked Linux app, offline (see offlinePackage.ts).
import { buildDeb, packLinuxDir } from './offlinePackage.js';

console.log(buildDeb(packLinuxDir()));
