/* Calls every function of the leaksense C ABI, error paths included. Run under valgrind by
 * ffi/run-tests.sh: any invalid access or leaked byte fails the run. */
/* mkstemp */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leaksense.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    checks++;                                                                    \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
      failures++;                                                                \
    }                                                                            \
  } while (0)

/* Expects success; prints and frees an unexpected error. */
#define OK(call)                                                                 \
  do {                                                                           \
    leaksense_error_t *err_ = (call);                                            \
    checks++;                                                                    \
    if (err_ != NULL) {                                                          \
      fprintf(stderr, "%s:%d: %s failed: [%s] %s\n", __FILE__, __LINE__, #call,  \
              leaksense_error_code_name(leaksense_error_code(err_)),             \
              leaksense_error_message(err_));                                    \
      leaksense_error_free(err_);                                                \
      failures++;                                                                \
    }                                                                            \
  } while (0)

/* Expects an error with this code and a non-empty message, then frees it. */
#define FAILS(code, call) expect_error((code), (call), #call, __LINE__)

static void expect_error(leaksense_error_code_t code, leaksense_error_t *err, const char *what,
                         int line) {
  checks++;
  if (err == NULL) {
    fprintf(stderr, "line %d: %s succeeded, expected %s\n", line, what,
            leaksense_error_code_name(code));
    failures++;
    return;
  }
  if (leaksense_error_code(err) != code || leaksense_error_message(err)[0] == '\0') {
    fprintf(stderr, "line %d: %s gave [%s] \"%s\", expected %s\n", line, what,
            leaksense_error_code_name(leaksense_error_code(err)), leaksense_error_message(err),
            leaksense_error_code_name(code));
    failures++;
  }
  leaksense_error_free(err);
}

#define S(lit) (lit), (sizeof(lit) - 1)

static void test_errors_and_strings(void) {
  CHECK(strcmp(leaksense_error_code_name(LEAKSENSE_NON_FINITE_VALUE), "non_finite_value") == 0);
  CHECK(strcmp(leaksense_error_code_name(LEAKSENSE_INTERNAL), "internal") == 0);
  CHECK(strcmp(leaksense_error_code_name(0), "unknown") == 0);
  CHECK(strcmp(leaksense_error_code_name(10), "unknown") == 0);
  /* NULL-safe accessors and frees. */
  CHECK(leaksense_error_code(NULL) == LEAKSENSE_INVALID_OPTION);
  CHECK(strcmp(leaksense_error_message(NULL), "") == 0);
  leaksense_error_free(NULL);
  leaksense_string_free(NULL);
}

