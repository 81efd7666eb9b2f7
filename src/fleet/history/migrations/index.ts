/** Every history migration, in order. A new version is a new file here, added at the end. */
import { messages } from './0001-messages.js';
import { terminals } from './0002-terminals.js';
import type { HistoryMigration } from './migration.js';

export type { HistoryMigration } from './migration.js';

export const HISTORY_MIGRATIONS: readonly HistoryMigration[] = [messages, terminals];
