/**
 * How an answer leaves the simulator: on time, or misbehaving as told (delayed, late, withheld, garbled, twice,
 * with a wrong STAN or amount). The ledger is written before the bytes, so a reader holding the answer finds it.
 */
import type net from 'node:net';
import type { Clock } from '../../hal/clock.js';
import { encodeFrame } from '../../hal/acquirer-link/framing.js';
import { type IsoMessage, pack } from '../iso8583/index.js';
import { text } from './messages.js';
import type { Misbehaviour } from './rules.js';
import type { GlobalBehaviour, LedgerEntry } from './types.js';

export interface AnswerChannel {
  socket: net.Socket;
  clock: Clock;
  /** Read when the answer goes (a delayed answer names the delay in force then). */
  behaviour: () => GlobalBehaviour;
  record: (entry: Omit<LedgerEntry, 'at'>) => void;
  /** The answer as it leaves: MACed for a terminal that has keys. */
  seal?: (message: IsoMessage) => IsoMessage;
}

export function sendAnswer(
  channel: AnswerChannel,
  response: IsoMessage,
  misbehaviour: Misbehaviour,
  out: Omit<LedgerEntry, 'at'>,
): void {
  const { socket, clock, behaviour, record } = channel;
  const seal = channel.seal ?? ((m: IsoMessage) => m);
  const send = (message: IsoMessage, note?: string) => {
    if (socket.destroyed) {
      record({ ...out, note: `${note ? `${note}; ` : ''}not sent: connection gone` });
      return;
    }
    // Ledger first: a reader who has the answer must find it in the ledger already.
    record(note ? { ...out, note } : out);
    socket.write(encodeFrame(pack(seal(message))));
  };
  switch (misbehaviour) {
    case 'none':
      send(response);
      break;
    case 'delay':
      clock.setTimeout(() => send(response, `delayed ${behaviour().delayMs} ms`), behaviour().delayMs);
      break;
    case 'late':
      clock.setTimeout(() => send(response, `late by ${behaviour().lateMs} ms`), behaviour().lateMs);
      break;
    case 'silent':
      record({ ...out, note: 'withheld (silent)' });
      break;
    case 'close':
      record({ ...out, note: 'withheld (connection closed)' });
      socket.destroy();
      break;
    case 'garbled': {
      // Starts like a response but the bitmap announces fields whose bytes are not there.
      const garbage = Buffer.concat([
        Buffer.from(response.mti, 'ascii'),
        Buffer.from([0xff, 0xff, 0x00, 0x13, 0x37, 0xc0, 0xde, 0x42]),
        Buffer.from('GARBLED'),
      ]);
      record({ ...out, note: 'garbled bytes sent' });
      if (!socket.destroyed) socket.write(encodeFrame(garbage));
      break;
    }
    case 'twice':
      send(response);
      send(response, 'second copy');
      break;
    case 'wrong-stan': {
      const stan = String((Number(text(response, 11) ?? '0') % 999_999) + 1).padStart(6, '0');
      send({ mti: response.mti, fields: { ...response.fields, 11: stan } }, `wrong STAN ${stan}`);
      break;
    }
    case 'wrong-amount': {
      const amount = String(Number(text(response, 4) ?? '0') + 1).padStart(12, '0');
      send({ mti: response.mti, fields: { ...response.fields, 4: amount } }, `wrong amount ${Number(amount)}`);
      break;
    }
  }
}
