/*
 * tests/test_schema_suite.c: the official JSON-Schema-Test-Suite (Debian
 * json-schema-test-suite) through schema.h: every file of tests/draft7,
 * optional/bignum.json and the optional format files of the formats
 * this validator implements.  Prints TAP, one line per file with the
 * cases run, passed and skipped (and why).
 *
 * Each case whose data is a scalar is also checked through
 * kt_schema_validate_scalar(), which must agree with the json-c path.
 *
 * Fails on any failed case, and on a skipped case of a core draft7
 * file that the table SKIPS does not justify.  Exits 77 (skipped) when
 * the suite is not installed.  KT_SCHEMA_SUITE: the suite's directory;
 * KT_SCHEMA_META: the draft-07 meta-schema's (this project's copy).
 */
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema.h"

#define SUITE_DIR "/usr/share/json-schema-test-suite"
#define META_DIR "tests/schemas/json-schema.org"

/* The optional files run beside the core ones. */
static const char *const OPTIONAL[] = {
        "draft7/optional/bignum.json",
        "draft7/optional/format/date-time.json",
        "draft7/optional/format/date.json",
        "draft7/optional/format/time.json",
        "draft7/optional/format/ipv4.json",
        "draft7/optional/format/ipv6.json",
        "draft7/optional/format/hostname.json",
        /* uuid arrived in later drafts' suites */
        "draft2019-09/optional/format/uuid.json",
        "draft2020-12/optional/format/uuid.json",
};

/* Skipped groups of the core files, each with its reason. */
struct skip {
        const char *file;
        const char *group;
        const char *why;
};

static const struct skip SKIPS[] = {
        { NULL, NULL, NULL }
};

struct counts {
        int run, passed, skipped, failed, unjustified;
};

static const char *skip_reason(const char *file, const char *group)
{
        for (const struct skip *s = SKIPS; s->file != NULL; s++)
                if (strcmp(s->file, file) == 0 &&
                    strcmp(s->group, group) == 0)
                        return s->why;
        return NULL;
}

static int scalar_of(struct json_object *d, struct kt_scalar *v)
{
        memset(v, 0, sizeof(*v));
        switch (json_object_get_type(d)) {
        case json_type_null:
                v->kind = KT_J_NULL;
                return 0;
        case json_type_boolean:
                v->kind = KT_J_BOOLEAN;
                v->boolean = json_object_get_boolean(d);
                return 0;
        case json_type_int:
        case json_type_double:
                v->kind = KT_J_NUMBER;
                v->text = json_object_to_json_string_ext(d,
                        JSON_C_TO_STRING_PLAIN);
                v->len = strlen(v->text);
                return 0;
        case json_type_string:
                v->kind = KT_J_STRING;
                v->text = json_object_get_string(d);
                v->len = (size_t)json_object_get_string_len(d);
                return 0;
        default:
                return -1;
        }
}

/* One test case: 1 when it passed (both paths say what it expects). */
static int run_case(const struct kt_schema *s, struct json_object *t,
                    const char *file, const char *group)
{
        struct json_object *data, *valid, *desc;
        struct kt_schema_error e;
        struct kt_scalar sv;
        int want, got, got2;

        json_object_object_get_ex(t, "data", &data);
        json_object_object_get_ex(t, "valid", &valid);
        json_object_object_get_ex(t, "description", &desc);
        want = json_object_get_boolean(valid);
        got = kt_schema_validate(s, data, &e) == 0;
        if (got != want) {
                printf("# FAIL %s: %s: %s: expected %s, got %s%s%s\n", file,
                       group, json_object_get_string(desc),
                       want ? "valid" : "invalid", got ? "valid" : "invalid",
                       got ? "" : ": ", got ? "" : e.message);
                return 0;
        }
        if (scalar_of(data, &sv) != 0)
                return 1;
        got2 = kt_schema_validate_scalar(s, &sv, "", &e) == 0;
        if (got2 != got) {
                printf("# FAIL %s: %s: %s: the scalar path says %s\n", file,
                       group, json_object_get_string(desc),
                       got2 ? "valid" : "invalid");
                return 0;
        }
        return 1;
}

static struct kt_schema_set *new_set(const char *suite, const char *meta)
{
        struct kt_schema_set *set = kt_schema_set_new(NULL);
        char remotes[4096];

        snprintf(remotes, sizeof(remotes), "%s/remotes", suite);
        if (set == NULL ||
            kt_schema_set_map(set, "http://localhost:1234/", remotes) ||
            kt_schema_set_map(set, "http://json-schema.org/", meta)) {
                fprintf(stderr, "out of memory\n");
                exit(1);
        }
        return set;
}

