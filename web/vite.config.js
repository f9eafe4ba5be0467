// Builds the browser client into the Python package (voxswitch/static/), which
// the server serves at "/". Run with `make web`; Node.js is needed only here.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  // Relative asset URLs, so the page also works behind a path prefix.
  base: "./",
  resolve: {
    // Unused by this page (it brings its own media manager): see src/without-daily.js.
    alias: {
      "@daily-co/daily-js": fileURLToPath(new URL("./src/without-daily.js", import.meta.url)),
    },
  },
  build: {
    outDir: fileURLToPath(new URL("../voxswitch/static", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
  },
});