static void test_series(void) {
  const double ts[] = {10, 20, 30, 40};
  const double vs[] = {1, 6, 11, 16};
  double value = -1;
  bool has = true;

  OK(leaksense_series_deriv(ts, 4, vs, 4, &value, &has));
  CHECK(has && value == 0.5);
  OK(leaksense_series_deriv(ts, 1, vs, 1, &value, &has));
  CHECK(!has);
  OK(leaksense_series_deriv(NULL, 0, NULL, 0, &value, &has));
  CHECK(!has);
  OK(leaksense_series_predict_linear(ts, 2, vs, 2, 30, 10, &value, &has));
  CHECK(has && value == 16.0);

  const double nan_vs[] = {1, NAN, 3, 4};
  const double back_ts[] = {10, 30, 20, 40};
  FAILS(LEAKSENSE_NON_FINITE_VALUE, leaksense_series_deriv(ts, 4, nan_vs, 4, &value, &has));
  FAILS(LEAKSENSE_OUT_OF_ORDER, leaksense_series_deriv(back_ts, 4, vs, 4, &value, &has));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_deriv(ts, 4, vs, 3, &value, &has));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_deriv(NULL, 4, vs, 4, &value, &has));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_deriv(ts, 4, vs, 4, NULL, &has));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_deriv(ts, 4, vs, 4, &value, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION,
        leaksense_series_predict_linear(ts, 4, vs, 4, NAN, 10, &value, &has));
  FAILS(LEAKSENSE_INVALID_OPTION,
        leaksense_series_predict_linear(ts, 4, vs, 4, 30, INFINITY, &value, &has));
  FAILS(LEAKSENSE_INVALID_OPTION,
        leaksense_series_predict_linear(ts, 4, vs, 4, 30, 10, &value, NULL));
  FAILS(LEAKSENSE_NON_FINITE_VALUE,
        leaksense_series_predict_linear(ts, 4, nan_vs, 4, 30, 10, &value, &has));

  /* The article's rule on a series flat up to index 10 and rising after: the first window of
   * 12 points with at least 9.6 rising steps starts at index 9. */
  double t[30], v[30];
  for (int i = 0; i < 30; i++) {
    t[i] = 1000 + 60.0 * i;
    v[i] = i <= 10 ? 10 : i;
  }
  double start = 0;
  OK(leaksense_series_find_growth_inflection(t, 30, v, 30, 12, 0.8, &start));
  CHECK(start == 1000 + 60.0 * 9);
  FAILS(LEAKSENSE_EMPTY_INPUT, leaksense_series_find_growth_inflection(t, 0, v, 0, 12, 0.8, &start));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_find_growth_inflection(t, 30, v, 30, 0, 0.8, &start));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_find_growth_inflection(t, 30, v, 30, 12, 1.5, &start));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_find_growth_inflection(t, 30, v, 30, 12, NAN, &start));
  FAILS(LEAKSENSE_NON_FINITE_VALUE,
        leaksense_series_find_growth_inflection(ts, 4, nan_vs, 4, 2, 0.5, &start));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_find_growth_inflection(t, 30, v, 30, 12, 0.8, NULL));

  char *json = NULL;
  OK(leaksense_series_analyze(ts, 4, vs, 4, S("{\"kind\": \"heap\", \"limit\": 5e8}"), &json));
  CHECK(json != NULL && strstr(json, "\"verdict\":\"insufficient\"") != NULL);
  CHECK(json != NULL && strstr(json, "\"limit\":500000000.0") != NULL);
  leaksense_string_free(json);
  json = NULL;
  OK(leaksense_series_analyze(ts, 4, vs, 4, NULL, 0, &json)); /* all defaults */
  CHECK(json != NULL && strstr(json, "\"limit\":null") != NULL);
  leaksense_string_free(json);
  json = NULL;
  OK(leaksense_series_analyze(ts, 4, vs, 4, S("{\"kind\": \"count\", \"for_secs\": 60}"), &json));
  leaksense_string_free(json);
  json = NULL;
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_analyze(ts, 4, vs, 4, S("{\"kind\": \"bytes\"}"), &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_analyze(ts, 4, vs, 4, S("{\"limit\": 0}"), &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_analyze(ts, 4, vs, 4, S("{\"bogus\": 1}"), &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_analyze(ts, 4, vs, 4, S("[1]"), &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_analyze(ts, 4, vs, 4, NULL, 3, &json));
  FAILS(LEAKSENSE_EMPTY_INPUT, leaksense_series_analyze(NULL, 0, NULL, 0, S("{}"), &json));
  FAILS(LEAKSENSE_OUT_OF_ORDER, leaksense_series_analyze(back_ts, 4, vs, 4, S("{\"kind\": \"count\"}"), &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_analyze(ts, 4, vs, 4, S("{}"), NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_series_analyze(ts, 4, vs, 4, "\xff", 1, &json));
  CHECK(json == NULL);
}

static void test_format_amount(void) {
  char *text = NULL;
  OK(leaksense_format_amount(53657.6, S("By"), &text));
  CHECK(strcmp(text, "52.4 KiB") == 0);
  leaksense_string_free(text);
  OK(leaksense_format_amount(5776, S("{file_descriptor}"), &text));
  CHECK(strcmp(text, "5776 file descriptors") == 0);
  leaksense_string_free(text);
  OK(leaksense_format_amount(1, S("{goroutine}"), &text));
  CHECK(strcmp(text, "1 goroutine") == 0);
  leaksense_string_free(text);
  text = NULL;
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_format_amount(1, S(""), &text));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_format_amount(1, S("a\nb"), &text));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_format_amount(1, NULL, 3, &text));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_format_amount(1, S("By"), NULL));
  CHECK(text == NULL);
}

