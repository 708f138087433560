/** The real {@link TunnelDriver}: the official @ngrok/ngrok SDK (its native module comes from the npm registry). */
import type { TunnelDriver } from './supervisor.js';

/** Opens an HTTP endpoint on ngrok that forwards to the local proxy; the SDK's own reconnects are off (we supervise). */
export const ngrokDriver: TunnelDriver = {
  async open({ token, domain, region, forwardTo, onDrop }) {
    const ngrok = await import('@ngrok/ngrok');
    let builder = new ngrok.SessionBuilder().authtoken(token).metadata(JSON.stringify({ agent: 'airy-tunnel' }));
    if (region) builder = builder.serverAddr(`connect.${region}.ngrok-agent.com:443`);
    builder = builder.handleDisconnection((_addr, error) => {
      onDrop(error || 'session closed');
      return false;
    });
    const session = await builder.connect();
    let endpoint = session.httpEndpoint();
    if (domain) endpoint = endpoint.domain(domain);
    const listener = await endpoint.listenAndForward(forwardTo);
    return {
      url: listener.url() ?? '',
      async close() {
        await listener.close().catch(() => undefined);
        await session.close().catch(() => undefined);
      },
    };
  },
};
