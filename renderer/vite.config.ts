import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The console is served by the appliance itself at / (server/protocol/routes/consoleRoutes.ts).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1500 },
});
