/**
 * The resolved configuration of one migration run: every feature's part of it, each declared
 * beside its options (src/<feature>/options.ts). Every field has its unit in its name.
 */
import type { MemoryConfig } from '../memory/options.js';
import type { ClockConfig } from '../clock/options.js';
import type { GuestConfig } from '../guest/options.js';
import type { LinkConfig } from '../link/options.js';
import type { CodecConfig } from '../codec/options.js';
import type { DirtyLogConfig } from '../dirtylog/options.js';
import type { PolicyConfig } from '../policy/options.js';
import type { AidsConfig } from '../converge/options.js';
import type { PrecopyConfig } from '../precopy/options.js';
import type { RemoteConfig } from '../channel/options.js';
import type { TraceConfig } from '../trace/options.js';

export interface RunConfig
  extends
    MemoryConfig,
    ClockConfig,
    GuestConfig,
    LinkConfig,
    CodecConfig,
    DirtyLogConfig,
    PolicyConfig,
    AidsConfig,
    PrecopyConfig,
    RemoteConfig,
    TraceConfig {}

export type { WritePattern } from '../guest/pattern.js';
export type { ContentMix } from '../memory/content.js';
export type { DirtyLogName } from '../dirtylog/dirty-log.js';
export type { PolicyName } from '../policy/registry.js';
export type { DirtyCostSpec } from '../dirtylog/cost.js';
export type { UserStrategyConfig } from '../util/user-file.js';
