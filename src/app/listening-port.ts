const LISTENING = 'listening on port ';
const LISTENING_LINE = new RegExp(`"msg":"${LISTENING}(\\d+)"`);

/**
 * The log line naming the port the service listens on. With PORT=0 the system picks the port as
 * the service binds it, and this line is how whoever started the service learns it (the tests and
 * the benchmark do); the line and the reading of it live here together.
 */
export function listeningMessage(port: number): string {
  return `${LISTENING}${port}`;
}

/**
 * The port named by the service's JSON log (one object a line), once it has said it; only the line
 * of the process with `pid` when given, for a log that several services write to.
 */
export function listeningPortIn(log: string, pid?: number): number | undefined {
  for (const line of log.split('\n')) {
    const match = LISTENING_LINE.exec(line);
    if (match && (pid === undefined || line.includes(`"pid":${pid},`))) return Number(match[1]);
  }
  return undefined;
}

/** A port the system will not give, named with the setting that chooses another. */
export function listenRefusal(error: unknown, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  if (code === 'EADDRINUSE')
    return new Error(
      `port ${port} is in use by another process (${reason}): stop that process, or set PORT to another port`,
      { cause: error },
    );
  if (code === 'EACCES')
    return new Error(
      `port ${port} needs privileges this user does not have (${reason}): set PORT to one above ${port}`,
      { cause: error },
    );
  return error;
}
