// Build-time replacement for "@daily-co/daily-js" (see vite.config.js).
//
// The WebSocket transport imports Daily only for its default media manager,
// which needs Daily's hosted call machine. This page always passes its own
// WavMediaManager (call.js), so Daily is never used; leaving it out keeps
// ~260 kB of unused code off the page. Any use fails loudly, never silently.

function notBundled() {
  throw new Error("@daily-co/daily-js is not bundled in the voxswitch page: use WavMediaManager");
}

export default new Proxy({}, { get: () => notBundled });
