import { maxHeaderSize, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { floodWarnings } from '../observability/flood-warnings.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { problem, PROBLEM_CONTENT_TYPE, type Problem } from './problem.js';

/** Why Node's HTTP server gave up on a client before any route saw its request, and what it says. */
const CLIENT_ERRORS: Record<string, { readonly reason: string; readonly problem: Problem }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    reason: 'request_timeout',
    problem: problem(408, 'REQUEST_TIMEOUT', 'Request Timeout', 'The request was not received in time.'),
  },
  HPE_HEADER_OVERFLOW: {
    reason: 'headers_too_large',
    problem: problem(
      431,
      'HEADERS_TOO_LARGE',
      'Request Header Fields Too Large',
      `The request headers exceed ${maxHeaderSize} bytes.`,
    ),
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    reason: 'chunk_extensions_too_large',
    problem: problem(
      413,
      'CHUNK_EXTENSIONS_TOO_LARGE',
      'Content Too Large',
      'A chunk extension is too large.',
    ),
  },
};
const MALFORMED = {
  reason: 'malformed',
  problem: problem(400, 'MALFORMED_REQUEST', 'Bad Request', 'The request is not well-formed HTTP/1.1.'),
};

/**
 * Answers and counts the clients Node's HTTP server gives up on before a route sees their
 * request: one past the time bounds (src/http/client-time-bounds.ts), one whose headers are too
 * large, one that does not speak HTTP. Left to Node, each got a status line without a body and
 * closed connection, and was seen neither in the metrics nor in the log, so clients held off by
 * the time bounds left no trace. Now each is answered as any other refusal, with a problem
 * document, and counted in tenancy_http_client_errors_total by reason. They come in floods: the
 * first of one is logged, then a summary by reason a minute while it lasts. A connection the
 * client reset is only counted: clients that go away are no news.
 */
export function answerClientErrors(server: Server, metrics: Metrics, log: Logger): void {
  const refusals = floodWarnings(log, (reasons, refused, intervalMs) => {
    const byReason = Object.entries(reasons).map(([reason, count]) => `${reason} ${count}`);
    return {
      fields: { context: 'HttpServer', refused, reasons },
      message: `${refused} more clients refused before any route saw their request in the last ${intervalMs / 1000} s (${byReason.join(', ')})`,
    };
  });
  server.once('close', () => refusals.stop());
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET') {
      metrics.httpClientErrors.inc({ reason: 'connection_reset' });
      socket.destroy();
      return;
    }
    const known = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED;
    metrics.httpClientErrors.inc({ reason: known.reason });
    refusals.note(known.reason, () => {
      const { status, code, detail } = known.problem;
      return {
        fields: { context: 'HttpServer', reason: known.reason, status, code },
        message: `a client was refused before any route saw its request, ${status} ${code}: ${detail} (further refusals are summed up once a minute)`,
      };
    });
    // Not in the middle of another answer (a request still being answered while the next one
    // fails): the client could not tell the two apart. Node's rule, with the answer Node keeps on
    // the socket while it is written (an undocumented property, as Node's own handler reads it).
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify(known.problem);
      socket.end(
        `HTTP/1.1 ${known.problem.status} ${known.problem.title}\r\n` +
          `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  });
}