static void test_catalog(void) {
  leaksense_catalog_t *cat = NULL;
  OK(leaksense_catalog_new(S("go"), S("semconv"), &cat));
  size_t len = 0;
  OK(leaksense_catalog_len(cat, &len));
  CHECK(len > 10);
  int found_goroutines = 0;
  for (size_t i = 0; i < len; i++) {
    leaksense_metric_t m;
    OK(leaksense_catalog_get(cat, i, &m));
    CHECK(m.key[0] != '\0' && m.name[0] != '\0' && m.unit[0] != '\0' && m.description[0] != '\0');
    CHECK(m.kind >= LEAKSENSE_OBSERVABLE_COUNTER && m.kind <= LEAKSENSE_HISTOGRAM);
    if (strcmp(m.key, "go.goroutine.count") == 0) {
      found_goroutines = 1;
      CHECK(strcmp(m.name, "go.goroutine.count") == 0);
      CHECK(strcmp(m.unit, "{goroutine}") == 0);
      CHECK(m.kind == LEAKSENSE_OBSERVABLE_UP_DOWN_COUNTER);
    }
  }
  CHECK(found_goroutines);
  leaksense_metric_t m;
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_catalog_get(cat, len, &m));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_catalog_get(cat, 0, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_catalog_get(NULL, 0, &m));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_catalog_len(NULL, &len));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_catalog_len(cat, NULL));
  leaksense_catalog_free(cat);

  /* Legacy names, and the default naming when it is omitted. */
  OK(leaksense_catalog_new(S("go"), S("legacy"), &cat));
  OK(leaksense_catalog_len(cat, &len));
  int legacy = 0;
  for (size_t i = 0; i < len; i++) {
    OK(leaksense_catalog_get(cat, i, &m));
    if (strcmp(m.key, "go.goroutine.count") == 0)
      legacy = strcmp(m.name, "process.runtime.go.goroutines") == 0;
  }
  CHECK(legacy);
  leaksense_catalog_free(cat);
  OK(leaksense_catalog_new(S("process"), NULL, 0, &cat));
  leaksense_catalog_free(cat);

  cat = NULL;
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_catalog_new(S("java"), NULL, 0, &cat));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_catalog_new(S("go"), S("old"), &cat));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_catalog_new(NULL, 0, NULL, 0, &cat));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_catalog_new(NULL, 2, NULL, 0, &cat));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_catalog_new(S("go"), NULL, 0, NULL));
  CHECK(cat == NULL);
  leaksense_catalog_free(NULL);

  leaksense_span_attributes_t names;
  OK(leaksense_span_attributes_get(&names));
  CHECK(strcmp(names.allocated_bytes, "memory.allocated_bytes") == 0);
  CHECK(names.rss_delta_bytes[0] != '\0');
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_span_attributes_get(NULL));
}

