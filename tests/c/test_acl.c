/* test_acl.c -- acl.c and sha256.c without a server: SHA-256 vectors, rule
 * parsing and its errors, how users read back (ACL LIST form, checked
 * against redis-server 7.0.15 on the same rules), command and channel
 * checks with selectors and first-args, authentication, the channel-shrink
 * test behind subscriber disconnection, the ACL log's folding and trimming,
 * and ACL LOAD / SAVE through temporary files. A small catalog stands in for
 * the command table; every test starts from it and frees everything, and
 * memory must come back to the baseline. */
#include "test.h"

#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "acl.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "mem.h"
#include "sha256.h"

extern const test_case acl_tests[];

#define S(lit) lit, sizeof(lit) - 1

/* ---- Fixture -------------------------------------------------------------- */

static size_t mem_baseline;

/* The catalog: a few commands shaped like Redis's. */
static void setup(void) {
    config_init_defaults();
    log_set_level(LOG_WARNING + 1); /* quiet: "+select|0" logs a deprecation warning */
    mem_baseline = mem_used();
    acl_catalog_add("auth", "@fast @connection", ACL_CMD_NO_AUTH, ACL_CHANNELS_NONE);
    acl_catalog_add("ping", "@fast @connection", 0, ACL_CHANNELS_NONE);
    acl_catalog_add("select", "@fast @connection", 0, ACL_CHANNELS_NONE);
    acl_catalog_add("publish", "@pubsub @fast", 0, ACL_CHANNELS_FIRST);
    acl_catalog_add("subscribe", "@pubsub @slow", 0, ACL_CHANNELS_ALL);
    acl_catalog_add("psubscribe", "@pubsub @slow", 0, ACL_CHANNELS_PATTERNS);
    acl_catalog_add("unsubscribe", "@pubsub @slow", 0, ACL_CHANNELS_NONE);
    acl_catalog_add("client", "", 0, ACL_CHANNELS_NONE);
    acl_catalog_add("client|id", "@slow @connection", 0, ACL_CHANNELS_NONE);
    acl_catalog_add("client|kill", "@admin @slow @dangerous @connection", 0, ACL_CHANNELS_NONE);
    acl_catalog_add("shutdown", "@admin @slow @dangerous", 0, ACL_CHANNELS_NONE);
    acl_catalog_add("config", "", 0, ACL_CHANNELS_NONE);
    acl_catalog_add("config|get", "@admin @slow @dangerous", 0, ACL_CHANNELS_NONE);
    acl_catalog_add("config|set", "@admin @slow @dangerous", 0, ACL_CHANNELS_NONE);
    acl_catalog_add("get", "@read @string @fast", 0, ACL_CHANNELS_NONE);
    acl_init();
}

/* Frees everything; returns false (after reporting) if memory leaked. */
static bool teardown(void) {
    acl_free();
    acl_catalog_clear();
    size_t now = mem_used();
    config_free();
    log_set_level(LOG_NOTICE);
    if (now != mem_baseline) {
        TEST_FAIL_AT("memory not back to baseline: %zu != %zu", now, mem_baseline);
        return false;
    }
    return true;
}

/* Splits "a b c" at spaces into slices pointing into s. */
static int split(const char *s, slice *out, int max) {
    int n = 0;
    while (*s && n < max) {
        while (*s == ' ') s++;
        if (!*s) break;
        size_t len = strcspn(s, " ");
        out[n++] = (slice){s, len};
        s += len;
    }
    return n;
}

/* Stages and commits SETUSER name rules; returns the live user or NULL. */
static acl_user *setuser(const char *name, const char *rules, char *err, size_t errlen) {
    slice argv[32];
    int n = split(rules, argv, 32);
    acl_user *u = acl_setuser_stage(name, strlen(name), n, argv, err, errlen);
    return u ? acl_setuser_commit(u) : NULL;
}

/* The ACL LIST line of a user, into a static buffer. */
static const char *describe(const acl_user *u) {
    static char line[1024];
    buf b = {0};
    acl_user_describe(u, &b);
    snprintf(line, sizeof(line), "%.*s", (int)b.len, b.data ? b.data : "");
    buf_free(&b);
    return line;
}

