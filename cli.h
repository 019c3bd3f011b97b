/*
 * cli.h: the command line, and the config file it names, into a conf.
 */
#ifndef KT_CLI_H
#define KT_CLI_H

#include "config.h"

enum cli_result {
        CLI_ERROR = -1, /* a usage or config error, said on stderr */
        CLI_RUN = 0,    /* conf is ready */
        CLI_EXIT = 1,   /* -h, -V, -X list or -X dump: printed, nothing
                         * to run */
};

/*
 * conf_init()s conf, reads the file of -c, then applies the options in
 * their order: the command line wins.  conf_free() conf after, whatever
 * the result.
 */
enum cli_result cli_load(int argc, char **argv, struct conf *conf);

/*
 * Whether -X dump masks the value of the setting or librdkafka property
 * name: it contains password, secret, key, token, credential or
 * authorization (in any case), or is sasl.oauthbearer.config or
 * .extensions (free-form); kafka.NAME is judged by NAME.  The program's
 * own key (the message key's template) is not a secret.
 */
int cli_is_secret(const char *name);

#endif /* KT_CLI_H */
