/*
 * Output paths (src/io/outpath.c) through the library's writer: a model
 * file saved over a regular file, a new path, a symbolic link (its target
 * replaced, the link kept), and refused over a device node, a FIFO, a
 * socket or a directory, which are left as they were; a write that fails
 * (the file size limit, as a full disk would) is WRITE_FAILED and leaves
 * the file as it was.
 */
#define _XOPEN_SOURCE 700 /* S_IFSOCK, S_IFLNK */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/outpath.h"
#include "testutil.h"

static gsgd_context *ctx;
static gsgd_model *model;

static void setup(void) {
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 4, 3, 1, &model), GSGD_STATUS_OK);
}

static void teardown(void) {
    gsgd_model_free(model);
    gsgd_context_free(ctx);
}

TestSuite(outpath, .init = setup, .fini = teardown);

/* path holds a model file that loads. */
static void expect_model_at(const char *path) {
    gsgd_model *back = NULL;
    cr_expect_eq(gsgd_model_load(ctx, path, &back), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    gsgd_model_free(back);
}

/* Saving to path is refused with IO, a message naming path and what is
 * there, and no temporary file left in the test's directory. */
static void expect_refused(const char *path, const char *what) {
    cr_expect_eq(gsgd_model_save(model, path), GSGD_STATUS_IO, "%s", path);
    const char *msg = gsgd_last_error(ctx);
    cr_expect(strstr(msg, path) && strstr(msg, what), "%s", msg);
    cr_expect_eq(tu_count_entries(tu_tmpdir(), ".tmp"), 0);
}

Test(outpath, a_regular_file_is_replaced_and_keeps_its_permissions) {
    const char *path = tu_path("m.gsgd");
    cr_assert_eq(tu_write_text(path, "old"), 0);
    cr_assert_eq(chmod(path, 0640), 0);
    cr_assert_eq(gsgd_model_save(model, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    expect_model_at(path);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_expect_eq(sb.st_mode & 0777, 0640u);
    cr_expect_eq(tu_count_entries(tu_tmpdir(), ".tmp"), 0);
}

Test(outpath, a_symlink_is_followed_its_target_replaced_and_the_link_kept) {
    /* The target in another directory: the temporary goes there, and the
     * relative link is read relative to its own directory. */
    const char *sub = tu_path("sub");
    cr_assert_eq(mkdir(sub, 0700), 0);
    const char *target = tu_path("sub/target.gsgd");
    cr_assert_eq(tu_write_text(target, "old"), 0);
    const char *link = tu_path("link.gsgd");
    cr_assert_eq(symlink("sub/target.gsgd", link), 0);
    cr_assert_eq(gsgd_model_save(model, link), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect_eq(tu_file_type(link), (unsigned)S_IFLNK, "the link is kept");
    cr_expect_eq(tu_file_type(target), (unsigned)S_IFREG);
    expect_model_at(target);
    cr_expect_eq(tu_count_entries(sub, ".tmp") + tu_count_entries(tu_tmpdir(), ".tmp"), 0);
}

Test(outpath, a_dangling_symlink_and_a_chain_of_links_lead_to_their_end) {
    const char *a = tu_path("a.gsgd"), *b = tu_path("b.gsgd"), *end = tu_path("end.gsgd");
    cr_assert_eq(symlink(b, a), 0);          /* absolute */
    cr_assert_eq(symlink("end.gsgd", b), 0); /* relative, to a new path */
    cr_assert_eq(gsgd_model_save(model, a), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect_eq(tu_file_type(a), (unsigned)S_IFLNK);
    cr_expect_eq(tu_file_type(b), (unsigned)S_IFLNK);
    cr_expect_eq(tu_file_type(end), (unsigned)S_IFREG);
    expect_model_at(end);
}

Test(outpath, a_loop_of_links_is_refused) {
    const char *a = tu_path("loop-a"), *b = tu_path("loop-b");
    cr_assert_eq(symlink(b, a), 0);
    cr_assert_eq(symlink(a, b), 0);
    cr_expect_neq(gsgd_model_save(model, a), GSGD_STATUS_OK);
    cr_expect(strstr(gsgd_last_error(ctx), a), "%s", gsgd_last_error(ctx));
    cr_expect_eq(tu_file_type(a), (unsigned)S_IFLNK);
}

Test(outpath, a_device_node_is_refused_and_left_as_it_was) {
    const char *node = tu_device_node();
    if (!node) cr_skip_test("running as root without the right to mknod: no safe device node");
    struct stat before, after;
    cr_assert_eq(stat(node, &before), 0);
    expect_refused(node, "a character device");
    cr_assert_eq(lstat(node, &after), 0);
    cr_expect(S_ISCHR(after.st_mode) && after.st_rdev == before.st_rdev &&
                  after.st_ino == before.st_ino,
              "the node is untouched");
    /* Through a link too: the link's end is what counts. */
    const char *link = tu_path("to-device");
    cr_assert_eq(symlink(node, link), 0);
    expect_refused(link, "a character device");
    cr_expect_eq(tu_file_type(link), (unsigned)S_IFLNK);
}

Test(outpath, a_fifo_is_refused_and_left_as_it_was) {
    const char *fifo = tu_path("fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    expect_refused(fifo, "a FIFO"); /* and never opened: that would block */
    cr_expect_eq(tu_file_type(fifo), (unsigned)S_IFIFO);
}

Test(outpath, a_socket_and_a_directory_are_refused) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    const char *sock = tu_path("sock");
    cr_assert(strlen(sock) < sizeof sa.sun_path);
    strcpy(sa.sun_path, sock);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    expect_refused(sock, "a socket");
    cr_expect_eq(tu_file_type(sock), (unsigned)S_IFSOCK);
    close(fd);
    const char *dir = tu_path("a-dir");
    cr_assert_eq(mkdir(dir, 0700), 0);
    expect_refused(dir, "a directory");
    char slash[800];
    snprintf(slash, sizeof slash, "%s/", tu_path("new-dir"));
    expect_refused(slash, "a directory name");
}

Test(outpath, a_failed_write_is_write_failed_and_leaves_the_file_as_it_was) {
    const char *path = tu_path("kept.gsgd");
    cr_assert_eq(tu_write_text(path, "old"), 0);
    /* The file size limit makes every write fail (EFBIG), as a full disk
     * does (ENOSPC; test_cli_output mounts one); SIGXFSZ ignored, as a
     * program that wants the error rather than death does. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {0, 0};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    cr_expect_eq(gsgd_model_save(model, path), GSGD_STATUS_WRITE_FAILED);
    cr_expect(strstr(gsgd_last_error(ctx), path), "%s", gsgd_last_error(ctx));
    cr_expect_str_eq(tu_read_text(path), "old");
    cr_expect_eq(tu_count_entries(tu_tmpdir(), ".tmp"), 0, "the temporary is removed");
    cr_expect_eq(gsgd_model_save(model, tu_path("new.gsgd")), GSGD_STATUS_WRITE_FAILED);
    cr_expect_not(tu_exists(tu_path("new.gsgd")), "nothing partial is left");
}

Test(outpath, the_rule_on_its_own) {
    char *target = NULL, why[96];
    mode_t mode = 1;
    cr_expect_eq(gsgdi_output_target(tu_path("fresh"), &target, &mode, why, sizeof why), 0);
    cr_expect_str_eq(target, tu_path("fresh"));
    cr_expect_eq(mode, 0u, "a new path replaces no file");
    free(target);
    cr_expect_eq(gsgdi_output_target("", &target, &mode, why, sizeof why), 1);
    cr_expect_str_eq(why, "an empty path");
    cr_expect_eq(gsgdi_output_path_fault(ENOENT), 1, "a missing directory is the caller's");
    cr_expect_eq(gsgdi_output_path_fault(ENOSPC), 0, "a full disk is not");
}
