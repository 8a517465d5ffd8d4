import { describe, expect, it } from '@jest/globals';
import { listeningMessage, listeningPortIn } from './listening-port.js';

describe('the listening port in the log', () => {
  const line = (pid: number, port: number): string =>
    JSON.stringify({ level: 'info', pid, context: 'Tenancy', msg: listeningMessage(port) });

  it('reads the port the message names, once the line is there', () => {
    expect(listeningPortIn('{"level":"info","pid":7,"msg":"starting"}\n')).toBeUndefined();
    expect(listeningPortIn(`{"level":"info","pid":7,"msg":"starting"}\n${line(7, 41234)}\n`)).toBe(41234);
  });

  it("takes only the given process's line from a log that several services share", () => {
    const shared = `${line(7, 41234)}\n${line(70, 45678)}\n`;
    expect(listeningPortIn(shared, 70)).toBe(45678);
    expect(listeningPortIn(shared, 7)).toBe(41234);
    expect(listeningPortIn(shared, 700)).toBeUndefined();
  });
});
