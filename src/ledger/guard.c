/* What a ledger path must be before SQLite touches it: an SQLite file (or
 * nothing, or an empty file), and, for writing in WAL mode, on a local
 * filesystem. SQLite's own documentation: WAL "does not work over a network
 * filesystem", because its shared memory needs every process on one host. */
#include "ledger_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Filesystem magic numbers (linux/magic.h and the filesystems' sources). */
static const struct {
    unsigned long type;
    const char *name;
} network_fs[] = {
    {0x6969, "NFS"},      {0x517B, "SMB"},        {0xFF534D42, "CIFS"},
    {0xFE534D42, "SMB2"}, {0x0BD00BD0, "Lustre"}, {0x47504653, "GPFS"},
    {0x65735546, "FUSE"}, {0x00C36400, "CephFS"}, {0x01021997, "9P"},
    {0x5346414F, "AFS"},  {0x013111A8, "IBRIX"},  {0x19830326, "BeeGFS (FhGFS)"},
};

/* The filesystem type of dir; WATTPRINT_STATFS_TYPE (hex) stands in for
 * statfs in tests, which cannot mount NFS. Returns 0 and *type, or a negative errno. */
static int fs_type(const char *dir, unsigned long *type)
{
    const char *fake = getenv("WATTPRINT_STATFS_TYPE");
    struct statfs sf;

    if (fake && *fake) {
        *type = strtoul(fake, NULL, 16);
        return 0;
    }
    if (statfs(dir, &sf) != 0)
        return -errno;
    *type = (unsigned long)sf.f_type & 0xffffffffUL;
    return 0;
}

int wp_ledger_check_local(const char *path, char *err, size_t cap)
{
    char dir[4096], *slash;
    unsigned long type = 0;

    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (fs_type(dir, &type) != 0)
        return 0; /* cannot tell: SQLite will say what fails */
    for (size_t i = 0; i < sizeof network_fs / sizeof *network_fs; i++)
        if (network_fs[i].type == type) {
            snprintf(err, cap,
                     "%s is on a network filesystem (%s), where SQLite's write-ahead log "
                     "does not work; put the ledger on a local disk (WATTPRINT_LEDGER=/tmp/... "
                     "or a node's local scratch) or use a PostgreSQL ledger",
                     path, network_fs[i].name);
            return -EREMOTE;
        }
    return 0;
}

int wp_ledger_check_file(const char *path, char *err, size_t cap)
{
    static const char magic[16] = "SQLite format 3";
    char head[16];
    struct stat st;
    ssize_t n;
    int fd;

    if (stat(path, &st) != 0)
        return 0; /* nothing yet: it will be created */
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, cap, "%s is not a regular file; it was left untouched", path);
        return -EINVAL;
    }
    if (st.st_size == 0)
        return 0; /* an empty file becomes a ledger, as SQLite makes one */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0; /* SQLite will say why it cannot be opened */
    n = read(fd, head, sizeof head);
    close(fd);
    if (n != (ssize_t)sizeof head || memcmp(head, magic, sizeof magic) != 0) {
        snprintf(err, cap,
                 "%s is not a wattprint ledger (not an SQLite database); it was left "
                 "untouched",
                 path);
        return -EINVAL;
    }
    return 0;
}
