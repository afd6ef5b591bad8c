// Public types of the leaksense package. Option and result objects use the core's snake_case
// JSON names, identical in every language and in the CLI's JSON output.
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
// The core's JSON types, generated from its schemas (schema/*.json) into ./types.d.ts.
import type { Meter } from '@opentelemetry/api';
import type { AlertEvent, Analysis, AnalyzeOptions, ErrorCode, Event, EventKind, LeakReport, MonitorOptions, Naming, ReplayStep, Snapshot } from './types';
export type * from './types';

/** Error thrown by leaksense; `code` is the core's stable ErrorCode string. */
export interface LeakSenseError extends Error {
  code: ErrorCode;
}

/** Watches this process; emits 'leak', 'suspects' and 'resolved', each with the event and its report. */
export declare class Monitor extends EventEmitter {
  constructor(options?: MonitorOptions | null);
  start(): this;
  stop(): this;
  close(): void;
  /** Drains the core's events and emits each under its kind now (the unref'd timer calls it). */
  poll(): Event[];
  /** Hands the middleware's waiting requests to the core now (done on every tick and before
   * poll, report, reportText and close). */
  flush(): void;
  /** Feeds recorded steps (requests per route and a post-GC baseline at injected times). */
  replay(steps: ReplayStep[]): void;
  /** The report of memory (the default) or of a watched count ('open_fds', 'active_resources'). */
  report(series?: string): LeakReport;
  reportText(series?: string): string;
  /** Feeds one reading of a watched count (the poll timer feeds 'active_resources'; the core counts 'open_fds'). */
  observeCount(series: string, tsMs: number, value: number): void;
  /** The counts watched beside memory, each with its own alert and events. */
  counts(): string[];
  /** Reads V8's sampling heap profile now and feeds it; the pause in ms, or null when off. */
  profileHeap(): number | null;
  /** Writes the live-heap profile as a pprof file. */
  writePprof(path: string, kind?: 'inuse' | 'growth'): void;
  analysis(): Analysis;
  sample(tsMs?: number): Snapshot;
  observeBaseline(tsMs: number, bytes: number): AlertEvent | null;
  observeBaselineAfterFullGc(tsMs: number, bytes: number): AlertEvent | null;
  setRuntimeLimit(bytes: number | null): void;
  config(): Required<MonitorOptions>;
  watched(): 'rss' | 'runtime_baseline';
  isRunning(): boolean;
  on(event: EventKind, listener: (event: Event) => void): this;
  on(event: 'error', listener: (err: LeakSenseError) => void): this;
}

export declare function analyze(timestamps: number[], values: number[], options?: AnalyzeOptions | null): Analysis;
export declare function deriv(timestamps: number[], values: number[]): number | null;
export declare function predictLinear(timestamps: number[], values: number[], evalTime: number, horizon: number): number | null;
export declare function findGrowthInflection(timestamps: number[], values: number[], window: number, ratio: number): number;
/** An amount in an OpenTelemetry unit (default `By`) as the core's report prints it: `52.4 KiB`, `3 file descriptors`. */
export declare function formatAmount(value: number, unit?: string | null): string;

export interface CatalogMetric { key: string; name: string; kind: string; unit: string; description: string; attributes: string[]; deep: boolean }
export declare function catalog(runtime?: string, naming?: 'semconv' | 'legacy'): Record<string, CatalogMetric>;
/** Registers every Node metric on `meter`: the V8 heap, GC durations, and with `monitor` the
 * process and container memory and the detector gauges. Returns a function that unregisters them. */
export declare function registerMetrics(meter: Meter, options?: { monitor?: Monitor; naming?: Naming }): () => void;
/** Registers the V8 heap instruments on `meter`; returns a function that unregisters them. */
export declare function registerV8Metrics(meter: Meter, options?: { naming?: Naming }): () => void;
/** An Error carrying one of the core's stable codes, as leaksense throws them. */
export declare function codedError(code: LeakSenseError['code'], message: string): LeakSenseError;

/** The per-request context inside a tracked handler. */
export interface RequestContext { route?: string }
export declare function currentRequest(): RequestContext | undefined;
export declare function setRoute(route: string): void;
/** The route of requests no framework route matched and no `setRoute()` named (404s): the core's. */
export declare const UNMATCHED_ROUTE: string;
export declare function httpHandler<Req extends IncomingMessage, Res extends ServerResponse>(monitor: Monitor, handler: (req: Req, res: Res) => void, options?: { route?: (req: Req) => string }): (req: Req, res: Res) => void;
export declare function express(monitor: Monitor): (req: any, res: any, next: (err?: unknown) => void) => void;
export declare function fastify(monitor: Monitor): (app: any, opts: unknown, done: (err?: Error) => void) => void;
