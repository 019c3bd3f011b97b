/*
 * tests/test_formats.c: the draft-07 format checks (formats.h): cases of
 * our own for each format, the bounds (NUL bytes, no byte read past the
 * length), every date of eight centuries against timegm(), ipv4 and ipv6
 * against inet_pton(), and the official JSON-Schema-Test-Suite files read
 * with json-c ($KT_SCHEMA_SUITE, default /usr/share/json-schema-test-suite;
 * skipped when it is not there).
 *
 * The "suite" cases below marked so are copied from JSON-Schema-Test-Suite
 * 44401e0c (2026-08-22), tests/draft7/optional/format and
 * tests/draft2019-09/optional/format/uuid.json: newer than Debian's 2.0.0,
 * whose draft-07 files hold 32 string cases and no uuid.json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats.h"

struct fcase {
        const char *s;
        size_t len;
        int ok;
};

/* Literals may hold NUL bytes: the length is the literal's. */
#define Y(lit) { (lit), sizeof(lit) - 1, 1 }
#define N(lit) { (lit), sizeof(lit) - 1, 0 }
#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

static void show(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c >= 0x20 && c < 0x7f && c != '\\')
                        print_error("%c", c);
                else
                        print_error("\\x%02x", c);
        }
}

/*
 * kt_format_ok on a copy of exactly len bytes, so that ASan sees a read
 * past the end.
 */
static int ok_exact(enum kt_format f, const char *s, size_t len)
{
        char *copy = malloc(len ? len : 1);
        int rc;

        assert_non_null(copy);
        memcpy(copy, s, len);
        rc = kt_format_ok(f, copy, len);
        free(copy);
        return rc;
}

/* Every case, each wrong one named, then one failure. */
static void check_cases(enum kt_format f, const struct fcase *c, size_t n)
{
        int bad = 0;

        for (size_t i = 0; i < n; i++) {
                if (ok_exact(f, c[i].s, c[i].len) == c[i].ok)
                        continue;
                print_error("%s \"", kt_format_name(f));
                show(c[i].s, c[i].len);
                print_error("\": expected %s\n",
                            c[i].ok ? "valid" : "invalid");
                bad++;
        }
        assert_int_equal(bad, 0);
}

static void test_lookup_and_names(void **state)
{
        static const char *const all[] = {
                "date-time", "date", "time", "ipv4", "ipv6", "uuid",
                "hostname"
        };

        (void)state;
        for (size_t i = 0; i < NCASES(all); i++) {
                enum kt_format f = kt_format_lookup(all[i]);

                assert_int_not_equal(f, KT_FORMAT_NONE);
                assert_string_equal(kt_format_name(f), all[i]);
        }
        /* draft-07 formats the validator refuses, and near misses */
        assert_int_equal(kt_format_lookup("email"), KT_FORMAT_NONE);
        assert_int_equal(kt_format_lookup("uri"), KT_FORMAT_NONE);
        assert_int_equal(kt_format_lookup("idn-hostname"), KT_FORMAT_NONE);
        assert_int_equal(kt_format_lookup("Date-Time"), KT_FORMAT_NONE);
        assert_int_equal(kt_format_lookup("date-time "), KT_FORMAT_NONE);
        assert_int_equal(kt_format_lookup(""), KT_FORMAT_NONE);
        assert_int_equal(kt_format_lookup(NULL), KT_FORMAT_NONE);
        assert_null(kt_format_name(KT_FORMAT_NONE));
        assert_null(kt_format_name((enum kt_format)99));
        /* no format keyword: anything goes; a value not a format: nothing */
        assert_int_equal(kt_format_ok(KT_FORMAT_NONE, "x\0y", 3), 1);
        assert_int_equal(kt_format_ok((enum kt_format)99, "::1", 3), 0);
}

