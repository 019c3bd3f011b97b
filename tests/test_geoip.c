/*
 * tests/test_geoip.c: the enrich stage's sources (geoip.h) on MaxMind DB
 * files that tests/mmdb/mkmmdb.pl writes at test time: IPv4 and IPv6
 * answers, misses, the cache, a reopen that swaps in a changed database
 * and one that keeps the open one, and the errors at open.  Run from the
 * source tree (tests/run.sh does); skipped (77) without the Perl writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoip.h"

static char dir[] = "/tmp/test_geoip.XXXXXX";
static char country[64], asn[64], nets[64];

static void mkdb(int gen)
{
        char cmd[256];

        snprintf(cmd, sizeof(cmd), "perl tests/mmdb/mkmmdb.pl %s %d", dir,
                 gen);
        if (system(cmd) != 0)
                fail_msg("%s failed", cmd);
}

/* A new file in path's place, as geoipupdate does: the one open stays
 * whole (a database is mapped: rewriting it in place would change it
 * under the reader). */
static void write_file(const char *path, const char *text)
{
        char tmp[80];
        FILE *fp;

        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        assert_non_null(fp = fopen(tmp, "w"));
        fputs(text, fp);
        assert_int_equal(fclose(fp), 0);
        assert_int_equal(rename(tmp, path), 0);
}

static struct geoip *open_all(void)
{
        const struct geoip_conf c = { country, asn, nets };
        struct geoip *g;
        char err[512];

        if ((g = geoip_open(&c, err, sizeof(err))) == NULL)
                fail_msg("%s", err);
        return g;
}

/* What the sources say of addr, as "CC ASN NAME NET" ("-" unknown). */
static const char *ask(struct geoip *g, const char *addr)
{
        static char out[512];
        struct enrich_answer a;

        assert_int_equal(geoip_lookup_text(g, addr, strlen(addr), &a), 0);
        snprintf(out, sizeof(out), "%.*s %lu %.*s %.*s",
                 a.country ? (int)a.country_len : 1,
                 a.country ? a.country : "-",
                 (unsigned long)(a.has_asn ? a.asn : 0),
                 a.as_name ? (int)a.as_name_len : 1,
                 a.as_name ? a.as_name : "-",
                 a.net ? (int)a.net_len : 1, a.net ? a.net : "-");
        return out;
}

static int setup(void **state)
{
        (void)state;
        mkdb(1);
        write_file(nets, "192.0.2.0/24 doc\n2001:db8::/32 doc6\n");
        return 0;
}

static void test_answers(void **state)
{
        struct geoip *g = open_all();
        struct enrich_answer a;

        (void)state;
        assert_string_equal(ask(g, "192.0.2.7"), "FR 64496 Ex\xc3\xa4mple "
                            "\\\"Quoted\\\" Networks doc");
        assert_string_equal(ask(g, "198.51.100.200"), "JP 64500 Plain Org -");
        assert_string_equal(ask(g, "2001:db8::5"), "NL 64511 Doc Six doc6");
        assert_string_equal(ask(g, "2001:db8:7fff::1"), "NL 64511 Doc Six "
                            "doc6");
        /* misses: in no database, or in the list only */
        assert_string_equal(ask(g, "203.0.113.1"), "- 0 - -");
        assert_string_equal(ask(g, "2001:db8:ffff::1"), "- 0 - doc6");
        assert_string_equal(ask(g, "::1"), "- 0 - -");
        assert_int_equal(geoip_lookup_text(g, "192.0.2", 7, &a), -1);
        geoip_close(g);
}

/* geoip_counts() of g is hits, misses and not_found. */
static void counts(struct geoip *g, unsigned long long hits,
                   unsigned long long misses, unsigned long long not_found)
{
        struct geoip_counts c;

        geoip_counts(g, &c);
        if (c.hits != hits || c.misses != misses || c.not_found != not_found)
                fail_msg("hits %llu, misses %llu, not found %llu; want %llu, "
                         "%llu, %llu", c.hits, c.misses, c.not_found, hits,
                         misses, not_found);
}

static void test_cache(void **state)
{
        struct geoip *g = open_all();
        int i;

        (void)state;
        counts(g, 0, 0, 0);
        for (i = 0; i < 5; i++) {
                ask(g, "192.0.2.7");
                ask(g, "2001:db8::5");
        }
        counts(g, 8, 2, 0);
        /* 192.0.2.7 and ::c000:207 have the same 4 bytes first: the
         * same slot, told apart by the family */
        assert_string_equal(ask(g, "c000:207::"), "- 0 - -");
        counts(g, 8, 3, 1);
        assert_string_equal(ask(g, "192.0.2.7"), "FR 64496 Ex\xc3\xa4mple "
                            "\\\"Quoted\\\" Networks doc");
        counts(g, 8, 4, 1);
        /* nothing known, asked again: a hit that found nothing; the
         * list alone knows one: found */
        ask(g, "203.0.113.1");
        ask(g, "203.0.113.1");
        counts(g, 9, 5, 3);
        assert_string_equal(ask(g, "2001:db8:ffff::1"), "- 0 - doc6");
        counts(g, 9, 6, 3);
        geoip_close(g);
}

static void log_quiet(void *opaque, int level, const char *text)
{
        (void)opaque;
        (void)level;
        (void)text;
}

