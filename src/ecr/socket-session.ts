/** One client connection as the handler sees it: a place to send replies that never blocks the terminal. */
import type net from 'node:net';
import { ecrError, type EcrReply } from './protocol.js';

export interface EcrSession {
  /** `tcp:127.0.0.1:53122` or `unix:3`. */
  readonly clientId: string;
  /** Writes one reply line; dropped silently once the client is gone. */
  send(reply: EcrReply): void;
  readonly closed: boolean;
  /** Who the latest request came from, for limits and lockouts: `token:<n>` or an address; see limits/client-key.ts. */
  readonly principal?: string;
}

export class SocketSession implements EcrSession {
  principal: string | undefined;

  constructor(
    readonly clientId: string,
    private readonly socket: net.Socket,
    private readonly maxWriteBufferBytes: number,
  ) {}

  get closed(): boolean {
    return this.socket.destroyed || this.socket.writableEnded;
  }

  send(reply: EcrReply): void {
    if (this.closed) return;
    let text: string;
    try {
      text = JSON.stringify(reply);
    } catch {
      // A reply that cannot be serialised (a cycle, a BigInt) is a handler bug; the client still gets an answer.
      text = JSON.stringify(
        ecrError(typeof reply.id === 'string' ? reply.id : null, 'internal', 'the reply could not be encoded'),
      );
    }
    this.socket.write(`${text}\n`);
    // A register that stops reading must not make the terminal buffer without limit.
    if (this.socket.writableLength > this.maxWriteBufferBytes) this.socket.destroy();
  }
}