static void test_monitor_lifecycle(void) {
  leaksense_monitor_t *m = NULL;
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_new(NULL, 0, S("{\"bogus\": 1}"), &m));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_new(NULL, 0, S("{not json"), &m));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_new(NULL, 0, S("[]"), &m));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_new(NULL, 0, S("{\"interval_ms\": 0}"), &m));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_new(NULL, 0, NULL, 5, &m));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_new(NULL, 3, NULL, 0, &m));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_new(S("ruby"), NULL, 0, &m));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_new(S("go"), S("{\"runtime\": \"node\"}"), &m));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_new(NULL, 0, S("{}"), NULL));
  CHECK(m == NULL);

  OK(leaksense_monitor_new(NULL, 0, NULL, 0, &m)); /* all defaults */
  leaksense_monitor_free(m);
  m = NULL;
  OK(leaksense_monitor_new(S("go"), S("{\"interval_ms\": 10}"), &m));
  char *config = NULL;
  OK(leaksense_monitor_config(m, &config));
  /* The go preset under the options. */
  CHECK(config != NULL && strstr(config, "\"interval_ms\":10") != NULL);
  CHECK(config != NULL && strstr(config, "\"measures\":[]") != NULL);
  CHECK(config != NULL && strstr(config, "\"counts\":[\"open_fds\",\"goroutines\"]") != NULL);
  leaksense_string_free(config);
  config = NULL;
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_config(m, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_config(NULL, &config));
  bool running = true;
  OK(leaksense_monitor_is_running(m, &running));
  CHECK(!running);
  OK(leaksense_monitor_start(m));
  OK(leaksense_monitor_start(m)); /* a no-op while running */
  OK(leaksense_monitor_is_running(m, &running));
  CHECK(running);
  OK(leaksense_monitor_stop(m));
  OK(leaksense_monitor_stop(m));
  OK(leaksense_monitor_is_running(m, &running));
  CHECK(!running);

  char *json = NULL;
  OK(leaksense_monitor_sample(m, &json));
  CHECK(json != NULL && strstr(json, "\"rss_bytes\"") != NULL);
  leaksense_string_free(json);
  /* Explicit times must move forward. */
  OK(leaksense_monitor_sample_at(m, 4102444800000, &json)); /* 2100-01-01 */
  leaksense_string_free(json);
  json = NULL;
  FAILS(LEAKSENSE_OUT_OF_ORDER, leaksense_monitor_sample_at(m, 1000, &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_sample(m, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_sample_at(m, 4102444900000, NULL));
  CHECK(json == NULL);

  OK(leaksense_monitor_set_runtime_limit(m, true, 1u << 30));
  OK(leaksense_monitor_set_runtime_limit(m, false, 0));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_set_runtime_limit(m, true, 0));

  leaksense_watched_t watched = 0;
  OK(leaksense_monitor_watched(m, &watched));
  CHECK(watched == LEAKSENSE_WATCHED_RSS);
  OK(leaksense_monitor_observe_baseline(m, 1700000000000, 5e7));
  OK(leaksense_monitor_watched(m, &watched));
  CHECK(watched == LEAKSENSE_WATCHED_RUNTIME_BASELINE);
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_watched(m, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_watched(NULL, &watched));
  FAILS(LEAKSENSE_NON_FINITE_VALUE, leaksense_monitor_observe_baseline(m, 1700000060000, NAN));
  FAILS(LEAKSENSE_OUT_OF_ORDER, leaksense_monitor_observe_baseline(m, 1600000000000, 5e7));

  OK(leaksense_monitor_analysis(m, &json));
  CHECK(json != NULL && strstr(json, "\"verdict\"") != NULL);
  leaksense_string_free(json);
  OK(leaksense_monitor_poll_events(m, &json));
  CHECK(json != NULL && strcmp(json, "[]") == 0);
  leaksense_string_free(json);
  OK(leaksense_monitor_report_json(m, &json));
  CHECK(json != NULL && strstr(json, "\"schema_version\"") != NULL);
  leaksense_string_free(json);
  OK(leaksense_monitor_report_text(m, &json));
  CHECK(json != NULL && strstr(json, "leaksense:") != NULL);
  leaksense_string_free(json);
  OK(leaksense_monitor_gauges(m, &json));
  CHECK(json != NULL && strstr(json, "\"detector.state\":0.0") != NULL);
  CHECK(json != NULL && strstr(json, "\"memory.baseline\":null") != NULL); /* no floor point yet */
  leaksense_string_free(json);
  json = NULL;
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_gauges(m, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_replay(m, S("{}")));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_replay(m, NULL, 2));
  FAILS(LEAKSENSE_OUT_OF_ORDER, leaksense_monitor_replay(m, S("[{\"ts_ms\": 1, \"baseline\": 1}]")));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_analysis(m, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_poll_events(m, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_report_json(m, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_report_text(m, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_is_running(m, NULL));

  /* Every function refuses a NULL monitor with a typed error. */
  json = NULL;
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_start(NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_stop(NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_close(NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_is_running(NULL, &running));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_sample(NULL, &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_sample_at(NULL, 1, &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_observe_baseline(NULL, 1, 1));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_set_runtime_limit(NULL, false, 0));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_analysis(NULL, &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_poll_events(NULL, &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_report_json(NULL, &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_report_text(NULL, &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_gauges(NULL, &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_replay(NULL, S("[]")));
  CHECK(json == NULL);

  /* Closed: idempotent, and every later call answers LEAKSENSE_CLOSED. */
  OK(leaksense_monitor_start(m));
  OK(leaksense_monitor_close(m));
  OK(leaksense_monitor_close(m));
  OK(leaksense_monitor_is_running(m, &running));
  CHECK(!running);
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_start(m));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_sample(m, &json));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_sample_at(m, 4102444900000, &json));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_observe_baseline(m, 1700000120000, 5e7));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_set_runtime_limit(m, true, 1));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_analysis(m, &json));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_poll_events(m, &json));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_report_json(m, &json));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_report_text(m, &json));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_watched(m, &watched));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_gauges(m, &json));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_replay(m, S("[]")));
  leaksense_request_t req;
  FAILS(LEAKSENSE_CLOSED, leaksense_request_begin(m, S("GET /x"), NULL, 0, &req));
  CHECK(json == NULL);
  OK(leaksense_monitor_stop(m)); /* stopping a closed monitor is harmless */
  leaksense_monitor_free(m);
  leaksense_monitor_free(NULL);
}

