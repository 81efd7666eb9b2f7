/**
 * The import rules of the code, checked in `npm test` (`npm run lint:deps`). docs/architecture.md lists the same rules
 * by name; test/docs/import-rules.test.ts keeps the two in step.
 */
const DRIVERS = '^hal/(card-reader/(hid-msr|serial-module)|pin-pad/serial|serial-link/|printer/escpos-serial|acquirer-link/tcp|network/linux|display/console)';
const IO_MODULES = '^(node:)?(net|fs|fs/promises|dgram|child_process|http|https|tls)$|^(better-sqlite3|serialport|@serialport/.+|node-hid|mqtt|aedes)$';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycles anywhere in src/ or hal/.',
      from: { path: '^(src|hal)/' },
      to: { circular: true },
    },
    {
      name: 'hal-knows-no-payments',
      severity: 'error',
      comment: 'hal/ imports nothing from src/: it knows devices, not payments.',
      from: { path: '^hal/' },
      to: { path: '^src/' },
    },
    {
      name: 'machines-do-no-io',
      severity: 'error',
      comment:
        'The machines (src/transaction/, src/terminal/machine.ts) import no driver, store or socket: effects are provided to them.',
      from: { path: '^src/(transaction/|terminal/machine)' },
      to: {
        path: [DRIVERS, '^src/(journal|durability|acquirer|acquirer-sim|ecr|telemetry|fleet|app|cli|selftest|config)/'],
      },
    },
    {
      name: 'machines-open-no-sockets',
      severity: 'error',
      comment: 'The machines use no Node I/O module and no device, database or MQTT library.',
      from: { path: '^src/(transaction/|terminal/machine)' },
      to: { dependencyTypes: ['core', 'npm'], path: IO_MODULES },
    },
    {
      name: 'fleet-is-another-program',
      severity: 'error',
      comment:
        'src/fleet/ (pos-fleet, run by the operators) imports nothing of the terminal: only the telemetry wire, generated protobuf code and leaf utilities.',
      from: { path: '^src/fleet/' },
      to: { path: '^src/', pathNot: '^src/(fleet/|telemetry/(wire|generated/)|util/pan|config/jsonc-file|vocabulary/)' },
    },
    {
      name: 'host-simulator-is-another-program',
      severity: 'error',
      comment:
        'src/acquirer-sim/ (pos-host-sim, the acquirer host) imports nothing of the terminal: only the ISO 8583 codec, the link framing, the shared cryptography and EMV data rules, and leaf utilities.',
      from: { path: '^src/acquirer-sim/' },
      to: { path: '^(src|hal)/', pathNot: '^(src/(acquirer-sim/|iso8583/|vocabulary/|util/pan)|hal/(acquirer-link/framing|clock|crypto/|emv/))' },
    },
    {
      name: 'iso8583-is-a-codec',
      severity: 'error',
      comment: 'src/iso8583/ imports nothing else of src/ but the vocabulary.',
      from: { path: '^src/iso8583/' },
      to: { path: '^src/', pathNot: '^src/(iso8583|vocabulary)/' },
    },
    {
      name: 'vocabulary-is-a-leaf',
      severity: 'error',
      comment: 'src/vocabulary/ (the shared words: kinds, outcomes, money) imports nothing of src/ or hal/.',
      from: { path: '^src/vocabulary/' },
      to: { path: '^(src|hal)/', pathNot: '^src/vocabulary/' },
    },
    {
      name: 'only-the-composition-root-meets-everything',
      severity: 'error',
      comment: 'Nothing imports src/app/ or src/cli/ but src/app/ and src/cli/ themselves.',
      from: { path: '^(src|hal)/', pathNot: '^src/(app|cli)/' },
      to: { path: '^src/(app|cli)/' },
    },
    {
      name: 'serial-link-knows-no-device',
      severity: 'error',
      comment:
        "hal/serial-link/ (the framing and session the serial devices share) imports no device's folder: the devices build on it, never the reverse.",
      from: { path: '^hal/serial-link/' },
      to: { path: '^hal/', pathNot: '^hal/(serial-link/|clock|fault)' },
    },
    {
      name: 'product-code-imports-no-tests',
      severity: 'error',
      comment: 'src/ and hal/ import nothing from test/ or bench/.',
      from: { path: '^(src|hal)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-dev-dependencies-at-run-time',
      severity: 'error',
      comment: 'src/ and hal/ use no development dependency at run time.',
      from: { path: '^(src|hal)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'every-import-resolves',
      severity: 'error',
      comment: 'Every import names a file or package that exists.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/telemetry/generated/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