static void test_date_time(void **state)
{
        static const struct fcase c[] = {
                Y("2026-11-23T08:33:20.731Z"),
                Y("2026-11-23T08:33:20Z"),
                Y("2026-11-23t08:33:20z"),
                Y("2026-11-23T08:33:20.1+05:45"),
                Y("2026-11-23T08:33:20-00:00"),
                Y("0000-01-01T00:00:00Z"),
                Y("9999-12-31T23:59:59.999999999999999999999999Z"),
                Y("2024-02-29T00:00:00Z"),
                Y("2016-12-31T23:59:60Z"),
                Y("2017-01-01T00:59:60+01:00"),
                N("2023-02-29T00:00:00Z"),
                N("2026-11-23 08:33:20Z"),   /* RFC 3339 5.6 NOTE only */
                N("2026-11-23T08:33:20"),    /* no offset */
                N("2026-11-23T08:33:20."),
                N("2026-11-23T08:33:20.Z"),
                N("2026-11-23T08:33:20,5Z"),
                N("2026-11-23T08:33Z"), N("2026-11-23T8:33:20Z"),
                N("2026-11-23T08:33:20+0100"),
                N("2026-11-23T08:33:20+01:00:00"),
                N("2026-11-23T08:33:20ZZ"),
                N("2026-11-23T"), N("2026-11-23"), N(""),
                N("2026-11-23TT08:33:20Z"),
                N("2026-11-23T08:33:20Z\0"),
                N("2026-11-23\0T08:33:20Z"),
                N("2016-12-31T23:59:60+01:00"),
                /* suite */
                Y("1963-06-19T08:30:06.283185Z"),
                Y("1963-06-19T08:30:06Z"),
                Y("1937-01-01T12:00:27.87+00:20"),
                Y("1990-12-31T15:59:50.123-08:00"),
                Y("1998-12-31T23:59:60Z"),
                Y("1998-12-31T15:59:60.123-08:00"),
                N("1998-12-31T23:59:61Z"),
                N("1998-12-31T23:58:60Z"),
                N("1998-12-31T22:59:60Z"),
                N("1990-12-31T24:00:00Z"),
                N("1990-12-31T15:60:00Z"),
                N("1990-12-31T10:00:00+10:60"),
                N("1990-02-31T15:59:59.123-08:00"),
                N("1990-12-31T15:59:59-24:00"),
                N("1963-06-19T08:30:06.28123+01:00Z"),
                N("06/19/1963 08:30:06 PST"),
                Y("1963-06-19t08:30:06.283185z"),
                N("2013-350T01:01:01"),
                N("1963-6-19T08:30:06.283185Z"),
                N("1963-06-1T08:30:06.283185Z"),
                N("1963-06-1\xe0\xa7\xaaT00:00:00Z"),
                N("1963-06-11T0\xe0\xa7\xaa:00:00Z"),
                N("+11963-06-19T08:30:06.283185Z"),
                N("1985-04-12T23:20:50+01"),
                N("2016-12-31T24:59:60+01:00"),
                Y("1985-04-12T00:59:59.999999999999999Z"),
                N("1985-04-12T23:20:50Z\n"),
        };

        (void)state;
        check_cases(KT_FORMAT_DATE_TIME, c, NCASES(c));
}

static void test_date(void **state)
{
        static const struct fcase c[] = {
                Y("2026-11-23"), Y("0000-02-29"), Y("2000-02-29"),
                Y("1900-02-28"), N("1900-02-29"), Y("2024-02-29"),
                N("2023-02-29"), N("2024-02-30"), N("2026-11-23T"),
                N("2026-11-23\0"), N("2026-11\0-23"), N("2026/11/23"),
                N("26-11-23"), N("2026-1-023"), N("-026-11-23"),
                /* suite */
                Y("1963-06-19"), Y("2020-01-31"), N("2020-01-32"),
                Y("2021-02-28"), N("2020-02-30"), Y("2020-03-31"),
                N("2020-03-32"), Y("2020-04-30"), N("2020-04-31"),
                Y("2020-05-31"), N("2020-05-32"), Y("2020-06-30"),
                N("2020-06-31"), Y("2020-07-31"), N("2020-07-32"),
                Y("2020-08-31"), N("2020-08-32"), Y("2020-09-30"),
                N("2020-09-31"), Y("2020-10-31"), N("2020-10-32"),
                Y("2020-11-30"), N("2020-11-31"), Y("2020-12-31"),
                N("2020-12-32"), N("06/19/1963"), N("2013-350"),
                N("1998-1-20"), N("1998-01-1"), N("1998-13-01"),
                N("2021-02-29"), Y("2020-02-29"), N("1963-06-1\xe0\xa7\xaa"),
                N("2020-0\xe0\xa7\xaa-01"), N("20230328"), N("2023-W01"),
                N("2023-W13-2"), N("2022W527"), N("2020-11-28T23:55:45Z"),
                N("0100-02-29"), Y("0400-02-29"), N("2100-02-29"),
                N(" 2024-01-15"), N("2024-01-15 "), N("2024-00-15"),
                N("2024-01-00"), N(""), N("2020 -01-01"), N("2020-01-01X"),
                N("2020-01-01Z"), N("2020-01-01 00:00:00Z"), Y("0001-01-01"),
                N("20-01-01"), N("998-01-01"), N("12020-01-01"),
                N("+2020-01-01"), N("-2020-01-01"), N("\xe0\xa7\xa8" "020-01-01"),
                N("YYYY-01-01"), N("2020-001-01"), N("2020-MM-01"),
                N("2020-01-001"), N("2020-01-DD"), N("2020:01:01"),
                N("2020.01.01"), N("2020 01 01"), N("2020-01/01"),
                N("2020--01-01"), N("2020-01--01"), Y("1582-10-10"),
                N("2147483648-01-01"), N("2020-01-0:"),
                N("\xe0\xa7\xa8" "0-01-01"),
                N("2020\xe2\x80\x93" "01\xe2\x80\x93" "01"),
                N("2020-01-01\0"),
        };

        (void)state;
        check_cases(KT_FORMAT_DATE, c, NCASES(c));
}

