/** Field 22's PIN digit comes from the PIN pad the configuration attaches, never from a separate claim. */
import { describe, expect, it } from 'vitest';
import { messageProfileOf } from '../../src/app/message-profile.js';
import { loadConfig } from '../../src/config/index.js';

describe('the message profile', () => {
  it('says a PIN can be entered exactly when a PIN pad is attached', () => {
    const { config } = loadConfig({ env: {} });
    expect(config.hal.pinPad.driver).toBe('mock');
    expect(messageProfileOf(config).pinPad).toBe(true);
    const none = { ...config, hal: { ...config.hal, pinPad: { driver: 'none' as const } } };
    expect(messageProfileOf(none).pinPad).toBe(false);
  });
});