/* ---- SHA-256 -------------------------------------------------------------- */

static void test_sha256_vectors(void) {
    static const struct {
        const char *in;
        size_t repeat;          /* the input is `in` repeated; 0 = once */
        const char *hex;
    } cases[] = {
        {"", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", 0, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 0,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"x", 55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
        {"x", 56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
        {"x", 63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
        {"x", 64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
        {"x", 65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
        {"foo", 0, "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char in[128];
        size_t len = strlen(cases[i].in);
        if (cases[i].repeat) {
            memset(in, cases[i].in[0], cases[i].repeat);
            len = cases[i].repeat;
        } else {
            memcpy(in, cases[i].in, len);
        }
        char hex[SHA256_HEX_LEN + 1];
        sha256_hex(in, len, hex);
        TEST_EQ_STR(hex, cases[i].hex);
    }
}

static void test_sha256_streaming(void) {
    /* A million 'a's fed in uneven pieces (FIPS 180-2 appendix). */
    static char chunk[1000];
    memset(chunk, 'a', sizeof(chunk));
    sha256_ctx ctx;
    sha256_init(&ctx);
    size_t left = 1000000, step = 1;
    while (left > 0) {
        size_t n = step < left ? step : left;
        sha256_update(&ctx, chunk, n);
        left -= n;
        step = step % 997 + 1;
    }
    unsigned char d[SHA256_DIGEST_LEN];
    sha256_final(&ctx, d);
    static const unsigned char want[8] = {0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92};
    TEST_EQ_MEM(d, 8, want, 8);
    TEST_EQ_INT(d[31], 0xd0);
}

/* ---- Rules: errors -------------------------------------------------------- */

static void test_rule_errors(void) {
    static const struct {
        const char *rules;      /* applied in order to a new user */
        int err;                /* of the last rule */
    } cases[] = {
        {"on", 0},
        {"OFF", 0},
        {"+nosuch", ACL_ERR_UNKNOWN},
        {"+@nosuch", ACL_ERR_UNKNOWN},
        {"-@", ACL_ERR_UNKNOWN},
        {"+", ACL_ERR_UNKNOWN},
        {"foo", ACL_ERR_SYNTAX},
        {"#abc", ACL_ERR_BAD_HASH},
        {"#E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", ACL_ERR_BAD_HASH},
        {"#e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0},
        {"<nopw", ACL_ERR_NO_SUCH_PASSWORD},
        {">pw <pw", 0},
        {">pw <pw <pw", ACL_ERR_NO_SUCH_PASSWORD},
        {"!e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ACL_ERR_NO_SUCH_PASSWORD},
        {"~* ~x", ACL_ERR_KEYS_AFTER_ALL},
        {"allkeys %R~x", ACL_ERR_KEYS_AFTER_ALL},
        {"&* &x", ACL_ERR_CHANNELS_AFTER_ALL},
        {"allchannels &x", ACL_ERR_CHANNELS_AFTER_ALL},
        {"allchannels resetchannels &x", 0},
        {"+client|id|x", ACL_ERR_FIRSTARG_OF_SUB},
        {"-client|id|x", ACL_ERR_UNKNOWN},
        {"+client|", ACL_ERR_SYNTAX},
        {"+client|nosuch", ACL_ERR_UNKNOWN},
        {"+select|0", 0},
        {"-select|0", ACL_ERR_UNKNOWN},
        {"+nosuch|0", ACL_ERR_UNKNOWN},
        {"%Z~x", ACL_ERR_SYNTAX},
        {"%~x", ACL_ERR_SYNTAX},
        {"%", ACL_ERR_SYNTAX},
        {"%RR~x", ACL_ERR_SYNTAX},
        {"%R", 0},
        {"%R~", 0},
        {"&", 0},
        {"(on)", ACL_ERR_SYNTAX},
        {"(~x +nosuch)", ACL_ERR_UNKNOWN},
        {"()", 0},
        {"(", ACL_ERR_SYNTAX},
        {"+PUBLISH +@PUBSUB -CLIENT|ID", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setup();
        acl_user *u = acl_user_new(S("t"));
        slice argv[8];
        int n = split(cases[i].rules, argv, 8);
        int err = 0;
        for (int j = 0; j < n; j++) err = acl_user_apply(u, argv[j].ptr, argv[j].len);
        acl_user_free(u);
        if (err != cases[i].err) TEST_FAIL_AT("rules \"%s\": error %d, want %d", cases[i].rules, err, cases[i].err);
        if (!teardown() || test_failed) return;
    }
}

static void test_error_texts(void) {
    TEST_EQ_STR(acl_error_text(ACL_ERR_SYNTAX), "Syntax error");
    TEST_EQ_STR(acl_error_text(ACL_ERR_UNKNOWN), "Unknown command or category name in ACL");
    TEST_EQ_STR(acl_error_text(ACL_ERR_NO_SUCH_PASSWORD),
                "The password you are trying to remove from the user does not exist");
    TEST_EQ_STR(acl_error_text(ACL_ERR_FIRSTARG_OF_SUB), "Allowing first-arg of a subcommand is not supported");
}

/* ---- Rules: how users read back -------------------------------------------- */

static void test_describe(void) {
    /* Expected lines were read from redis-server 7.0.15 for the same rules
     * where its larger command set gives the same categories. */
    static const struct {
        const char *rules;
        const char *line;
    } cases[] = {
        {"", "off resetchannels -@all"},
        {"reset", "off sanitize-payload resetchannels -@all"},
        {"on nopass ~* &* +@all", "on nopass ~* &* +@all"},
        {"allkeys allchannels allcommands skip-sanitize-payload on", "on skip-sanitize-payload ~* &* +@all"},
        {"on >p1 #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a",
         "on #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a resetchannels -@all"},
        {"nopass >x", "off #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 resetchannels -@all"},
        {">x nopass", "off nopass resetchannels -@all"},
        {">x resetpass", "off resetchannels -@all"},
        {"~k* %R~r* %W~w* %RW~rw* %W~x %R~x ~y %R~y %r~q", "off ~k* %R~r* %W~w* ~rw* ~x ~y %R~q resetchannels -@all"},
        {"%R", "off %R~ resetchannels -@all"},
        {"~* resetkeys ~x", "off ~x resetchannels -@all"},
        {"&a &a &b &a", "off resetchannels &a &b -@all"},
        {"& &X", "off resetchannels & &X -@all"},
        {"&* resetchannels &y", "off resetchannels &y -@all"},
        {"+@pubsub", "off resetchannels -@all +@pubsub"},
        {"+@pubsub -publish", "off resetchannels -@all +@pubsub -publish"},
        {"+@all -@pubsub", "off resetchannels +@all -@pubsub"},
        {"+@all -publish +publish", "off resetchannels +@all"},
        {"+@all -client +client|id", "off resetchannels +@all -client +client|id"},
        {"+client -client|kill", "off resetchannels -@all +client -client|kill"},
        {"+@all -@all +ping", "off resetchannels -@all +ping"},
        {"nocommands +ping allcommands", "off resetchannels +@all"},
        {"+select|0 -@all +select|1 +select|0 +SELECT|1", "off resetchannels -@all +select|1 +select|0"},
        {"+select|0 +select", "off resetchannels -@all +select"},
        {"(~x +@all) (&y)", "off resetchannels -@all (~x resetchannels +@all) (resetchannels &y -@all)"},
        {"(~x +@all) clearselectors (~z)", "off resetchannels -@all (~z resetchannels -@all)"},
        {"() on", "on resetchannels -@all (resetchannels -@all)"},
        {"(\"&a b\")", NULL}, /* a space in a quoted selector rule: refused */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setup();
        char err[256] = "";
        acl_user *u = setuser("t", cases[i].rules, err, sizeof(err));
        if (!cases[i].line) {
            if (u) TEST_FAIL_AT("rules \"%s\" accepted: %s", cases[i].rules, describe(u));
        } else if (!u) {
            TEST_FAIL_AT("rules \"%s\": %s", cases[i].rules, err);
        } else if (strcmp(describe(u), cases[i].line) != 0) {
            TEST_FAIL_AT("rules \"%s\": \"%s\", want \"%s\"", cases[i].rules, describe(u), cases[i].line);
        }
        if (!teardown() || test_failed) return;
    }
}

static void test_describe_with_allchannels_default(void) {
    setup();
    cfg.acl_pubsub_default = CONFIG_ACL_ALLCHANNELS;
    char err[256];
    acl_user *u = setuser("t", "on", err, sizeof(err));
    TEST_TRUE(u != NULL);
    TEST_EQ_STR(describe(u), "on &* -@all");
    u = setuser("t", "resetchannels &x reset", err, sizeof(err));
    TEST_EQ_STR(describe(u), "off sanitize-payload &* -@all");
    TEST_TRUE(teardown());
}

static void test_getuser_fields(void) {
    setup();
    char err[256];
    acl_user *u = setuser("t", "on >a ~k* %R~r* &c1 &c2 +@pubsub (~x &y +ping) (allkeys allchannels)", err,
                          sizeof(err));
    TEST_TRUE(u != NULL);
    const char *flags[5];
    TEST_EQ_INT(acl_user_flags(u, flags), 1);
    TEST_EQ_STR(flags[0], "on");
    TEST_EQ_INT(acl_user_password_count(u), 1);
    TEST_EQ_STR(acl_user_password(u, 0), "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
    TEST_EQ_INT(acl_user_selector_count(u), 3);
    static const char *const want[3][3] = {
        {"-@all +@pubsub", "~k* %R~r*", "&c1 &c2"},
        {"-@all +ping", "~x", "&y"},
        {"-@all", "~*", "&*"},
    };
    for (int s = 0; s < 3; s++) {
        buf b = {0};
        acl_selector_commands(u, s, &b);
        TEST_EQ_MEM(b.data, b.len, want[s][0], strlen(want[s][0]));
        b.len = 0;
        acl_selector_keys(u, s, &b);
        TEST_EQ_MEM(b.data, b.len, want[s][1], strlen(want[s][1]));
        b.len = 0;
        acl_selector_channels(u, s, &b);
        TEST_EQ_MEM(b.data, b.len, want[s][2], strlen(want[s][2]));
        buf_free(&b);
    }
    TEST_TRUE(teardown());
}

/* ---- SETUSER staging --------------------------------------------------------- */

static void test_setuser_errors(void) {
    static const struct {
        const char *name;
        const char *rules;
        const char *err;
    } cases[] = {
        {"a b", "on", "ERR Usernames can't contain spaces or null characters"},
        {"e", "(+@all", "ERR Unmatched parenthesis in acl selector starting at '(+@all'."},
        {"e", "on (+@all ~x", "ERR Unmatched parenthesis in acl selector starting at '(+@all'."},
        {"e", "on (~a b)", "ERR Error in ACL SETUSER modifier '(~a b)': Syntax error"},
        {"e", "on +nosuch", "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"},
        {"e", "~* ~x", "ERR Error in ACL SETUSER modifier '~x': Adding a pattern after the * pattern (or the "
                       "'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with "
                       "an empty list of patterns"},
        {"e", "&* &x", "ERR Error in ACL SETUSER modifier '&x': Adding a pattern after the * pattern (or the "
                       "'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to "
                       "start with an empty list of channels"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setup();
        char err[512] = "";
        acl_user *u = setuser(cases[i].name, cases[i].rules, err, sizeof(err));
        TEST_TRUE(u == NULL);
        TEST_EQ_STR(err, cases[i].err);
        TEST_TRUE(acl_find_user(cases[i].name, strlen(cases[i].name)) == NULL);
        if (!teardown()) return;
    }
}

static void test_setuser_is_atomic_and_keeps_address(void) {
    setup();
    char err[512];
    acl_user *u = setuser("bob", "on >pw &a +@pubsub", err, sizeof(err));
    TEST_TRUE(u != NULL);
    /* A failing rule anywhere leaves the user as it was. */
    TEST_TRUE(setuser("bob", "resetchannels &b +nosuch", err, sizeof(err)) == NULL);
    TEST_EQ_STR(describe(u), "on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 resetchannels &a "
                             "-@all +@pubsub");
    /* A change lands in the same object: clients may hold its address. */
    TEST_TRUE(setuser("bob", "off", err, sizeof(err)) == u);
    TEST_EQ_INT(acl_user_count(), 2);
    TEST_EQ_STR(acl_user_name(acl_user_at(0)), "bob");
    TEST_EQ_STR(acl_user_name(acl_user_at(1)), "default");
    acl_deluser(u);
    acl_deluser(acl_default_user()); /* refused */
    TEST_EQ_INT(acl_user_count(), 1);
    TEST_TRUE(teardown());
}

static void test_users_sorted_bytewise(void) {
    setup();
    char err[64];
    const char *names[] = {"zeta", "Alpha", "alpha", "a", "default2", "_", "b"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) TEST_TRUE(setuser(names[i], "", err, 64));
    const char *want[] = {"Alpha", "_", "a", "alpha", "b", "default", "default2", "zeta"};
    TEST_EQ_INT(acl_user_count(), 8);
    for (size_t i = 0; i < 8; i++) TEST_EQ_STR(acl_user_name(acl_user_at(i)), want[i]);
    TEST_TRUE(acl_find_user(S("alpha")) != NULL);
    TEST_TRUE(acl_find_user(S("ALPHA")) == NULL);
    TEST_TRUE(teardown());
}

/* ---- Checks ------------------------------------------------------------------ */

static void test_checks(void) {
    static const struct {
        const char *rules;
        const char *command;    /* argv, space-separated */
        int want;
        int idx;                /* refused argument, for channels */
    } cases[] = {
        {"on nopass ~* &* +@all", "publish any x", ACL_OK, 0},
        {"+@all", "publish any x", ACL_DENIED_CHANNEL, 1},
        {"+@all &news.*", "publish news.1 x", ACL_OK, 0},
        {"+@all &news.*", "publish other x", ACL_DENIED_CHANNEL, 1},
        {"+@all &news.*", "subscribe news.1 news.2", ACL_OK, 0},
        {"+@all &news.*", "subscribe news.1 other news.2", ACL_DENIED_CHANNEL, 2},
        {"+@all &news.*", "psubscribe news.*", ACL_OK, 0},
        {"+@all &news.*", "psubscribe news.a*", ACL_DENIED_CHANNEL, 1},
        {"+@all &news.*", "psubscribe news.1", ACL_DENIED_CHANNEL, 1},
        {"+@all &lit[ab]", "subscribe lita litb", ACL_OK, 0},
        {"+@all &lit[ab]", "psubscribe lit[ab]", ACL_OK, 0},
        {"+@all &lit[ab]", "subscribe lit[ab]", ACL_DENIED_CHANNEL, 1},
        {"+@all", "unsubscribe anything", ACL_OK, 0},
        {"&* +@pubsub", "ping", ACL_DENIED_CMD, 0},
        {"&* +@pubsub", "auth u p", ACL_OK, 0},
        {"-@all", "auth u p", ACL_OK, 0},
        {"&* +@pubsub", "client id", ACL_DENIED_CMD, 0},
        {"-@all +client|id", "client id", ACL_OK, 0},
        {"+@all -client|id", "client id", ACL_DENIED_CMD, 0},
        {"+@all -client|id", "client kill x", ACL_OK, 0},
        {"+client -client|kill", "client kill x", ACL_DENIED_CMD, 0},
        {"-@all +select|0", "select 0", ACL_OK, 0},
        {"-@all +select|0", "select 1", ACL_DENIED_CMD, 0},
        {"-@all +select|abc", "select ABC", ACL_OK, 0},
        {"-@all +select|0 -select", "select 0", ACL_DENIED_CMD, 0},
        {"-@all +@connection", "select 1", ACL_OK, 0},
        {"-@all +@fast", "publish x y", ACL_DENIED_CHANNEL, 1},
        {"-@all &x +@fast", "publish x y", ACL_OK, 0},
        /* Selectors: any selector may allow; else the most specific refusal. */
        {"-@all (+publish &a) (+subscribe &b)", "publish a m", ACL_OK, 0},
        {"-@all (+publish &a) (+subscribe &b)", "subscribe b", ACL_OK, 0},
        {"-@all (+publish &a) (+subscribe &b)", "subscribe a", ACL_DENIED_CHANNEL, 1},
        {"-@all (+publish &a) (+subscribe &b)", "ping", ACL_DENIED_CMD, 0},
        {"-@all (+subscribe &a &b) (+subscribe &a)", "subscribe a b c", ACL_DENIED_CHANNEL, 3},
        {"+subscribe &a (+subscribe &b &c)", "subscribe a b", ACL_DENIED_CHANNEL, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setup();
        char err[256];
        acl_user *u = setuser("t", cases[i].rules, err, sizeof(err));
        slice argv[8];
        int argc = split(cases[i].command, argv, 8);
        int id = acl_catalog_find(argv[0].ptr, argv[0].len);
        if (argc > 1 && (id == acl_catalog_find(S("client")))) {
            char full[64];
            int n = snprintf(full, sizeof(full), "client|%.*s", (int)argv[1].len, argv[1].ptr);
            id = acl_catalog_find(full, (size_t)n);
        }
        int idx = 0;
        int got = u ? acl_check(u, id, argc, argv, &idx) : -1;
        if (got != cases[i].want || (got == ACL_DENIED_CHANNEL && idx != cases[i].idx))
            TEST_FAIL_AT("rules \"%s\", \"%s\": %d (arg %d), want %d (arg %d)", cases[i].rules, cases[i].command,
                         got, idx, cases[i].want, cases[i].idx);
        if (!teardown() || test_failed) return;
    }
}

static void test_channel_rights(void) {
    setup();
    char err[256];
    acl_user *u = setuser("t", "&news.* &lit", err, sizeof(err));
    TEST_TRUE(acl_user_allows_channel(u, S("news.x"), false));
    TEST_TRUE(!acl_user_allows_channel(u, S("other"), false));
    TEST_TRUE(acl_user_allows_channel(u, S("news.*"), true));
    TEST_TRUE(!acl_user_allows_channel(u, S("news.a*"), true));
    TEST_TRUE(acl_user_allows_channel(u, S("lit"), true));
    TEST_TRUE(!acl_user_unrestricted(u));
    TEST_TRUE(acl_user_unrestricted(acl_default_user()));
    TEST_TRUE(teardown());
}

static void test_channels_may_shrink(void) {
    static const struct {
        const char *old_rules, *new_rules;
        bool shrink;
    } cases[] = {
        {"&a &b", "&a &b &c", false},
        {"&a &b", "&b", true},
        {"&a*", "&a", true},        /* compared literally, not by coverage */
        {"&a", "&*", false},
        {"&*", "resetchannels &x", true},
        {"&*", "resetchannels (&*)", false},
        {"&a (&b)", "&a &b", false},
        {"", "", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setup();
        char err[256];
        acl_user *old_u = setuser("o", cases[i].old_rules, err, sizeof(err));
        acl_user *new_u = setuser("n", cases[i].new_rules, err, sizeof(err));
        TEST_TRUE(old_u && new_u);
        if (acl_channels_may_shrink(new_u, old_u) != cases[i].shrink)
            TEST_FAIL_AT("\"%s\" -> \"%s\": want %d", cases[i].old_rules, cases[i].new_rules, cases[i].shrink);
        if (!teardown() || test_failed) return;
    }
}

/* ---- Authentication and requirepass ------------------------------------------ */

static void test_authenticate(void) {
    setup();
    char err[256];
    TEST_TRUE(acl_default_is_open());
    TEST_TRUE(acl_authenticate(S("default"), S("anything")) == acl_default_user());
    acl_set_default_password("secret");
    TEST_TRUE(!acl_default_is_open());
    TEST_TRUE(!acl_default_is_nopass());
    TEST_TRUE(acl_authenticate(S("default"), S("anything")) == NULL);
    TEST_TRUE(acl_authenticate(S("default"), S("secret")) == acl_default_user());
    TEST_EQ_STR(describe(acl_default_user()),
                "on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~* &* +@all");
    acl_set_default_password("");
    TEST_TRUE(acl_default_is_open());
    acl_user *u = setuser("bob", "on >p1 >p2", err, sizeof(err));
    TEST_TRUE(acl_authenticate(S("bob"), S("p2")) == u);
    TEST_TRUE(acl_authenticate(S("bob"), S("p3")) == NULL);
    TEST_TRUE(acl_authenticate(S("BOB"), S("p1")) == NULL);
    TEST_TRUE(acl_authenticate(S("nobody"), S("p1")) == NULL);
    setuser("bob", "off", err, sizeof(err));
    TEST_TRUE(acl_authenticate(S("bob"), S("p1")) == NULL);
    setuser("bob", "on nopass", err, sizeof(err));
    TEST_TRUE(acl_authenticate(S("bob"), S("")) == u);
    setuser("default", "off", err, sizeof(err));
    TEST_TRUE(acl_default_is_nopass() && !acl_default_is_open());
    TEST_TRUE(teardown());
}

/* ---- ACL LOG -------------------------------------------------------------------- */

static void test_log_folding_and_trim(void) {
    setup();
    cfg.acllog_max_len = 3;
    acl_log_add(ACL_DENIED_CMD, ACL_CTX_TOPLEVEL, S("ping"), S("u"), S("info1"));
    acl_log_add(ACL_DENIED_CHANNEL, ACL_CTX_TOPLEVEL, S("ch"), S("u"), S("info2"));
    acl_log_add(ACL_DENIED_CMD, ACL_CTX_TOPLEVEL, S("ping"), S("u"), S("info3"));
    TEST_EQ_INT(acl_log_count(), 2);
    const acl_log_entry *e = acl_log_at(0);
    TEST_EQ_INT(e->count, 2);
    TEST_EQ_MEM(e->client_info, e->client_info_len, "info3", 5);
    TEST_EQ_MEM(acl_log_at(1)->object, acl_log_at(1)->object_len, "ch", 2);
    /* Another context, user or object is another entry. */
    acl_log_add(ACL_DENIED_CMD, ACL_CTX_MULTI, S("ping"), S("u"), S("i"));
    acl_log_add(ACL_DENIED_CMD, ACL_CTX_TOPLEVEL, S("ping"), S("v"), S("i"));
    TEST_EQ_INT(acl_log_count(), 3);
    TEST_EQ_MEM(acl_log_at(0)->username, acl_log_at(0)->username_len, "v", 1);
    TEST_EQ_INT(acl_log_at(1)->context, ACL_CTX_MULTI);
    TEST_EQ_INT(acl_log_at(2)->count, 2);
    TEST_EQ_INT(acl_denied_count(ACL_DENIED_CMD), 4);
    TEST_EQ_INT(acl_denied_count(ACL_DENIED_CHANNEL), 1);
    cfg.acllog_max_len = 0;
    acl_log_add(ACL_DENIED_AUTH, ACL_CTX_TOPLEVEL, S("AUTH"), S("x"), S("i"));
    TEST_EQ_INT(acl_log_count(), 0);
    cfg.acllog_max_len = 128;
    acl_log_add(ACL_DENIED_AUTH, ACL_CTX_TOPLEVEL, S("AUTH"), S("x"), S("i"));
    acl_log_reset();
    TEST_EQ_INT(acl_log_count(), 0);
    TEST_TRUE(teardown());
}

/* ---- ACL LOAD and SAVE ------------------------------------------------------------ */

static void write_file(const char *path, const char *text) {
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

static int removed_calls;

static void on_removed(void *ctx, acl_user *u) {
    (void)ctx, (void)u;
    removed_calls++;
}

static void test_load_errors(void) {
    setup();
    char path[] = "/tmp/test_acl_XXXXXX";
    int fd = mkstemp(path);
    TEST_TRUE(fd != -1);
    close(fd);
    write_file(path, "# comment\nuser x on foo bar\nuser x on\nuser\n\n  user z on  \nuser y +nosuch +n2 baz\n"
                     "user w\t(~x\nuser v on (~x\nUSER q\n");
    buf errors = {0};
    TEST_TRUE(acl_load_stage(path, &errors) == NULL);
    buf want = {0};
    buf_printf(&want,
               "%s:1 should start with user keyword followed by the username. %s:2: Syntax error. WARNING: "
               "Duplicate user 'x' found on line 3. %s:4 should start with user keyword followed by the username. "
               "%s:7: Error in applying operation '+nosuch': Unknown command or category name in ACL. %s:7: Error "
               "in applying operation '+n2': Unknown command or category name in ACL. %s:7: Syntax error. "
               "'%s:8: username 'w\t(~x' contains invalid characters. %s:9: Unmatched parenthesis in selector "
               "definition.%s:10 should start with user keyword followed by the username. WARNING: ACL errors "
               "detected, no change to the previously active ACL rules was performed",
               path, path, path, path, path, path, path, path, path);
    TEST_EQ_MEM(errors.data, errors.len, want.data, want.len);
    buf_free(&want);
    buf_free(&errors);
    unlink(path);
    TEST_TRUE(acl_load_stage(path, &errors) == NULL);
    TEST_TRUE(strstr(errors.data, "Error loading ACLs, opening file") == errors.data);
    buf_free(&errors);
    TEST_TRUE(teardown());
}

static void test_load_and_save(void) {
    setup();
    char err[256];
    char path[] = "/tmp/test_acl_XXXXXX";
    int fd = mkstemp(path);
    TEST_TRUE(fd != -1);
    close(fd);
    acl_user *def = acl_default_user();
    setuser("old", "on", err, sizeof(err));
    setuser("keep", "on", err, sizeof(err));
    write_file(path, "user keep on nopass &k* +@all\r\nuser alice on >pw (~x +ping) +publish\n");
    buf errors = {0};
    acl_userset *set = acl_load_stage(path, &errors);
    TEST_TRUE(set != NULL);
    TEST_EQ_INT(errors.len, 0);
    /* No default line: the staged default is a fresh one. */
    TEST_EQ_STR(describe(acl_userset_default(set)), "on nopass ~* &* +@all");
    removed_calls = 0;
    acl_load_commit(set, on_removed, NULL);
    TEST_EQ_INT(removed_calls, 2); /* "old" and the previous "keep" */
    TEST_TRUE(acl_default_user() == def);
    TEST_EQ_INT(acl_user_count(), 3);
    TEST_EQ_STR(describe(acl_find_user(S("alice"))), "on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26"
                                                     "170c4 resetchannels -@all +publish (~x resetchannels -@all +ping)");
    TEST_TRUE(acl_save_file(path) == 0);
    FILE *fp = fopen(path, "r");
    char text[1024] = "";
    size_t n = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[n] = '\0';
    TEST_EQ_STR(text, "user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 "
                      "resetchannels -@all +publish (~x resetchannels -@all +ping)\n"
                      "user default on nopass ~* &* +@all\n"
                      "user keep on nopass resetchannels &k* +@all\n");
    /* What was saved loads back to the same lines. */
    set = acl_load_stage(path, &errors);
    TEST_TRUE(set != NULL);
    acl_load_commit(set, NULL, NULL);
    TEST_EQ_STR(describe(acl_find_user(S("keep"))), "on nopass resetchannels &k* +@all");
    unlink(path);
    buf_free(&errors);
    TEST_TRUE(teardown());
}

const test_case acl_tests[] = {
    {"sha256_vectors", test_sha256_vectors},
    {"sha256_streaming", test_sha256_streaming},
    {"rule_errors", test_rule_errors},
    {"error_texts", test_error_texts},
    {"describe", test_describe},
    {"describe_with_allchannels_default", test_describe_with_allchannels_default},
    {"getuser_fields", test_getuser_fields},
    {"setuser_errors", test_setuser_errors},
    {"setuser_is_atomic_and_keeps_address", test_setuser_is_atomic_and_keeps_address},
    {"users_sorted_bytewise", test_users_sorted_bytewise},
    {"checks", test_checks},
    {"channel_rights", test_channel_rights},
    {"channels_may_shrink", test_channels_may_shrink},
    {"authenticate", test_authenticate},
    {"log_folding_and_trim", test_log_folding_and_trim},
    {"load_errors", test_load_errors},
    {"load_and_save", test_load_and_save},
    {NULL, NULL},
};