static void test_time(void **state)
{
        static const struct fcase c[] = {
                Y("00:00:00Z"), Y("23:59:59.5-23:59"), Y("12:00:00+23:59"),
                N("12:00:00+24:00"), N("12:00:00-00:60"), N("12:00:00+1:00"),
                N("12:00:00 Z"), N("12:00:00Z "), N("12:00:00\0Z"),
                N("T12:00:00Z"), N("12:00:00.5.5Z"), N("12:00Z"),
                N("12:00:60+00:00"), Y("00:00:60+00:01"),
                N("00:00:60-00:01"), Y("23:58:60-00:01"),
                /* suite */
                Y("08:30:06Z"), N("008:030:006Z"), N("8:3:6Z"),
                N("8:0030:6Z"), Y("23:59:60Z"), N("22:59:60Z"),
                N("23:58:60Z"), Y("23:59:60+00:00"), N("22:59:60+00:00"),
                N("23:58:60+00:00"), Y("01:29:60+01:30"),
                Y("23:29:60+23:30"), N("23:59:60+01:00"),
                N("23:59:60+00:30"), Y("15:59:60-08:00"),
                Y("00:29:60-23:30"), N("23:59:60-01:00"),
                N("23:59:60-00:30"), Y("23:20:50.52Z"),
                Y("08:30:06.283185Z"), Y("08:30:06+00:20"),
                Y("08:30:06-08:00"), Y("12:34:56-00:00"),
                N("08:30:06-8:000"), Y("08:30:06z"), N("24:00:00Z"),
                N("00:60:00Z"), N("00:00:61Z"), N("01:02:03+24:00"),
                N("01:02:03+00:60"), N("01:02:03Z+00:30"),
                N("08:30:06 PST"), N("01:01:01,1111"), N("12:00:00"),
                N("12:00:00.52"), N("1\xe0\xa7\xa8:00:00Z"),
                N("08:30:06#00:20"), N("ab:cd:ef"),
                N("2020-11-28T23:55:45Z"),
        };

        (void)state;
        check_cases(KT_FORMAT_TIME, c, NCASES(c));
}

