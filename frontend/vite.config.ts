import { defineConfig } from 'vite';

// The Go binary embeds frontend/dist (//go:embed all:frontend/dist), so assets
// must use relative URLs (base './'): the same build is served by the Wails
// asset server on the desktop and by `lightbox serve` in a browser.
const backend = process.env.LIGHTBOX_DEV_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: false, // keep dist/.gitkeep; `npm run build` empties dist/assets first (old bundles would be embedded)
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
  },
  worker: { format: 'es' },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/files': { target: backend, changeOrigin: false },
    },
  },
});