static void test_requests(void) {
  leaksense_monitor_t *m = NULL;
  OK(leaksense_monitor_new(S("go"), S("{\"measures\": [\"goroutines\", \"heap_allocs\"]}"), &m));
  leaksense_monitor_t *other = NULL;
  OK(leaksense_monitor_new(NULL, 0, S("{\"measures\": [\"goroutines\", \"heap_allocs\"]}"), &other));

  leaksense_request_t req;
  memset(&req, 0, sizeof req);
  const double start[] = {10, 1000};
  const double end[] = {12, 5096};
  OK(leaksense_request_begin(m, S("GET /users/{id}"), start, 2, &req));
  CHECK(req.state != 0);
  leaksense_request_outcome_t out;
  memset(&out, 0, sizeof out);
  OK(leaksense_request_end(m, &req, end, 2, &out));
  CHECK(req.state == 0);
  CHECK(out.deltas_len == 2 && out.deltas[0] == 2 && out.deltas[1] == 4096);
  CHECK(out.ts_ms > 1600000000000);
  /* Ending twice, or a zeroed request, is refused. */
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_end(m, &req, end, 2, &out));
  leaksense_request_t zero;
  memset(&zero, 0, sizeof zero);
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_end(m, &zero, end, 2, &out));
  /* The outcome is optional. */
  OK(leaksense_request_begin(m, S("GET /users/{id}"), start, 2, &req));
  OK(leaksense_request_end(m, &req, end, 2, NULL));

  /* Bad measures: wrong count, NaN, NULL with a length; bad routes; NULL pointers. */
  const double nan2[] = {NAN, 1};
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_begin(m, S("GET /"), start, 1, &req));
  FAILS(LEAKSENSE_NON_FINITE_VALUE, leaksense_request_begin(m, S("GET /"), nan2, 2, &req));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_begin(m, S("GET /"), NULL, 2, &req));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_begin(m, "\xc3\x28", 2, start, 2, &req));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_begin(m, NULL, 3, start, 2, &req));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_begin(m, S("GET /"), start, 2, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_begin(NULL, S("GET /"), start, 2, &req));
  OK(leaksense_request_begin(m, S("GET /"), start, 2, &req));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_end(m, &req, end, 1, &out));
  FAILS(LEAKSENSE_NON_FINITE_VALUE, leaksense_request_end(m, &req, nan2, 2, &out));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_end(m, NULL, end, 2, &out));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_end(NULL, &req, end, 2, &out));
  /* A request begun on one monitor is refused by another. */
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_end(other, &req, end, 2, &out));
  /* A failed end leaves the request open, so it can still be ended. */
  OK(leaksense_request_end(m, &req, end, 2, &out));

  char *json = NULL;
  OK(leaksense_monitor_report_json(m, &json));
  CHECK(json != NULL && strstr(json, "GET /users/{id}") != NULL);
  leaksense_string_free(json);

  /* Closing between begin and end: end answers closed. */
  OK(leaksense_request_begin(m, S("GET /"), start, 2, &req));
  OK(leaksense_monitor_close(m));
  FAILS(LEAKSENSE_CLOSED, leaksense_request_end(m, &req, end, 2, &out));
  leaksense_monitor_free(m);
  leaksense_monitor_free(other);
}