static void test_ipv4(void **state)
{
        static const struct fcase c[] = {
                Y("1.2.3.4"), Y("249.250.251.252"), Y("100.10.1.0"),
                N("00.0.0.0"), N("0.0.0.00"), N("1.2.3.04"), N("1.2.3.256"),
                N("1.2.3.1000"), N("1.2.3.4\0"), N("1.2\0.3.4"),
                N("1.2.3"), N("1.2.3.4.5"), N("1..2.3"), N("1.2.3.-4"),
                /* suite */
                Y("192.168.0.1"), N("127.0.0.0.1"), N("256.256.256.256"),
                N("127.0"), N("127.1"), N("127.0.1"), N("0x7f000001"),
                N("2130706433"), N("1\xe0\xa7\xa8" "7.0.0.1"),
                N("\xef\xbc\x91\xef\xbc\x99\xef\xbc\x92.\xef\xbc\x91\xef\xbc"
                  "\x96\xef\xbc\x98.\xef\xbc\x91.\xef\xbc\x91"),
                N("\xf0\x9d\x9f\x8f\xf0\x9d\x9f\x97\xf0\x9d\x9f\x90.\xf0\x9d"
                  "\x9f\x8f\xf0\x9d\x9f\x94\xf0\x9d\x9f\x96.\xf0\x9d\x9f\x8f."
                  "\xf0\x9d\x9f\x8f"),
                N("192.168.1.0/24"), N(" 192.168.0.1"), N("192.168.0.1 "),
                N("192.168.0.1\n"), N("0x7f.0.0.1"), N("0o10.0.0.1"),
                N("192.168..1"), N(".192.168.0.1"), N("192.168.0.1."),
                Y("0.0.0.0"), Y("255.255.255.255"), Y("200.0.0.0"),
                Y("10.20.30.40"), N(""), N("+1.2.3.4"), N("-1.2.3.4"),
                N("1e2.0.0.1"), N("192.168.a.1"), N("192. 168.0.1"),
                N("192.168.0.1\t"), N("192.168.0.1\0.evil.com"),
                N("192.168.0.1:80"), N("::ffff:192.168.0.1"),
                N("192.168.0.256"),
        };

        (void)state;
        check_cases(KT_FORMAT_IPV4, c, NCASES(c));
}

static void test_ipv6(void **state)
{
        static const struct fcase c[] = {
                Y("2001:db8::1"), Y("2001:0DB8:0000:0000:0000:0000:0000:0001"),
                Y("1:2:3:4:5:6:7::"), Y("::2:3:4:5:6:7:8"),
                N("1::2:3:4:5:6:7:8"), N("1:2:3:4:5:6:7:8::"),
                N("1:2:3:4:5:6:7:8:9"), Y("1:2:3:4:5:6:1.2.3.4"),
                Y("::1.2.3.4"), Y("1:2:3:4:5::1.2.3.4"),
                N("1:2:3:4:5:6::1.2.3.4"), N("1.2.3.4::"),
                N("::1.2.3.4:1"), N("::1\0"), N(":\0:1"), N(":"),
                N(":::"), N("::1:"), N("1:::"), N("00000::"),
                N("::g"), N("::G"), N("::1/128"),
                /* suite */
                Y("::1"), N("12345::"), Y("::abef"), N("::abcef"),
                N("1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1"), N("::laptop"),
                Y("::"), Y("::42:ff:1"), Y("d6::"), N(":2:3:4:5:6:7:8"),
                N("1:2:3:4:5:6:7:"), N(":2:3:4::8"), Y("1:d6::42"),
                N("1::d6::42"), Y("1::d6:192.168.0.1"),
                Y("1:2::192.168.0.1"), N("1::2:192.168.256.1"),
                N("1::2:192.168.ff.1"), Y("::ffff:192.168.0.1"),
                N("1:2:3:4:5:::8"), Y("1:2:3:4:5:6:7:8"),
                N("1:2:3:4:5:6:7"), N("1"), N("127.0.0.1"),
                N("1:2:3:4:1.2.3"), N("  ::1"), N("::1  "), N("fe80::/64"),
                N("fe80::a%eth1"),
                Y("1000:1000:1000:1000:1000:1000:255.255.255.255"),
                N("100:100:100:100:100:100:255.255.255.255.255"),
                N("100:100:100:100:100:100:100:255.255.255.255"),
                N("1:2:3:4:5:6:7:\xe0\xa7\xaa"),
                N("1:2::192.16\xe0\xa7\xaa.0.1"), N("[::1]"),
                N("::ffff:192.168.0.01"),
        };

        (void)state;
        check_cases(KT_FORMAT_IPV6, c, NCASES(c));
}

