import { PassThrough } from 'node:stream';

/** A writable that collects what a command writes, for assertions on its output. */
export function capture(): PassThrough & { text(): string } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString('utf8') });
}
