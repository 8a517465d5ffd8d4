import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { EVENT_FEED_CONFIG, type EventFeedConfig } from './event-feed.config.js';
import { EventFeedReader } from './event-feed.reader.js';
import { EVENT_SCHEMA_CATALOG, loadEventSchemaCatalog } from './event-schema.catalog.js';
import { EventFeedHttpController } from './events.http.controller.js';
import { PersonalDataVault } from '../../personal-data/personal-data.vault.js';
import { TenancyApplicationModule } from '../../application/tenancy-application.module.js';

/** /v1/events: the feed and the catalog for consuming services. */
@Module({
  // The key registry: a key's stream ends when the key does.
  imports: [TenancyApplicationModule],
  controllers: [EventFeedHttpController],
  providers: [
    EventFeedReader,
    PersonalDataVault,
    // Read once at start: a broken catalog fails the start, not a consumer's request.
    { provide: EVENT_SCHEMA_CATALOG, useFactory: () => loadEventSchemaCatalog() },
    {
      provide: EVENT_FEED_CONFIG,
      useFactory: (config: AppConfig): EventFeedConfig => ({
        heartbeatMs: config.sseHeartbeatMs,
        maxStreams: config.sseMaxStreams,
        maxStreamsPerKey: config.sseMaxStreamsPerKey,
        stallTimeoutMs: config.sseStallTimeoutMs,
      }),
      inject: [APP_CONFIG],
    },
  ],
})
export class EventFeedHttpModule {}
