/* Runs the shared analyze vectors (tests/vectors/traffic.json) through leaksense_series_analyze,
 * as the Rust, Python, Node and Go suites do: the case's `options` object is passed as its own
 * JSON text, unchanged. A small JSON reader (enough for the vector files and the analysis the
 * ABI returns) keeps the test free of dependencies. Included by test_leaksense.c. */

#include <ctype.h>
#include <stdbool.h>

/* A parsed JSON value; `text`/`len` is its span in the source (objects and arrays too). */
typedef struct json {
  char type; /* o(bject) a(rray) s(tring) n(umber) t(rue) f(alse) z (null) */
  const char *text;
  size_t len;
  double num;
  size_t count;      /* members of an object or array */
  struct json *kids; /* object members alternate key, value */
} json;

static const char *skip_ws(const char *p) {
  while (*p && isspace((unsigned char)*p)) p++;
  return p;
}

static void json_free(json *v) {
  for (size_t i = 0; i < v->count; i++) json_free(&v->kids[i]);
  free(v->kids);
  v->kids = NULL;
  v->count = 0;
}

/* Parses one value at *p into *out; returns false on malformed input. */
static bool json_parse(const char **p, json *out) {
  const char *s = skip_ws(*p);
  memset(out, 0, sizeof *out);
  out->text = s;
  if (*s == '{' || *s == '[') {
    char close = *s == '{' ? '}' : ']';
    out->type = *s == '{' ? 'o' : 'a';
    s = skip_ws(s + 1);
    size_t cap = 0;
    while (*s && *s != close) {
      for (int k = 0; k < (out->type == 'o' ? 2 : 1); k++) {
        if (out->count == cap) {
          cap = cap ? 2 * cap : 8;
          json *grown = realloc(out->kids, cap * sizeof *grown);
          if (!grown) return false;
          out->kids = grown;
        }
        if (!json_parse(&s, &out->kids[out->count])) return false;
        out->count++;
        s = skip_ws(s);
        if (k == 0 && out->type == 'o') {
          if (*s != ':') return false;
          s++;
        }
      }
      s = skip_ws(s);
      if (*s == ',') s = skip_ws(s + 1);
    }
    if (*s != close) return false;
    s++;
  } else if (*s == '"') {
    out->type = 's';
    s++;
    while (*s && *s != '"') s += *s == '\\' ? 2 : 1;
    if (*s != '"') return false;
    s++;
  } else if (strncmp(s, "true", 4) == 0 || strncmp(s, "false", 5) == 0) {
    out->type = *s == 't' ? 't' : 'f';
    s += *s == 't' ? 4 : 5;
  } else if (strncmp(s, "null", 4) == 0) {
    out->type = 'z';
    s += 4;
  } else {
    char *end;
    out->type = 'n';
    out->num = strtod(s, &end);
    if (end == s) return false;
    s = end;
  }
  out->len = (size_t)(s - out->text);
  *p = s;
  return true;
}

/* The member `key` of an object, or NULL. */
static const json *json_get(const json *o, const char *key) {
  if (!o || o->type != 'o') return NULL;
  size_t n = strlen(key);
  for (size_t i = 0; i + 1 < o->count; i += 2) {
    const json *k = &o->kids[i];
    if (k->len == n + 2 && strncmp(k->text + 1, key, n) == 0) return &o->kids[i + 1];
  }
  return NULL;
}

/* Whether a string value equals `s`. */
static bool json_is(const json *v, const char *s) {
  size_t n = strlen(s);
  return v && v->type == 's' && v->len == n + 2 && strncmp(v->text + 1, s, n) == 0;
}

/* An array of numbers as a malloc'd double array (NULL for an empty one). */
static double *json_numbers(const json *a, size_t *n) {
  *n = a ? a->count : 0;
  double *out = *n ? malloc(*n * sizeof *out) : NULL;
  for (size_t i = 0; i < *n; i++) out[i] = a->kids[i].num;
  return out;
}

/* Whether `ms` (a number or null) in seconds lies in the range [lo, hi]. */
static bool in_range(const json *ms, const json *range) {
  return ms && ms->type == 'n' && range && range->count == 2 &&
         ms->num / 1000.0 >= range->kids[0].num && ms->num / 1000.0 <= range->kids[1].num;
}

static void check_case(const json *c) {
  const json *args = json_get(c, "args"), *expect = json_get(c, "expect");
  const json *options = json_get(args, "options");
  const json *name = json_get(c, "name");
  size_t nt, nv;
  double *ts = json_numbers(json_get(args, "timestamps"), &nt);
  double *vs = json_numbers(json_get(args, "values"), &nv);
  char *out = NULL;
  leaksense_error_t *err = leaksense_series_analyze(ts, nt, vs, nv, options ? options->text : NULL,
                                                    options ? options->len : 0, &out);
  const json *want_error = json_get(expect, "error");
  if (want_error) {
    CHECK(err != NULL && json_is(want_error, leaksense_error_code_name(leaksense_error_code(err))));
    if (!err || !json_is(want_error, leaksense_error_code_name(leaksense_error_code(err))))
      fprintf(stderr, "  vector %.*s\n", (int)name->len, name->text);
  } else if (err != NULL) {
    CHECK(!"analyze failed");
    fprintf(stderr, "  vector %.*s: %s\n", (int)name->len, name->text, leaksense_error_message(err));
  } else {
    json a;
    const char *p = out;
    CHECK(json_parse(&p, &a));
    const json *events = json_get(&a, "events");
    const json *first_firing = NULL;
    for (size_t i = 0; events && i < events->count && !first_firing; i++)
      if (json_is(json_get(&events->kids[i], "to"), "firing")) first_firing = &events->kids[i];
    const json *fired = json_get(expect, "fired"), *by = json_get(expect, "fired_by");
    const json *state = json_get(expect, "state");
    int before = failures;
    if (fired) CHECK((first_firing != NULL) == (fired->type == 't'));
    if (by) CHECK(first_firing && json_get(first_firing, "ts_ms")->num / 1000.0 <= by->num);
    if (state) CHECK(json_get(&a, "state")->len == state->len &&
                     strncmp(json_get(&a, "state")->text, state->text, state->len) == 0);
    if (json_get(expect, "growth_start"))
      CHECK(in_range(json_get(&a, "growth_start_ms"), json_get(expect, "growth_start")));
    if (json_get(expect, "growth_stop"))
      CHECK(in_range(json_get(&a, "growth_stop_ms"), json_get(expect, "growth_stop")));
    if (failures != before) fprintf(stderr, "  vector %.*s\n", (int)name->len, name->text);
    json_free(&a);
  }
  if (err) leaksense_error_free(err);
  leaksense_string_free(out);
  free(ts);
  free(vs);
}

/* Runs every case of `path`; at least `min_cases` of them. */
static void test_vector_file(const char *path, size_t min_cases) {
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  if (!f) return;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)size + 1);
  size_t got = fread(text, 1, (size_t)size, f);
  fclose(f);
  text[got] = '\0';
  json doc;
  const char *p = text;
  CHECK(json_parse(&p, &doc));
  const json *cases = json_get(&doc, "cases");
  CHECK(cases != NULL && cases->count >= min_cases);
  for (size_t i = 0; cases && i < cases->count; i++) check_case(&cases->kids[i]);
  json_free(&doc);
  free(text);
}