/* geoip_counts()' records read and escaped. */
static unsigned long long decoded(struct geoip *g)
{
        struct geoip_counts c;

        geoip_counts(g, &c);
        return c.decoded;
}

/* Two addresses of one network: two walks, its records read once; the
 * answers come escaped (enrich_value), and after a reopen from the new
 * databases' records. */
static void test_records(void **state)
{
        const struct geoip_log log = { log_quiet, NULL };
        const char *want = "FR 64496 Ex\xc3\xa4mple \\\"Quoted\\\" "
                           "Networks doc";
        struct geoip *g = open_all();
        struct enrich_answer a;

        (void)state;
        assert_string_equal(ask(g, "192.0.2.7"), want);
        assert_int_equal(decoded(g), 2);
        assert_string_equal(ask(g, "192.0.2.8"), want);
        counts(g, 0, 2, 0);
        assert_int_equal(decoded(g), 2);
        memset(&a, 0, sizeof(a));
        assert_int_equal(geoip_lookup_text(g, "192.0.2.9", 9, &a), 0);
        assert_int_equal(a.escaped, 1u << ENRICH_COUNTRY |
                                    1u << ENRICH_AS_NAME);
        assert_string_equal(ask(g, "198.51.100.200"), "JP 64500 Plain Org -");
        assert_int_equal(decoded(g), 4);
        mkdb(2);
        assert_int_equal(geoip_reopen(g, &log), 0);
        assert_string_equal(ask(g, "192.0.2.8"), "DE 64496 Renamed Net doc");
        assert_int_equal(decoded(g), 6);
        geoip_close(g);
}

static int logged;
static char last_log[1024];

static void log_cb(void *opaque, int level, const char *text)
{
        (void)opaque;
        (void)level;
        logged++;
        snprintf(last_log, sizeof(last_log), "%s", text);
}

/* The weekly update: a changed database is swapped in; one that does
 * not open leaves the one open answering. */
static void test_reopen(void **state)
{
        const struct geoip_log log = { log_cb, NULL };
        struct geoip *g = open_all();

        (void)state;
        ask(g, "192.0.2.7"); /* in the cache */
        mkdb(2);
        write_file(nets, "192.0.2.0/25 doc-low\n");
        logged = 0;
        assert_int_equal(geoip_reopen(g, &log), 0);
        assert_int_equal(logged, 3);
        assert_string_equal(ask(g, "192.0.2.7"), "DE 64496 Renamed Net "
                            "doc-low");
        assert_string_equal(ask(g, "2001:db8::5"), "NL 64511 Doc Six -");
        write_file(country, "not a database");
        write_file(nets, "192.0.2.0/25 doc-low\nbad line\n");
        assert_int_equal(unlink(asn), 0);
        assert_int_equal(geoip_reopen(g, &log), 3);
        assert_non_null(strstr(last_log, nets));
        assert_non_null(strstr(last_log, ":2: "));
        assert_non_null(strstr(last_log, "the one open is kept"));
        assert_string_equal(ask(g, "192.0.2.7"), "DE 64496 Renamed Net "
                            "doc-low");
        geoip_close(g);
}

static void open_fails(const struct geoip_conf *c, const char *want)
{
        char err[512] = "";

        assert_null(geoip_open(c, err, sizeof(err)));
        if (strcmp(err, want) != 0)
                fail_msg("got '%s', want '%s'", err, want);
}

static void test_open_errors(void **state)
{
        char missing[80], want[256];
        struct geoip_conf c = { NULL, NULL, NULL };

        (void)state;
        snprintf(missing, sizeof(missing), "%s/missing.mmdb", dir);
        c.country = missing;
        snprintf(want, sizeof(want), "enrich.geoip.country: %s: No such "
                 "file or directory", missing);
        open_fails(&c, want);
        c.country = country;
        c.asn = nets; /* a text file */
        snprintf(want, sizeof(want), "enrich.geoip.asn: %s: not a MaxMind "
                 "DB file (The MaxMind DB file contains invalid metadata)",
                 nets);
        open_fails(&c, want);
        c.asn = NULL;
        c.net = missing;
        snprintf(want, sizeof(want), "enrich.net.file: %s: No such file or "
                 "directory", missing);
        open_fails(&c, want);
        write_file(nets, "10.0.0.0/8 a\n10.0.0.0/33 b\n");
        c.net = nets;
        snprintf(want, sizeof(want), "%s:2: a prefix length beyond the "
                 "address", nets);
        open_fails(&c, want);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_answers, setup),
                cmocka_unit_test_setup(test_cache, setup),
                cmocka_unit_test_setup(test_reopen, setup),
                cmocka_unit_test_setup(test_records, setup),
                cmocka_unit_test_setup(test_open_errors, setup),
        };
        char cmd[128];
        int r;

        if (system("perl -MMaxMind::DB::Writer::Tree -e1 2>/dev/null") != 0) {
                printf("1..0 # SKIP no MaxMind::DB::Writer (Debian "
                       "libmaxmind-db-writer-perl: make deps)\n");
                return 77;
        }
        if (mkdtemp(dir) == NULL) {
                perror(dir);
                return 1;
        }
        snprintf(country, sizeof(country), "%s/country.mmdb", dir);
        snprintf(asn, sizeof(asn), "%s/asn.mmdb", dir);
        snprintf(nets, sizeof(nets), "%s/nets.txt", dir);
        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        r = cmocka_run_group_tests(tests, NULL, NULL);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
                r = 1;
        return r;
}