/* The one-call request path: a route id resolved once, then one record per request. */
static void test_record(void) {
  leaksense_monitor_t *m = NULL;
  OK(leaksense_monitor_new(S("go"), S("{\"measures\": [\"goroutines\", \"heap_allocs\"], \"max_routes\": 2}"), &m));
  uint32_t users = 99, again = 98, other = 97, third = 96;
  OK(leaksense_monitor_route_id(m, S("GET /users/{id}"), &users));
  OK(leaksense_monitor_route_id(m, S("GET /users/{id}"), &again));
  CHECK(users == again);
  OK(leaksense_monitor_route_id(m, S("GET /health"), &third));
  OK(leaksense_monitor_route_id(m, S("GET /over-the-cap"), &other));
  CHECK(other != users && other != third);
  /* The unmatched route is an ordinary route, not the overflow bucket `_other`. */
  CHECK(strcmp(leaksense_unmatched_route(), "_unmatched") == 0);
  double rss = 0;
  OK(leaksense_monitor_request_rss(m, &rss));
  CHECK(isnan(rss)); /* rss_per_request is off by default */
  const double start[] = {10, 1000};
  const double end[] = {12, 5096};
  leaksense_request_outcome_t out;
  memset(&out, 0, sizeof out);
  OK(leaksense_request_record(m, users, start, end, 2, rss, &out));
  CHECK(out.deltas_len == 2 && out.deltas[0] == 2 && out.deltas[1] == 4096);
  CHECK(!out.has_rss_delta && out.ts_ms > 1600000000000);
  OK(leaksense_request_record(m, other, start, end, 2, NAN, NULL));
  /* Unknown ids, bad measures and NULL pointers are typed errors. */
  const double nan2[] = {NAN, 1};
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_record(m, 12345, start, end, 2, NAN, &out));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_record(m, users, start, end, 1, NAN, &out));
  FAILS(LEAKSENSE_NON_FINITE_VALUE, leaksense_request_record(m, users, nan2, end, 2, NAN, &out));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_record(m, users, NULL, end, 2, NAN, &out));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_request_record(NULL, users, start, end, 2, NAN, &out));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_route_id(m, "\xc3\x28", 2, &users));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_route_id(m, S("GET /"), NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_route_id(NULL, S("GET /"), &users));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_request_rss(m, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_request_rss(NULL, &rss));
  char *json = NULL;
  OK(leaksense_monitor_report_json(m, &json));
  CHECK(json != NULL && strstr(json, "GET /users/{id}") != NULL && strstr(json, "_other") != NULL);
  leaksense_string_free(json);

  /* The scrape's structs: memory without feeding the detector, gauges without JSON. */
  leaksense_memory_t mem;
  memset(&mem, 0, sizeof mem);
  OK(leaksense_monitor_memory(m, &mem));
  CHECK(mem.rss_bytes > 0 && mem.virtual_bytes >= mem.rss_bytes);
  CHECK(mem.has_peak_rss && mem.peak_rss_bytes >= mem.rss_bytes / 2);
  leaksense_gauges_t g;
  memset(&g, 0, sizeof g);
  OK(leaksense_monitor_gauge_values(m, &g));
  CHECK(LEAKSENSE_GAUGE_COUNT == 5);
  CHECK(strcmp(leaksense_gauge_key(4), "detector.state") == 0 && g.present[4] && g.values[4] == 0);
  CHECK(strcmp(leaksense_gauge_key(1), "memory.baseline") == 0 && !g.present[1]);
  CHECK(leaksense_gauge_key(LEAKSENSE_GAUGE_COUNT) == NULL);
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_memory(m, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_memory(NULL, &mem));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_gauge_values(m, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_gauge_values(NULL, &g));
  OK(leaksense_monitor_analysis(m, &json));
  CHECK(json != NULL && strstr(json, "\"samples\":0") != NULL); /* a scrape is not a sample */
  leaksense_string_free(json);

  /* With rss_per_request, the start reading comes from the core and the end is read by it. */
  leaksense_monitor_t *r = NULL;
  OK(leaksense_monitor_new(NULL, 0, S("{\"rss_per_request\": true}"), &r));
  uint32_t id = 0;
  OK(leaksense_monitor_route_id(r, S("GET /"), &id));
  OK(leaksense_monitor_request_rss(r, &rss));
  CHECK(rss > 0);
  OK(leaksense_request_record(r, id, NULL, NULL, 0, rss, &out));
  CHECK(out.deltas_len == 0 && out.has_rss_delta);
  leaksense_monitor_free(r);

  OK(leaksense_monitor_close(m));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_route_id(m, S("GET /"), &users));
  FAILS(LEAKSENSE_CLOSED, leaksense_request_record(m, users, start, end, 2, NAN, &out));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_memory(m, &mem));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_gauge_values(m, &g));
  leaksense_monitor_free(m);
}

/* Six hours of a post-GC baseline, flat for two and then rising 40 KB a minute, with
 * injected times: the default detector fires, the event queue has the leak event with its
 * report, and polling drains. */
static void test_detection_events(void) {
  leaksense_monitor_t *m = NULL;
  OK(leaksense_monitor_new(NULL, 0, S("{\"memory_limit\": 4000000000}"), &m));
  unsigned int seed = 7;
  const long long t0 = 1700000000000LL;
  for (int step = 0; step < 6 * 60 / 2; step++) {
    seed = seed * 1103515245u + 12345u;
    double noise = (double)((seed >> 16) % 100000);
    double minutes = step * 2.0;
    double growth = minutes > 120 ? (minutes - 120) * 40000.0 : 0;
    OK(leaksense_monitor_observe_baseline(m, t0 + step * 120000LL, 5e7 + growth + noise));
  }
  char *json = NULL;
  OK(leaksense_monitor_poll_events(m, &json));
  CHECK(json != NULL && strncmp(json, "[{\"kind\":\"leak\",", 16) == 0);
  CHECK(json != NULL && strstr(json, "\"measure\":\"memory\"") != NULL);
  CHECK(json != NULL && strstr(json, "\"report_text\":\"leaksense: LEAK (alert firing)") != NULL);
  leaksense_string_free(json);
  OK(leaksense_monitor_poll_events(m, &json));
  CHECK(json != NULL && strcmp(json, "[]") == 0);
  leaksense_string_free(json);
  OK(leaksense_monitor_analysis(m, &json));
  CHECK(json != NULL && strstr(json, "\"verdict\":\"leak\"") != NULL);
  leaksense_string_free(json);
  leaksense_monitor_free(m);
}

