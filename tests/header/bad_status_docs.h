/*
 * A header that breaks each rule tests/header/status_docs.cmake checks, once:
 * the test header_status_docs_catch_each_problem runs the check on it and
 * expects every problem named. Never compiled.
 */
#define GSGD_STATUS_MAP(X)                                                                         \
    X(OK, 0, "success")                                                                            \
    X(INVALID_ARGUMENT, 1, "invalid argument")

/* Described, but its statuses are not. */
GSGD_API gsgd_status gsgd_bad_no_returns(int *x);

GSGD_API gsgd_status gsgd_bad_no_comment(int *x);

/* Names a status the map lacks. Returns OK; INVALID_ARGUMENT (NULL x);
 * NOT_A_STATUS. */
GSGD_API gsgd_status gsgd_bad_unknown_status(int *x);

/* Fails with GSGD_STATUS_NO_SUCH_THING. Returns OK. */
GSGD_API gsgd_status gsgd_bad_prefixed_mention(int *x);

/* A blank line keeps this comment from being the function's. */

GSGD_API size_t gsgd_bad_blank_line(void);

/* Passes: one line above, statuses named, asides in parentheses (any WORDS
 * and. dots). Returns OK; INVALID_ARGUMENT (NULL x, or x < 0). */
GSGD_API gsgd_status gsgd_good(int *x);
