import { ConsoleLogger, ValidationPipe, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { HttpDrain } from '../http/http-drain.js';
import { assertJsonDepth } from '../http/json-depth.js';
import { ProblemError, problem } from '../http/problem.js';

/** Request bodies are small JSON documents; anything larger is refused with 413 before parsing. */
export const BODY_LIMIT = '64kb';

/** Builds the HTTP application on an opened runtime; used by main.ts and by the end-to-end tests. */
export async function createHttpApp(
  options: AppModuleOptions,
  logger?: LoggerService,
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(options), {
    logger: logger ?? new ConsoleLogger({ json: true, logLevels: logLevelsFrom(options.config.logLevel) }),
    bodyParser: false,
  });
  // Nest's option type omits body-parser's verify hook, which it passes through all the same.
  const jsonOptions = {
    limit: BODY_LIMIT,
    type: ['application/json', 'application/*+json'],
    verify: (_request: unknown, _response: unknown, body: Buffer) => assertJsonDepth(body),
  };
  // First of all middleware: graceful shutdown counts every request, whatever becomes of it.
  app.use(app.get(HttpDrain).track);
  app.useBodyParser('json', jsonOptions);
  app.set('etag', false);
  app.set('x-powered-by', false);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: (errors) =>
        new ProblemError(
          problem(400, 'VALIDATION_FAILED', 'Validation failed', 'The request is not valid.', {
            errors: errors.flatMap((error) =>
              Object.values(error.constraints ?? { invalid: 'is not valid' }).map((message) => ({
                field: error.property,
                message,
              })),
            ),
          }),
        ),
    }),
  );
  return app;
}

function logLevelsFrom(level: string): ('debug' | 'log' | 'warn' | 'error' | 'fatal')[] {
  switch (level) {
    case 'debug':
      return ['debug', 'log', 'warn', 'error', 'fatal'];
    case 'warn':
      return ['warn', 'error', 'fatal'];
    case 'error':
      return ['error', 'fatal'];
    default:
      return ['log', 'warn', 'error', 'fatal'];
  }
}
