/** Events the driver emits while it runs; reporting subscribes, the driver never prints. */
import type { IterationRecord, StageName } from '../result/schema.js';
import type { LimitEvent } from './limits.js';

export type MigrationEvent =
  | { kind: 'stage-start'; stage: StageName; atMs: number }
  | { kind: 'stage-end'; stage: StageName; atMs: number; durationMs: number }
  | { kind: 'round'; iteration: IterationRecord; policyDecision: string }
  | { kind: 'failed'; atMs: number; reason: string }
  | { kind: 'limit'; event: LimitEvent };

export type EventSink = (event: MigrationEvent) => void;
