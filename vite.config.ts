import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// The renderer is a static bundle: served as app://medtune/ by Electron and from 127.0.0.1 in browser mode.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [vue()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'es2022',
    // Inline nothing as data: URLs for scripts so the CSP (script-src 'self') holds.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