static void test_uuid(void **state)
{
        static const struct fcase c[] = {
                Y("123e4567-e89b-12d3-a456-426614174000"),
                N("123e4567-e89b-12d3-a456-426614174000\0"),
                N("123e4567-e89b-12d3-a456\0426614174000"),
                N("{123e4567-e89b-12d3-a456-426614174000}"),
                N("123e4567-e89b-12d3-a456-42661417400g"),
                N("123e4567+e89b-12d3-a456-426614174000"),
                /* suite (draft2019-09) */
                Y("2EB8AA08-AA98-11EA-B4AA-73B441D16380"),
                Y("2eb8aa08-aa98-11ea-b4aa-73b441d16380"),
                Y("2eb8aa08-AA98-11ea-B4Aa-73B441D16380"),
                Y("00000000-0000-0000-0000-000000000000"),
                N("2eb8aa08-aa98-11ea-b4aa-73b441d1638"),
                N("2eb8aa08-aa98-11ea-73b441d16380"),
                N("2eb8aa08-aa98-11ea-b4ga-73b441d16380"),
                N("2eb8aa08aa9811eab4aa73b441d16380"),
                N("2eb8aa08aa98-11ea-b4aa73b441d16380"),
                N("2eb8-aa08-aa98-11ea-b4aa73b44-1d16380"),
                N("2eb8aa08aa9811eab4aa73b441d16380----"),
                N("2eb8aa0-8aa98-11e-ab4aa7-3b441d16380"),
                Y("98d80576-482e-427f-8434-7f86890ab222"),
                Y("99c17cbb-656f-564a-940f-1a4568f03487"),
                Y("99c17cbb-656f-664a-940f-1a4568f03487"),
                Y("99c17cbb-656f-f64a-940f-1a4568f03487"),
                N("urn:uuid:2eb8aa08-aa98-11ea-b4aa-73b441d16380"),
                N("2eb8aa08-aa98-11ea-b4aa-73b441d16380-"),
                N("\xe0\xa7\xa8" "eb8aa08-aa98-11ea-b4aa-73b441d16380"),
                N("2eb8aa08-aa98-11ea-b4aa-73b441d1_380"),
                N("2eb8aa08-aa98-11ea-b4aa-73b441d16380\n"),
                Y("2eb8aa08-aa98-11ea-f4aa-73b441d16380"),
        };

        (void)state;
        check_cases(KT_FORMAT_UUID, c, NCASES(c));
}

#define L10 "abcdefghij"
#define L63 L10 L10 L10 L10 L10 L10 "abc"
/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 bytes */
#define H253 L63 "." L63 "." L63 "." L10 L10 L10 L10 L10 L10 "a"

static void test_hostname(void **state)
{
        static const struct fcase c[] = {
                Y("a"), Y("0"), Y("A-0.b--c.D"), Y("localhost"),
                Y(H253), N(H253 "a"), N("a..b"), N("a.-b"), N("a-.b"),
                N("a b"), N("a\0b"), N("a\0"), N("host*"), N("host:80"),
                N("caf\xc3\xa9.example"),
                /* suite, without the IDNA (A-label) group */
                Y("www.example.com"), Y("xn--4gbwdl.xn--wgbh1c"),
                N("-a-host-name-that-starts-with--"),
                N("not_a_valid_host_name"),
                N("a-vvvvvvvvvvvvvvvveeeeeeeeeeeeeeeerrrrrrrrrrrrrrrryyyyyyyy"
                  "yyyyyyyy-long-host-name-component"),
                Y("hostname"), Y("h0stn4me"), Y("1host"), Y("hostnam3"),
                N(""), N("."), N(".example"), N("example."),
                N("example\xef\xbc\x8e" "com"), Y("host-name"),
                N("-hostname"), N("hostname-"), N("host_name"),
                N(L63 "." L63 "." L63 "." L63 ".com"),
                Y(L63 ".com"), N(L63 "l.com"), N("example.com\n"),
                N("\xe2\x84\xaa" "elvin.example.com"), Y("a--b.com"),
        };

        (void)state;
        check_cases(KT_FORMAT_HOSTNAME, c, NCASES(c));
}

/* ------------------------------------------------------------------ */
/* Bounds                                                               */
/* ------------------------------------------------------------------ */

static const struct {
        enum kt_format f;
        const char *s;
} VALID[] = {
        { KT_FORMAT_DATE_TIME, "2026-11-23T08:33:20.731Z" },
        { KT_FORMAT_DATE_TIME, "2026-11-23T08:33:20+01:00" },
        { KT_FORMAT_DATE, "2024-02-29" },
        { KT_FORMAT_TIME, "23:59:60.25-00:00" },
        { KT_FORMAT_IPV4, "192.168.100.200" },
        { KT_FORMAT_IPV6, "2001:db8:85a3::8a2e:370:7334" },
        { KT_FORMAT_IPV6, "::ffff:192.168.0.1" },
        { KT_FORMAT_IPV6, "1:2:3:4:5:6:7:8" },
        { KT_FORMAT_UUID, "123e4567-e89b-12d3-a456-426614174000" },
        { KT_FORMAT_HOSTNAME, "www.example.com" },
};

