export { configSchema, parseHostAddress, MAX_TIMER_MS, type PosConfig } from './schema.js';
export {
  ConfigError,
  EX_CONFIG,
  defaultConfigPath,
  formatConfigError,
  loadConfig,
  loadConfigOrExit,
  packageRoot,
  configProblemLine,
  type ConfigProblem,
  type ExitIo,
  type LoadConfigOptions,
  type LoadedConfig,
} from './load.js';
