/**
 * Preloaded (node --import) into a terminal the crash campaign starts ahead of its round: loads the terminal's
 * modules, then waits for one line on stdin before the terminal's own code runs. The campaign's time goes into
 * kills rather than into loading the same modules fifty times; nothing here touches the data directory.
 */
const dist = new URL('../../../dist/src/', import.meta.url);
await Promise.all(
  [
    'app/compose.js',
    'durability/card-vault.js',
    'config/index.js',
    'cli/journal-command.js',
    'journal/index.js',
    'security/file-permissions.js',
  ].map((module) => import(new URL(module, dist).href)),
);
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.destroy();