/*
 * A NUL byte in place of any byte of a valid string makes it invalid, and
 * no prefix is read past its length (ASan, through ok_exact).
 */
static void test_nul_and_prefixes(void **state)
{
        (void)state;
        for (size_t k = 0; k < NCASES(VALID); k++) {
                size_t len = strlen(VALID[k].s);
                char buf[64];

                assert_true(len < sizeof(buf));
                assert_int_equal(ok_exact(VALID[k].f, VALID[k].s, len), 1);
                for (size_t i = 0; i < len; i++) {
                        memcpy(buf, VALID[k].s, len);
                        buf[i] = '\0';
                        if (ok_exact(VALID[k].f, buf, len) != 0) {
                                print_error("%s with NUL at %zu\n",
                                            VALID[k].s, i);
                                fail();
                        }
                        (void)ok_exact(VALID[k].f, VALID[k].s, i);
                }
        }
}

/*
 * Each of the 256 byte values in one place of a valid string: the verdict
 * follows the ASCII class the RFC names there, whatever the locale.
 */
static void test_every_byte(void **state)
{
        static const char hex[] = "0123456789abcdefABCDEF";
        static const char digits[] = "0123456789";
        static const char host[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ-.";
        static const struct {
                enum kt_format f;
                const char *s;
                size_t at;
                const char *class;
        } spots[] = {
                { KT_FORMAT_UUID, "123e4567-e89b-12d3-a456-426614174000", 0,
                  hex },
                { KT_FORMAT_UUID, "123e4567-e89b-12d3-a456-426614174000", 35,
                  hex },
                { KT_FORMAT_IPV6, "fe80::1", 0, hex },
                { KT_FORMAT_IPV6, "fe80::1", 6, hex },
                { KT_FORMAT_IPV4, "10.0.0.1", 1, digits },
                { KT_FORMAT_DATE, "2026-11-23", 0, digits },
                { KT_FORMAT_DATE_TIME, "2026-11-23T08:33:20.731Z", 22,
                  digits },
                { KT_FORMAT_TIME, "08:33:20+01:00", 13, digits },
                { KT_FORMAT_HOSTNAME, "abc", 1, host },
        };

        (void)state;
        for (size_t k = 0; k < NCASES(spots); k++) {
                size_t len = strlen(spots[k].s);
                char buf[64];

                memcpy(buf, spots[k].s, len);
                for (int c = 0; c < 256; c++) {
                        int want = c != 0 && strchr(spots[k].class, c);

                        buf[spots[k].at] = (char)c;
                        if (ok_exact(spots[k].f, buf, len) == want)
                                continue;
                        print_error("%s byte 0x%02x at %zu: expected %d\n",
                                    spots[k].s, c, spots[k].at, want);
                        fail();
                }
        }
}

/* ------------------------------------------------------------------ */
/* Independent references                                               */
/* ------------------------------------------------------------------ */

/* Whether y-m-d is a day, by timegm() and gmtime_r() (glibc). */
static int ref_date_ok(int y, int m, int d)
{
        struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1,
                         .tm_mday = d, .tm_hour = 12 };
        struct tm back;
        time_t t = timegm(&tm);

        assert_non_null(gmtime_r(&t, &back));
        return back.tm_mday == d && back.tm_mon == m - 1 &&
               back.tm_year == y - 1900;
}

