'use strict';
// Public entry point: the native functions, the Monitor, the middleware and the OTel metrics.
const native = require('../index.js');
const { optionsJson, codedError } = require('./options.js');
const { Monitor } = require('./monitor.js');
const middleware = require('./middleware.js');
const metrics = require('./metrics.js');

/** Replays a series (unix seconds) through the core detector; options are DetectorConfig fields. */
function analyze(timestamps, values, options) {
  return native.analyze(timestamps, values, optionsJson(options));
}

module.exports = {
  Monitor,
  analyze,
  deriv: native.deriv,
  predictLinear: native.predictLinear,
  findGrowthInflection: native.findGrowthInflection,
  formatAmount: native.formatAmount,
  catalog: metrics.catalog,
  registerMetrics: metrics.registerMetrics,
  registerV8Metrics: metrics.registerV8Metrics,
  codedError,
  ...middleware,
};
