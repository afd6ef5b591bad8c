'use strict';
// Options cross into the core as JSON. JSON.stringify would turn NaN/Infinity into null (which
// an optional option reads as "unset"), so non-finite numbers are refused here with the core's code.

/** An Error with a stable leaksense `code` (the core's ErrorCode string). */
function codedError(code, message) {
  return Object.assign(new Error(message), { code });
}

/** Returns `options` (undefined/null mean {}), or throws `invalid_option` if it is no plain object. */
function checkObject(options, what = 'options') {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) throw codedError('invalid_option', `${what} must be an object`);
  return options;
}

/** Serializes an options object for the core; non-finite numbers are `invalid_option`. */
function optionsJson(options, what = 'options') {
  return JSON.stringify(checkObject(options, what), (key, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) throw codedError('invalid_option', `${what}.${key} must be finite, got ${v}`);
    return v;
  });
}

module.exports = { codedError, checkObject, optionsJson };
