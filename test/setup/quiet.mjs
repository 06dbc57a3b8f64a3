// Loaded into every test process by .taprc (node-arg --import): keeps tap's report readable.
// Progress displays on stderr stay silent (lib/cli/progress.ts); a test that needs them (a
// child process watched for its progress line) sets ARRA_PROGRESS in the child's env.
process.env.ARRA_PROGRESS ??= 'off';

// Node ≥ 21 deprecates the built-in punycode module (DEP0040), which the TF.js reference used
// by the loader tests still requires (tfjs-core → node-fetch → whatwg-url). That third-party
// warning says nothing about this project; every other warning is printed as before.
const printWarning = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.code === 'DEP0040') return;
  for (const print of printWarning) print(warning);
});
