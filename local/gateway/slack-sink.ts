import { randomUUID } from 'node:crypto';
import type { GatewayRoute } from './server.js';
import { sendJson } from './server.js';

/** The path the local Slack webhook URL points at (the secret holds `${endpoint}${SLACK_SINK_PATH}/...`). */
export const SLACK_SINK_PATH = '/_sinks/slack';
/** Oldest messages are dropped beyond this many. */
const MAX_MESSAGES = 1000;

export interface SinkMessage {
  readonly id: string;
  readonly receivedAt: string;
  /** The webhook path after /_sinks/slack (the local stand-in for hooks.slack.com/services/...). */
  readonly hook: string;
  readonly payload: unknown;
}

/**
 * A local stand-in for a Slack incoming webhook: `POST /_sinks/slack/...` records the message
 * and answers "ok" as Slack does; `GET /_sinks/slack` lists what was posted (console, tests);
 * `DELETE /_sinks/slack` forgets it.
 */
export class SlackSink {
  private messages: SinkMessage[] = [];

  list(): readonly SinkMessage[] {
    return [...this.messages];
  }

  readonly route: GatewayRoute = async (request, body, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (path !== SLACK_SINK_PATH && !path.startsWith(`${SLACK_SINK_PATH}/`)) return false;
    const method = request.method ?? 'GET';
    if (method === 'GET' && path === SLACK_SINK_PATH) {
      sendJson(response, 200, { messages: this.messages });
      return true;
    }
    if (method === 'DELETE' && path === SLACK_SINK_PATH) {
      this.messages = [];
      sendJson(response, 200, { cleared: true });
      return true;
    }
    if (method === 'POST' && path.length > SLACK_SINK_PATH.length + 1) {
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch {
        response.writeHead(400, { 'content-type': 'text/plain' });
        response.end('invalid_payload');
        return true;
      }
      this.messages.push({ id: randomUUID(), receivedAt: new Date().toISOString(), hook: path.slice(SLACK_SINK_PATH.length), payload });
      if (this.messages.length > MAX_MESSAGES) this.messages = this.messages.slice(-MAX_MESSAGES);
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
      return true;
    }
    sendJson(response, 405, { error: `${method} ${path}: POST a message to ${SLACK_SINK_PATH}/..., GET or DELETE ${SLACK_SINK_PATH}` });
    return true;
  };
}
