export interface NexoContext {
  clientId: string;
  sealed: boolean;
}
export type NexoHandler = (
  message: { SaleToPOIRequest: Record<string, unknown> },
  context: NexoContext,
) => Promise<{ SaleToPOIResponse: Record<string, unknown> }>;