/* Days 0..32 of every month of years 0..4, 1600..2400 and 9996..9999. */
static void test_every_day(void **state)
{
        static const int spans[][2] = { { 0, 4 }, { 1600, 2400 },
                                        { 9996, 9999 } };
        long valid = 0;

        (void)state;
        for (size_t k = 0; k < NCASES(spans); k++)
        for (int y = spans[k][0]; y <= spans[k][1]; y++)
        for (int m = 1; m <= 12; m++)
        for (int d = 0; d <= 32; d++) {
                char s[32];
                int want = ref_date_ok(y, m, d);

                snprintf(s, sizeof(s), "%04d-%02d-%02dT12:00:00Z", y, m, d);
                if (kt_format_ok(KT_FORMAT_DATE, s, 10) != want ||
                    kt_format_ok(KT_FORMAT_DATE_TIME, s, 20) != want) {
                        print_error("%s: expected %d\n", s, want);
                        fail();
                }
                valid += want;
        }
        /* 5 + 801 + 4 years, 2 + 195 + 1 of them leap */
        assert_int_equal(valid, 810L * 365 + 198);
}

static uint64_t rng = 88172645463325252u;

static uint64_t next(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

/* A seed address with 1..3 bytes changed, inserted or deleted. */
static size_t mutant(char *buf, size_t cap)
{
        static const char *const seeds[] = {
                "::1", "1:2:3:4:5:6:7:8", "::ffff:192.168.0.1", "1::",
                "fe80::1:2", "1:2:3:4:5:6:1.2.3.4", "::1.2.3.4",
                "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "192.168.0.1",
                "10.0.0.255", "255.250.100.0",
        };
        static const char alpha[] = "0123456789abcdefABCDEFgG::::....% ";
        const char *s = seeds[next() % NCASES(seeds)];
        size_t len = strlen(s);

        memcpy(buf, s, len);
        for (int n = (int)(next() % 3) + 1; n > 0; n--) {
                size_t p = next() % (len + 1);
                char c = alpha[next() % (sizeof(alpha) - 1)];

                if (p < len && next() % 2)
                        buf[p] = c;
                else if (p < len)
                        memmove(buf + p, buf + p + 1, --len - p);
                else if (len + 1 < cap)
                        buf[len++] = c;
        }
        buf[len] = '\0';
        return len;
}

/*
 * glibc's inet_pton() agrees with the suite's rules (no leading zero in a
 * dotted quad, no zone id, "::" for at least one group): the same verdict
 * on 200000 mutated addresses.
 */
static void test_ip_vs_inet_pton(void **state)
{
        unsigned char out[16];
        char buf[64];
        long valid4 = 0, valid6 = 0;

        (void)state;
        for (int i = 0; i < 200000; i++) {
                size_t len = mutant(buf, sizeof(buf));
                int v4 = inet_pton(AF_INET, buf, out) == 1;
                int v6 = inet_pton(AF_INET6, buf, out) == 1;

                if (ok_exact(KT_FORMAT_IPV4, buf, len) != v4 ||
                    ok_exact(KT_FORMAT_IPV6, buf, len) != v6) {
                        print_error("\"%s\": inet_pton says ipv4 %d ipv6 "
                                    "%d\n", buf, v4, v6);
                        fail();
                }
                valid4 += v4;
                valid6 += v6;
        }
        /* both verdicts were seen often */
        assert_true(valid4 > 1000 && valid6 > 1000);
        assert_true(valid4 < 190000 && valid6 < 190000);
}

/* ------------------------------------------------------------------ */
/* The official suite                                                   */
/* ------------------------------------------------------------------ */

static const char *suite_dir(void)
{
        const char *d = getenv("KT_SCHEMA_SUITE");

        return d != NULL && *d != '\0' ? d
                                       : "/usr/share/json-schema-test-suite";
}

static json_object *get(json_object *o, const char *key, json_type type)
{
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, type)) {
                print_error("suite: no %s of type %s\n", key,
                            json_type_to_name(type));
                fail();
        }
        return v;
}

/* One test of a group: 1 when checked, 0 when its data is no string. */
static int suite_case(enum kt_format f, json_object *t, int *bad)
{
        json_object *data = NULL;
        int want = json_object_get_boolean(get(t, "valid",
                                               json_type_boolean));
        const char *s;
        size_t len;

        assert_true(json_object_object_get_ex(t, "data", &data));
        if (!json_object_is_type(data, json_type_string))
                return 0;
        s = json_object_get_string(data);
        len = (size_t)json_object_get_string_len(data);
        if (ok_exact(f, s, len) != want) {
                print_error("%s \"", kt_format_name(f));
                show(s, len);
                print_error("\" (%s): expected %s\n",
                            json_object_get_string(get(t, "description",
                                                       json_type_string)),
                            want ? "valid" : "invalid");
                (*bad)++;
        }
        return 1;
}

