/** Whether a listen address only accepts connections from this machine (an API beyond it must demand credentials). */
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host.trim().replace(/^\[(.*)\]$/, '$1'));
}
