/** The simulator's console: lines typed as a cash register would send them, answered by the command service. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runConsole } from '../../src/app/console.js';
import { until } from '../support/wait.js';
import { bootApp as boot } from './boot.js';

describe('the console', () => {
  it('sells with a test card and prints the answer as the ECR API sends it, even when the API wants tokens', async () => {
    const app = await boot(['a-register-token']);
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = '';
    output.on('data', (chunk) => {
      printed += String(chunk);
    });
    const done = runConsole(app, input, output);
    input.write('12.50\n');
    await until(() => printed.includes('result: '), 'sale result printed');
    input.write('0\n');
    await until(() => printed.includes('amount: expected'), 'refusal printed');
    input.write('quit\n');
    await done;
    expect(printed).toMatch(/result: \{"outcome":"approved",.*"amount":1250,/);
    expect(printed).toContain(
      'error: {"code":"invalid-request","message":"amount: expected an integer from 1 to 99999999, found 0","field":"amount"}',
    );
  });
});