/* Every string case of one suite file, whose schemas are {format: f}. */
static void run_suite_file(const char *path, enum kt_format f)
{
        json_object *root = json_object_from_file(path);
        int checked = 0, other = 0, bad = 0;

        if (root == NULL || !json_object_is_type(root, json_type_array)) {
                json_object_put(root);
                print_error("%s: cannot read it as a JSON array\n", path);
                fail();
        }
        for (size_t g = 0; g < json_object_array_length(root); g++) {
                json_object *group = json_object_array_get_idx(root, g);
                json_object *schema = get(group, "schema", json_type_object);
                json_object *tests = get(group, "tests", json_type_array);

                assert_int_equal(kt_format_lookup(json_object_get_string(
                        get(schema, "format", json_type_string))), f);
                for (size_t i = 0; i < json_object_array_length(tests); i++) {
                        json_object *t = json_object_array_get_idx(tests, i);

                        if (suite_case(f, t, &bad))
                                checked++;
                        else
                                other++;
                }
        }
        json_object_put(root);
        printf("# %s: %d checked, %d failed, %d not strings (skipped)\n",
               path, checked, bad, other);
        assert_int_equal(bad, 0);
        assert_true(checked > 0);
}

/* The draft-07 file of format f, or a skip when the suite is absent. */
static void suite_draft7(enum kt_format f)
{
        char dir[4096], path[4096 + 64];
        FILE *probe;

        snprintf(dir, sizeof(dir), "%s/tests/draft7/optional/format",
                 suite_dir());
        snprintf(path, sizeof(path), "%s/%s.json", dir, kt_format_name(f));
        probe = fopen(path, "r");
        if (probe == NULL) {
                printf("# %s: absent, skipped\n", path);
                skip();
        }
        fclose(probe);
        run_suite_file(path, f);
}

static void test_suite_date_time(void **state)
{
        (void)state;
        suite_draft7(KT_FORMAT_DATE_TIME);
}

static void test_suite_date(void **state)
{
        (void)state;
        suite_draft7(KT_FORMAT_DATE);
}

static void test_suite_time(void **state)
{
        (void)state;
        suite_draft7(KT_FORMAT_TIME);
}

static void test_suite_ipv4(void **state)
{
        (void)state;
        suite_draft7(KT_FORMAT_IPV4);
}

static void test_suite_ipv6(void **state)
{
        (void)state;
        suite_draft7(KT_FORMAT_IPV6);
}

static void test_suite_hostname(void **state)
{
        (void)state;
        suite_draft7(KT_FORMAT_HOSTNAME);
}

/* draft-07 has no uuid format: its file comes with later drafts. */
static void test_suite_uuid(void **state)
{
        static const char *const drafts[] = { "draft2019-09",
                                              "draft2020-12", "draft-next" };
        char path[4096];

        (void)state;
        for (size_t i = 0; i < NCASES(drafts); i++) {
                FILE *probe;

                snprintf(path, sizeof(path),
                         "%s/tests/%s/optional/format/uuid.json",
                         suite_dir(), drafts[i]);
                probe = fopen(path, "r");
                if (probe == NULL)
                        continue;
                fclose(probe);
                run_suite_file(path, KT_FORMAT_UUID);
                return;
        }
        printf("# %s: no uuid.json of a later draft, skipped\n",
               suite_dir());
        skip();
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lookup_and_names),
                cmocka_unit_test(test_date_time),
                cmocka_unit_test(test_date),
                cmocka_unit_test(test_time),
                cmocka_unit_test(test_ipv4),
                cmocka_unit_test(test_ipv6),
                cmocka_unit_test(test_uuid),
                cmocka_unit_test(test_hostname),
                cmocka_unit_test(test_nul_and_prefixes),
                cmocka_unit_test(test_every_byte),
                cmocka_unit_test(test_every_day),
                cmocka_unit_test(test_ip_vs_inet_pton),
                cmocka_unit_test(test_suite_date_time),
                cmocka_unit_test(test_suite_date),
                cmocka_unit_test(test_suite_time),
                cmocka_unit_test(test_suite_ipv4),
                cmocka_unit_test(test_suite_ipv6),
                cmocka_unit_test(test_suite_hostname),
                cmocka_unit_test(test_suite_uuid),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