/* A goroutine count fed by hand (as the Go binding does): flat for two hours, then two more
 * every minute. The count alerts on its own, as "goroutines", and has its own report. */
static void test_counts(void) {
  leaksense_monitor_t *m = NULL;
  OK(leaksense_monitor_new(S("go"), S("{\"rss_per_request\": false}"), &m));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_observe_count(m, S("threads"), 1, 1));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_observe_count(m, NULL, 3, 1, 1));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_observe_count(NULL, S("goroutines"), 1, 1));
  FAILS(LEAKSENSE_NON_FINITE_VALUE, leaksense_monitor_observe_count(m, S("goroutines"), 1, NAN));
  unsigned int seed = 11;
  const long long t0 = 1700000000000LL;
  for (int step = 0; step < 6 * 60 / 2; step++) {
    seed = seed * 1103515245u + 12345u;
    double minutes = step * 2.0;
    double leaked = minutes > 120 ? (minutes - 120) * 2.0 : 0;
    OK(leaksense_monitor_observe_count(m, S("goroutines"), t0 + step * 120000LL,
                                       40 + leaked + (double)((seed >> 16) % 5)));
  }
  FAILS(LEAKSENSE_OUT_OF_ORDER, leaksense_monitor_observe_count(m, S("goroutines"), t0, 1));
  char *json = NULL;
  OK(leaksense_monitor_poll_events(m, &json));
  CHECK(json != NULL && strncmp(json, "[{\"kind\":\"leak\",", 16) == 0);
  CHECK(json != NULL && strstr(json, "\"measure\":\"goroutines\"") != NULL);
  CHECK(json != NULL && strstr(json, "\"measure\":\"memory\"") == NULL);
  leaksense_string_free(json);
  OK(leaksense_monitor_report_for_json(m, S("goroutines"), &json));
  CHECK(json != NULL && strstr(json, "\"series\": \"goroutines\"") != NULL);
  CHECK(json != NULL && strstr(json, "\"verdict\": \"leak\"") != NULL);
  leaksense_string_free(json);
  OK(leaksense_monitor_report_for_text(m, S("goroutines"), &json));
  CHECK(json != NULL && strstr(json, "series         goroutines") != NULL);
  leaksense_string_free(json);
  OK(leaksense_monitor_report_for_json(m, S("memory"), &json));
  CHECK(json != NULL && strstr(json, "\"series\": \"memory\"") != NULL);
  CHECK(json != NULL && strstr(json, "\"counts\": [") != NULL);
  leaksense_string_free(json);
  OK(leaksense_monitor_gauges(m, &json));
  CHECK(json != NULL && strstr(json, "\"go.goroutine.count\":") != NULL);
  leaksense_string_free(json);
  json = NULL;
  /* The same without JSON: the detector's gauges, and a count's latest reading. */
  leaksense_gauges_t gauges;
  OK(leaksense_monitor_gauge_values(m, &gauges));
  double value = -1;
  bool present = false;
  OK(leaksense_monitor_count_value(m, S("goroutines"), &value, &present));
  CHECK(present && value >= 40);
  OK(leaksense_monitor_count_value(m, S("open_fds"), &value, &present));
  CHECK(!present && value == 0); /* nothing has counted descriptors: no sampler ran */
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_count_value(m, S("threads"), &value, &present));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_count_value(m, S("goroutines"), NULL, &present));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_count_value(m, S("goroutines"), &value, NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_count_value(NULL, S("goroutines"), &value, &present));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_report_for_json(m, S("threads"), &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_report_for_json(m, NULL, 2, &json));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_report_for_json(m, S("goroutines"), NULL));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_report_for_text(NULL, S("goroutines"), &json));
  CHECK(json == NULL);
  OK(leaksense_monitor_close(m));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_observe_count(m, S("goroutines"), t0 * 2, 1));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_report_for_text(m, S("goroutines"), &json));
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_count_value(m, S("goroutines"), &value, &present));
  CHECK(json == NULL);
  leaksense_monitor_free(m);
}

