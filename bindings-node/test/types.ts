// Compiled with `tsc --noEmit --strict` by types.test.js: the public types must describe the API.
import * as http from 'node:http';
import { metrics } from '@opentelemetry/api';
import { Monitor, analyze, deriv, predictLinear, findGrowthInflection, catalog, registerMetrics, registerV8Metrics, codedError, httpHandler, express, fastify, setRoute, currentRequest, type Event, type LeakReport, type LeakSenseError } from '..';

const m = new Monitor({ interval_ms: 1000, detector: { for_secs: 60, kind: 'heap' }, attribution: { block_ms: 5000 }, heap: true });
m.on('suspects', (e: Event) => {
  const report: LeakReport = e.report;
  const top: string | undefined = report.suspects[0]?.route;
  const state: 'inactive' | 'pending' | 'firing' = report.state;
  const kind: 'leak' | 'suspects' | 'resolved' = e.kind;
  const text: string = e.report_text;
  void top; void state; void kind; void text;
});
m.replay([{ ts_ms: 1, requests: { '/a': 2 }, baseline: 5e7 }]);
const gc = m.observeBaselineAfterFullGc(Date.now(), 1e8);
void gc;
m.on('error', (err: LeakSenseError) => { const c: string = err.code; void c; });
m.start().stop();
const site: string | undefined = m.report().profile?.sites[0]?.function;
const pause: number | null = m.profileHeap();
const pm = new Monitor({ profile: { sample_bytes: 65536, pprof_dir: null } });
pm.writePprof('/tmp/never-written.pb', 'growth');
void site; void pause;
const text: string = m.reportText();
const verdict: 'insufficient' | 'healthy' | 'leak' = analyze([1, 2], [3, 4], { kind: 'count', limit: null }).verdict;
const d: number | null = deriv([1, 2], [3, 4]);
const p: number | null = predictLinear([1, 2], [3, 4], 2, 10);
const g: number = findGrowthInflection([1, 2, 3], [1, 2, 3], 2, 2);
const unit: string = catalog('node', 'legacy')['v8js.heap.used'].unit;
http.createServer(httpHandler(m, (req, res) => { setRoute('/x'); void currentRequest(); res.end(); }, { route: (req) => req.method ?? '' }));
void express(m); void fastify(m);
const unregister: () => void = registerMetrics(metrics.getMeter('t'), { monitor: m, naming: 'legacy' });
unregister();
registerV8Metrics(metrics.getMeter('t'))();
const coded: LeakSenseError = codedError('invalid_option', 'x');
void coded;
void text; void verdict; void d; void p; void g; void unit;
m.close();
