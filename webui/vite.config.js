// Vite build of the ims web UI (Preact with JSX through esbuild, no plugins).
// The output in dist/ is served by ims-webapi at /ui/ under a strict
// Content-Security-Policy (script-src 'self', style-src 'self'): no inline
// script or style in index.html, so the module-preload polyfill (an inline
// script) is off and every asset is a file. docs/webui.md.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  resolve: {
    alias: { react: "preact/compat", "react-dom": "preact/compat" },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2020",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0, // no data: URLs for assets
    cssCodeSplit: true,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
