/** The seam between the nexo transport (server, message security) and the nexo message meanings. */

/** Who sent a message and whether it came sealed (its answer is then sealed with the same key). */
export interface NexoContext {
  clientId: string;
  sealed: boolean;
}

/** Answers one clear nexo request; the transport seals, frames and sends what it returns. */
export type NexoHandler = (
  message: { SaleToPOIRequest: Record<string, unknown> },
  context: NexoContext,
) => Promise<{ SaleToPOIResponse: Record<string, unknown> }>;