static void test_profile(void) {
  leaksense_monitor_t *m = NULL;
  /* The Go preset has the profile on; the process preset (NULL runtime) has it off. */
  OK(leaksense_monitor_new(S("go"), S("{\"memory_limit\": 4000000000}"), &m));
  char path[] = "/tmp/leaksense-c-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FAILS(LEAKSENSE_EMPTY_INPUT, leaksense_monitor_write_pprof(m, path, strlen(path), 0));
  /* Two frames: main.leak (leaf) called by main.main; one stack of both. */
  static const char text[] = "main.leakapp.gomain.main";
  leaksense_profile_frame_t frames[2] = {{0, 9, 9, 6, 12}, {15, 9, 9, 6, 40}};
  uint32_t stack[2] = {0, 1};
  leaksense_profile_sample_t samples[1] = {{0, 2, 16, 16384}};
  OK(leaksense_monitor_profile_replace(m, 1700000000000LL, text, strlen(text), frames, 2, stack, 2,
                                       samples, 1, 524288));
  samples[0].bytes = 1 << 24;
  samples[0].objects = 4096;
  OK(leaksense_monitor_profile_replace(m, 1700000600000LL, text, strlen(text), frames, 2, stack, 2,
                                       samples, 1, 524288));
  OK(leaksense_monitor_write_pprof(m, path, strlen(path), LEAKSENSE_PPROF_INUSE));
  OK(leaksense_monitor_write_pprof(m, path, strlen(path), LEAKSENSE_PPROF_GROWTH));
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL && fseek(f, 0, SEEK_END) == 0 && ftell(f) > 0);
  if (f) fclose(f);
  char *json = NULL;
  OK(leaksense_monitor_report_json(m, &json));
  CHECK(json != NULL && strstr(json, "\"function\": \"main.leak\"") != NULL);
  leaksense_string_free(json);
  /* A frame range outside the text, a stack outside stack_frames, a bad kind, NULLs. */
  leaksense_profile_frame_t bad_frame[1] = {{20, 9, 0, 1, 1}};
  FAILS(LEAKSENSE_INVALID_OPTION,
        leaksense_monitor_profile_replace(m, 1700000900000LL, text, strlen(text), bad_frame, 1,
                                          stack, 1, NULL, 0, 1));
  leaksense_profile_sample_t bad_sample[1] = {{1, 5, 1, 1}};
  FAILS(LEAKSENSE_INVALID_OPTION,
        leaksense_monitor_profile_replace(m, 1700000900000LL, text, strlen(text), frames, 2, stack,
                                          2, bad_sample, 1, 1));
  uint32_t far[1] = {7};
  leaksense_profile_sample_t far_sample[1] = {{0, 1, 1, 1}};
  FAILS(LEAKSENSE_INVALID_OPTION,
        leaksense_monitor_profile_replace(m, 1700000900000LL, text, strlen(text), frames, 2, far, 1,
                                          far_sample, 1, 1));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_profile_replace(m, 1, NULL, 3, NULL, 0, NULL,
                                                                    0, NULL, 0, 1));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_write_pprof(m, path, strlen(path), 9));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_write_pprof(m, NULL, 0, 0));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_write_pprof(NULL, path, strlen(path), 0));
  FAILS(LEAKSENSE_IO, leaksense_monitor_write_pprof(m, S("/no/such/dir/x.pb"), 0));
  leaksense_monitor_close(m);
  FAILS(LEAKSENSE_CLOSED, leaksense_monitor_profile_replace(m, 1700000900000LL, text, strlen(text),
                                                            frames, 2, stack, 2, samples, 1, 1));
  leaksense_monitor_free(m);
  OK(leaksense_monitor_new(NULL, 0, S("{}"), &m));
  FAILS(LEAKSENSE_INVALID_OPTION, leaksense_monitor_profile_replace(m, 1, text, strlen(text), frames,
                                                                    2, stack, 2, samples, 1, 1));
  leaksense_monitor_free(m);
  remove(path);
}

#include "vectors.c"

int main(int argc, char **argv) {
  /* The shared vectors of the detector on real traffic, from the repository root. */
  const char *vectors = argc > 1 ? argv[1] : "tests/vectors/traffic.json";
  test_errors_and_strings();
  test_series();
  test_catalog();
  test_format_amount();
  test_monitor_lifecycle();
  test_requests();
  test_record();
  test_detection_events();
  test_vector_file(vectors, 10);
  test_counts();
  test_profile();
  if (failures) {
    fprintf(stderr, "%d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("all %d checks passed\n", checks);
  return 0;
}
