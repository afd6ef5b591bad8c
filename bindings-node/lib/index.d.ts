// Public types of the leaksense package. Option and result objects use the core's snake_case
// JSON names, identical in every language and in the CLI's JSON output.
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Error thrown by leaksense; `code` is the core's stable ErrorCode string. */
export interface LeakSenseError extends Error {
  code: 'non_finite_value' | 'out_of_order' | 'empty_input' | 'invalid_option' | 'io' | 'parse' | 'unsupported' | 'closed' | 'internal';
}

/** Detector options (`DetectorConfig`); every field has a default. */
export interface DetectorOptions {
  kind?: 'heap' | 'count';
  for_secs?: number;
  min_for_secs?: number;
  bucket_secs?: number;
  floor_capacity?: number;
  warmup_secs?: number;
  min_growth_secs?: number;
  min_rise_ratio?: number;
  min_rise_sigmas?: number;
  time_to_limit_alert_secs?: number;
  projection_secs?: number;
  projection_ratio?: number;
  confidence?: number;
  reset_drop_ratio?: number;
  /** No leak before this many seconds since start unless a collection was seen (0, off, in the
   * core; the Monitor sets 14400 while it watches the V8 heap). */
  first_collection_secs?: number;
  /** Only readings marked as after a full GC count as a collection (the Monitor sets it while
   * it watches the V8 heap). */
  reports_full_gcs?: boolean;
  max_events?: number;
}

/** Attribution options (`AttributionConfig`). */
export interface AttributionOptions {
  top_k?: number;
  block_ms?: number;
  min_share?: number;
  /** Error level of the bytes-per-request intervals (0.05: 95% intervals). */
  alpha?: number;
  [key: string]: number | undefined;
}

/** Monitor options: the core's `MonitorConfig` keys, plus `heap` (Node only). */
export interface MonitorOptions {
  runtime?: 'node' | 'process';
  naming?: 'semconv' | 'legacy';
  interval_ms?: number;
  /** Runtime per-request measures; Node reads `heap_used` (the default). */
  measures?: Array<'heap_used'>;
  rss_per_request?: boolean;
  max_routes?: number;
  slot_ms?: number;
  memory_limit?: number | null;
  detector?: DetectorOptions;
  attribution?: AttributionOptions;
  /** Watch the V8 heap (used + external, sampled each tick and after each major GC) rather than RSS (default true). */
  heap?: boolean;
}

export type AlertState = 'inactive' | 'pending' | 'firing';
export interface AlertEvent { ts_ms: number; from: AlertState; to: AlertState }

/** What `poll()` delivers: an alert transition, or (kind 'suspects', at most once per firing) the report naming its suspect routes once the core is sure of them. */
export interface MonitorEvent extends AlertEvent {
  kind: 'alert' | 'suspects';
  report?: LeakReport;
  report_text?: string;
}

/** The detector's view of the series. */
export interface Analysis {
  verdict: 'insufficient' | 'healthy' | 'leak';
  state: AlertState;
  growth_start_ms: number | null;
  /** When the growth stopped: set when a firing alert resolved because the floor levelled off. */
  growth_stop_ms: number | null;
  rate_per_sec: number | null;
  rate_low: number | null;
  rate_high: number | null;
  time_to_limit_secs: number | null;
  limit: number | null;
  baseline: number | null;
  samples: number;
  events: AlertEvent[];
}

export interface Suspect {
  route: string;
  retained_bytes_per_request: number;
  interval: [number, number];
  requests: number;
  share: number;
  reasons: string[];
}

/** The leak report (core `LeakReport`, schema_version 1). */
export interface LeakReport extends Analysis {
  schema_version: number;
  suspects: Suspect[];
  article_suspects: unknown[];
  model: unknown | null;
  routes: Array<{ route: string; requests: number; first_seen_ms: number | null; retained_bytes_per_request: number | null; share: number | null; [key: string]: unknown }>;
  notes: string[];
}

/** Watches this process; emits 'leak' and 'resolved' with the report and the alert event. */
export declare class Monitor extends EventEmitter {
  constructor(options?: MonitorOptions | null);
  start(): this;
  stop(): this;
  close(): void;
  /** Delivers queued alert transitions as events now (the unref'd timer calls it). */
  poll(): MonitorEvent[];
  report(): LeakReport;
  reportText(): string;
  analysis(): Analysis;
  sample(tsMs?: number): unknown;
  observeBaseline(tsMs: number, bytes: number): AlertEvent | null;
  observeBaselineAfterFullGc(tsMs: number, bytes: number): AlertEvent | null;
  setRuntimeLimit(bytes: number | null): void;
  config(): Required<Omit<MonitorOptions, 'gc'>>;
  watched(): 'rss' | 'runtime_baseline';
  isRunning(): boolean;
  on(event: 'leak' | 'resolved', listener: (report: LeakReport, event: MonitorEvent) => void): this;
  on(event: 'error', listener: (err: LeakSenseError) => void): this;
}

export declare function analyze(timestamps: number[], values: number[], options?: DetectorOptions & { limit?: number | null }): Analysis;
export declare function deriv(timestamps: number[], values: number[]): number | null;
export declare function predictLinear(timestamps: number[], values: number[], evalTime: number, horizon: number): number | null;
export declare function findGrowthInflection(timestamps: number[], values: number[], window: number, ratio: number): number;

export interface CatalogMetric { key: string; name: string; kind: string; unit: string; description: string; attributes: string[]; deep: boolean }
export declare function catalog(runtime?: string, naming?: 'semconv' | 'legacy'): Record<string, CatalogMetric>;

/** The per-request context inside a tracked handler. */
export interface RequestContext { route?: string }
export declare function currentRequest(): RequestContext | undefined;
export declare function setRoute(route: string): void;
export declare function httpHandler<Req extends IncomingMessage, Res extends ServerResponse>(monitor: Monitor, handler: (req: Req, res: Res) => void, options?: { route?: (req: Req) => string }): (req: Req, res: Res) => void;
export declare function express(monitor: Monitor): (req: any, res: any, next: (err?: unknown) => void) => void;
export declare function fastify(monitor: Monitor): (app: any, opts: unknown, done: (err?: Error) => void) => void;