/* One group: a schema and its tests. */
static void run_group(struct json_object *g, const char *file, int core,
                      const char *suite, struct counts *n)
{
        struct json_object *schema, *tests, *desc;
        struct kt_schema_set *set = new_set(suite, getenv("KT_SCHEMA_META") ?
                                            getenv("KT_SCHEMA_META") :
                                            META_DIR);
        const struct kt_schema *s;
        const char *group, *why;
        char err[1024];
        size_t nt;

        json_object_object_get_ex(g, "schema", &schema);
        json_object_object_get_ex(g, "tests", &tests);
        json_object_object_get_ex(g, "description", &desc);
        group = json_object_get_string(desc);
        nt = json_object_array_length(tests);
        s = kt_schema_compile(set, schema, NULL, err, sizeof(err));
        if (s == NULL) {
                why = skip_reason(file, group);
                printf("# skipped %zu of %s: \"%s\": refused at load: %s%s%s\n",
                       nt, file, group, err, why ? "; justified: " : "",
                       why ? why : "");
                n->skipped += (int)nt;
                if (core && why == NULL)
                        n->unjustified += (int)nt;
                kt_schema_set_free(set);
                return;
        }
        for (size_t i = 0; i < nt; i++) {
                n->run++;
                if (run_case(s, json_object_array_get_idx(tests, i), file,
                             group))
                        n->passed++;
                else
                        n->failed++;
        }
        kt_schema_set_free(set);
}

/* The file at path, parsed as the validator parses (exact numbers). */
static struct json_object *read_file(const char *path, char *err,
                                     size_t errlen)
{
        FILE *f = fopen(path, "rb");
        struct json_object *o;
        char *buf;
        long n;

        if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
            fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) ==
            NULL) {
                snprintf(err, errlen, "cannot read");
                if (f != NULL)
                        fclose(f);
                return NULL;
        }
        n = (long)fread(buf, 1, (size_t)n, f);
        fclose(f);
        o = kt_schema_parse(buf, (size_t)n, err, errlen);
        free(buf);
        return o;
}

/* One file, one TAP line; 0 when it passed. */
static int run_file(const char *suite, const char *rel, int core, int num,
                    struct counts *total)
{
        struct counts n = { 0, 0, 0, 0, 0 };
        struct json_object *groups;
        char path[4096], err[512];
        int ok;

        snprintf(path, sizeof(path), "%s/tests/%s", suite, rel);
        if ((groups = read_file(path, err, sizeof(err))) == NULL) {
                printf("not ok %d - %s: %s\n", num, rel, err);
                return 1;
        }
        for (size_t i = 0; i < json_object_array_length(groups); i++)
                run_group(json_object_array_get_idx(groups, i), rel, core,
                          suite, &n);
        json_object_put(groups);
        ok = n.failed == 0 && n.unjustified == 0;
        printf("%s %d - %s: %d run, %d passed, %d failed, %d skipped%s\n",
               ok ? "ok" : "not ok", num, rel, n.run, n.passed, n.failed,
               n.skipped, n.unjustified ? " (not justified)" : "");
        total->run += n.run;
        total->passed += n.passed;
        total->failed += n.failed;
        total->skipped += n.skipped;
        return !ok;
}

static int is_dir(const char *p)
{
        struct stat st;

        return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int json_file(const struct dirent *d)
{
        size_t n = strlen(d->d_name);

        return n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

static int exists(const char *suite, const char *rel)
{
        struct stat st;
        char path[4096];

        snprintf(path, sizeof(path), "%s/tests/%s", suite, rel);
        return stat(path, &st) == 0;
}

int main(void)
{
        const char *suite = getenv("KT_SCHEMA_SUITE") ?
                            getenv("KT_SCHEMA_SUITE") : SUITE_DIR;
        struct counts total = { 0, 0, 0, 0, 0 };
        struct dirent **files;
        char dir[4096], rel[512];
        int nf, bad = 0, num = 0, nopt = 0;
        size_t i;

        snprintf(dir, sizeof(dir), "%s/tests/draft7", suite);
        if (!is_dir(dir)) {
                printf("1..0 # SKIP %s: no such directory (Debian package "
                       "json-schema-test-suite, or set KT_SCHEMA_SUITE)\n",
                       dir);
                return 77;
        }
        if ((nf = scandir(dir, &files, json_file, alphasort)) < 0) {
                perror(dir);
                return 1;
        }
        for (i = 0; i < sizeof(OPTIONAL) / sizeof(OPTIONAL[0]); i++)
                nopt += exists(suite, OPTIONAL[i]);
        printf("1..%d\n", nf + nopt);
        for (int k = 0; k < nf; k++) {
                snprintf(rel, sizeof(rel), "draft7/%s", files[k]->d_name);
                bad |= run_file(suite, rel, 1, ++num, &total);
                free(files[k]);
        }
        free(files);
        for (i = 0; i < sizeof(OPTIONAL) / sizeof(OPTIONAL[0]); i++)
                if (exists(suite, OPTIONAL[i]))
                        bad |= run_file(suite, OPTIONAL[i], 0, ++num, &total);
        printf("# total: %d run, %d passed, %d failed, %d skipped\n",
               total.run, total.passed, total.failed, total.skipped);
        return bad;
}
