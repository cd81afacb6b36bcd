/* The ledger file: opening, validation, schema migrations, reaping runs
 * whose wattprint died. */
#define _GNU_SOURCE
#include "ledger_int.h"
#include "pack.h"

#include "../util/cancel.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* "WATP": marks a SQLite file as a wattprint ledger (PRAGMA application_id). */
#define APPLICATION_ID 0x57415450

static const char *const migrations[] = {
    /* 1: runs, their tags and samples */
    "CREATE TABLE runs ("
    " id TEXT PRIMARY KEY,"
    " status TEXT NOT NULL,"
    " start_s REAL NOT NULL,"
    " end_s REAL,"
    " duration_s REAL NOT NULL DEFAULT 0,"
    " host TEXT NOT NULL DEFAULT '',"
    " user TEXT NOT NULL DEFAULT '',"
    " project TEXT,"
    " experiment TEXT,"
    " job TEXT,"
    " energy_j REAL NOT NULL DEFAULT 0,"
    " facility_energy_j REAL NOT NULL DEFAULT 0,"
    " emissions_g REAL NOT NULL DEFAULT 0,"
    " device_hours REAL NOT NULL DEFAULT 0,"
    " pid INTEGER,"
    " proc_start TEXT,"
    " boot_id TEXT,"
    " checkpoint_s REAL,"
    " result TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX runs_start ON runs(start_s);"
    "CREATE INDEX runs_running ON runs(status) WHERE status = 'running';"
    /* covering indices: the rollups read the index alone, in group order */
    "CREATE INDEX runs_project ON runs(project, start_s, duration_s, device_hours, energy_j,"
    " facility_energy_j, emissions_g);"
    "CREATE INDEX runs_experiment ON runs(experiment, start_s, duration_s, device_hours,"
    " energy_j, facility_energy_j, emissions_g);"
    "CREATE INDEX runs_job ON runs(job);"
    "CREATE TABLE tags ("
    " run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " key TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (run_id, key)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX tags_key ON tags(key, value);"
    "CREATE TABLE samples ("
    " run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,"
    " channels TEXT NOT NULL," /* JSON array of device names */
    " data BLOB NOT NULL"      /* doubles: per sample, t_s then each channel's energy_j */
    ") STRICT;",
    /* 2: the run's document packed (pack.h); result then holds ''. Rows
     * written before keep their text: readers take either (wp_doc). */
    "ALTER TABLE runs ADD COLUMN doc BLOB;",
    /* 3: the whole footprint the summaries total (NULL: the run has none),
     * taken from the runs' documents once, and in the rollups' covering
     * indices */
    "ALTER TABLE runs ADD COLUMN water_l REAL;"
    "ALTER TABLE runs ADD COLUMN water_offsite_l REAL;"
    "ALTER TABLE runs ADD COLUMN embodied_g REAL;"
    "UPDATE runs SET water_l = json_extract(wp_doc(result, doc, id), '$.carbon.water_l'),"
    " water_offsite_l = json_extract(wp_doc(result, doc, id), '$.carbon.water_offsite_l'),"
    " embodied_g = json_extract(wp_doc(result, doc, id), '$.embodied_emissions_g');"
    "DROP INDEX runs_project; DROP INDEX runs_experiment;"
    "CREATE INDEX runs_project ON runs(project, start_s, duration_s, device_hours, energy_j,"
    " facility_energy_j, emissions_g, water_l, water_offsite_l, embodied_g);"
    "CREATE INDEX runs_experiment ON runs(experiment, start_s, duration_s, device_hours,"
    " energy_j, facility_energy_j, emissions_g, water_l, water_offsite_l, embodied_g);"
    /* and the samples keyed by their run alone (no rowid, so no second index
     * of the run ids: about 50 bytes a run) */
    "CREATE TABLE samples_3 ("
    " run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,"
    " channels TEXT NOT NULL,"
    " data BLOB NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "INSERT INTO samples_3 SELECT run_id, channels, data FROM samples;"
    "DROP TABLE samples;"
    "ALTER TABLE samples_3 RENAME TO samples;",
    /* 4: the members an export reads besides the columns above (columns.c),
     * filled from the documents after (wp_ledger_fill_export) */
    "ALTER TABLE runs ADD COLUMN exit_code REAL;" /* a number, as the document's schema says */
    "ALTER TABLE runs ADD COLUMN cpu_j REAL;"
    "ALTER TABLE runs ADD COLUMN dram_j REAL;"
    "ALTER TABLE runs ADD COLUMN gpu_j REAL;"
    "ALTER TABLE runs ADD COLUMN psys_j REAL;"
    "ALTER TABLE runs ADD COLUMN pue REAL;"
    "ALTER TABLE runs ADD COLUMN intensity_g_per_kwh REAL;"
    "ALTER TABLE runs ADD COLUMN method TEXT;"
    "ALTER TABLE runs ADD COLUMN region TEXT;"
    "ALTER TABLE runs ADD COLUMN start_text TEXT;"
    "ALTER TABLE runs ADD COLUMN end_text TEXT;"
    "ALTER TABLE runs ADD COLUMN command_line TEXT;",
    /* 5: what CodeCarbon's row reads of the channels (the GPUs counted, the
     * last one's name, a process's share), from the documents */
    "ALTER TABLE runs ADD COLUMN gpus INTEGER;"
    "ALTER TABLE runs ADD COLUMN gpu_model TEXT;"
    "ALTER TABLE runs ADD COLUMN shared INTEGER;" WP_LEDGER_FILL_GPUS,
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof *migrations))

/* An older ledger that cannot be migrated (read-only) is read through a view
 * with the columns of this schema, by its version. */
#define WP_FOOTPRINT_OF(doc)                                                                       \
    " json_extract(" doc ", '$.carbon.water_l') AS water_l, json_extract(" doc                     \
    ", '$.carbon.water_offsite_l') AS water_offsite_l, json_extract(" doc                          \
    ", '$.embodied_emissions_g') AS embodied_g"
/* (the export's columns are not lent: a values walk of such a ledger reads
 * whole runs, l->whole_runs) */
static const char *const older_view[] = {
    "CREATE TEMP VIEW runs AS SELECT *, NULL AS doc," WP_FOOTPRINT_OF("result") " FROM main.runs",
    "CREATE TEMP VIEW runs AS SELECT *," WP_FOOTPRINT_OF(
        "wp_doc(result, doc, id)") " FROM main.runs",
    "CREATE TEMP VIEW runs AS SELECT * FROM main.runs",
    "CREATE TEMP VIEW runs AS SELECT * FROM main.runs",
};
_Static_assert(sizeof older_view / sizeof *older_view == SCHEMA_VERSION - 1,
               "a view for each older schema");

const char *wp_ledger_path(const char *path, char *buf, size_t cap)
{
    const char *env = getenv("WATTPRINT_LEDGER"), *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");

    if (path && *path)
        snprintf(buf, cap, "%s", path);
    else if (env && *env)
        snprintf(buf, cap, "%s", env);
    else if (xdg && *xdg)
        snprintf(buf, cap, "%s/wattprint/ledger.db", xdg);
    else if (home && *home)
        snprintf(buf, cap, "%s/.local/share/wattprint/ledger.db", home);
    else
        return NULL;
    return buf;
}

/* Whether path is the default ledger ($XDG_DATA_HOME/wattprint/ledger.db or
 * ~/.local/share/wattprint/ledger.db), whose directory wattprint makes. */
static bool is_default(const char *path)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char def[4096];

    if (xdg && *xdg)
        snprintf(def, sizeof def, "%s/wattprint/ledger.db", xdg);
    else if (home && *home)
        snprintf(def, sizeof def, "%s/.local/share/wattprint/ledger.db", home);
    else
        return false;
    return strcmp(def, path) == 0;
}

/* The WAL file this connection has open, by device and inode. */
static void note_wal(struct wp_ledger *l)
{
    char wal[4200];
    struct stat st;

    snprintf(wal, sizeof wal, "%s-wal", l->path);
    if (stat(wal, &st) == 0) {
        l->wal_dev = st.st_dev;
        l->wal_ino = st.st_ino;
    }
}

bool wp_ledger_wal_lost(const struct wp_ledger *l)
{
    char wal[4200];
    struct stat st;

    if (!l || !l->db || l->readonly || !l->wal_ino)
        return false;
    snprintf(wal, sizeof wal, "%s-wal", l->path);
    return stat(wal, &st) != 0 || st.st_dev != l->wal_dev || st.st_ino != l->wal_ino;
}

void wp_ledger_close_lost(struct wp_ledger *l)
{
    int one = 1;

    /* closing would checkpoint the deleted WAL's stale pages into the file
     * and then unlink the WAL by name: the new one other writers use now */
    if (l && l->db) {
        sqlite3_db_config(l->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        sqlite3_file_control(l->db, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
    }
    wp_ledger_close(l);
}

int wp_ledger_check_place(const char *path, char *err, size_t cap)
{
    char dir[4096], *slash;
    struct stat st;

    if (wp_ledger_is_uri(path) || is_default(path))
        return 0;
    snprintf(dir, sizeof dir, "%s", path);
    if (!(slash = strrchr(dir, '/')))
        return 0; /* the working directory */
    slash[slash == dir] = '\0';
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    snprintf(err, cap,
             "%s: the directory %s does not exist (wattprint makes only the default ledger's "
             "directory; make this one, or name a ledger in a directory that exists)",
             path, dir);
    return -ENOENT;
}

int wp_ledger_fail(struct wp_ledger *l, char *err, size_t cap)
{
    snprintf(err, cap, "%s: %s", l->path, sqlite3_errmsg(l->db));
    return -EIO;
}

int wp_ledger_exec(struct wp_ledger *l, const char *sql, char *err, size_t cap)
{
    char *msg = NULL;
    if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, cap, "%s", msg ? msg : sqlite3_errmsg(l->db));
        sqlite3_free(msg);
        return -EIO;
    }
    return 0;
}

static int pragma_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Refuses anything that is not an empty file or a wattprint ledger, without
 * writing to it. */
static int validate(struct wp_ledger *l, const char *path, int *version, char *err, size_t cap)
{
    sqlite3_stmt *st;
    int app = 0, tables = 0, rc;

    /* One statement, so one snapshot: another process may be creating the
     * schema at this very moment. */
    rc = sqlite3_prepare_v2(l->db,
                            "SELECT (SELECT application_id FROM pragma_application_id),"
                            " (SELECT user_version FROM pragma_user_version),"
                            " (SELECT count(*) FROM sqlite_master)",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            app = sqlite3_column_int(st, 0);
            *version = sqlite3_column_int(st, 1);
            tables = sqlite3_column_int(st, 2);
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, cap, "%s is not a wattprint ledger (%s); it was left untouched", path,
                 sqlite3_errstr(rc));
        return -EINVAL;
    }
    if (app != APPLICATION_ID && (app != 0 || tables != 0)) {
        snprintf(err, cap,
                 "%s is a SQLite database but not a wattprint ledger; it was left "
                 "untouched (choose another ledger path)",
                 path);
        return -EINVAL;
    }
    if (*version > SCHEMA_VERSION) {
        snprintf(err, cap, "%s was written by a newer wattprint (schema %d, this one knows %d)",
                 path, *version, SCHEMA_VERSION);
        return -EINVAL;
    }
    /* No integrity scan here: it would read the whole file on every run.
     * Corruption met later is reported by the statement that meets it. */
    return 0;
}

static int migrate(struct wp_ledger *l, int version, char *err, size_t cap)
{
    char sql[64];

    if (version == SCHEMA_VERSION)
        return 0;
    if (wp_ledger_exec(l, "BEGIN IMMEDIATE", err, cap))
        return -EIO;
    /* Another process may have migrated while we waited for the lock. */
    if (pragma_int(l->db, "PRAGMA user_version", &version) != SQLITE_OK)
        version = SCHEMA_VERSION;
    for (int v = version; v < SCHEMA_VERSION; v++) {
        if (wp_ledger_exec(l, migrations[v], err, cap)) {
            wp_ledger_exec(l, "ROLLBACK", err + strlen(err), 0);
            return -EIO;
        }
    }
    /* the columns of schema 4 (and 5), from each document once */
    if (version > 0 && version < 4 && wp_ledger_fill_export(l, err, cap)) {
        wp_ledger_exec(l, "ROLLBACK", err + strlen(err), 0);
        return -EIO;
    }
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
    if (wp_ledger_exec(l, sql, err, cap) ||
        wp_ledger_exec(l, "PRAGMA application_id = 1463899216", err, cap) ||
        wp_ledger_exec(l, "COMMIT", err, cap)) {
        wp_ledger_exec(l, "ROLLBACK", err + strlen(err), 0);
        return -EIO;
    }
    return 0;
}

/* This process's start time in clock ticks since boot (field 22 of
 * /proc/PID/stat), which tells a live process from a reused pid. */
int wp_ledger_proc_start(long pid, char *out, size_t cap)
{
    char rel[64], buf[1024], *p;
    long n;

    snprintf(rel, sizeof rel, "%ld/stat", pid);
    n = wp_read_text(wp_procfs_root(), rel, buf, sizeof buf);
    if (n <= 0 || !(p = strrchr(buf, ')')))
        return -EINVAL;
    /* after "comm)": state is field 3; starttime is field 22 */
    for (int field = 2; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    if (!p)
        return -EINVAL;
    snprintf(out, cap, "%.*s", (int)strcspn(p + 1, " "), p + 1);
    return 0;
}

void wp_ledger_boot_id(char *out, size_t cap)
{
    long n = wp_read_text(wp_procfs_root(), "sys/kernel/random/boot_id", out, cap);
    if (n <= 0)
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
}

/* Marks as interrupted the runs of this host whose wattprint is gone: its
 * pid is dead or reused, or the machine rebooted. Their energy is that of
 * their last checkpoint. */
bool wp_ledger_owner_gone(long pid, const char *started, const char *run_boot, const char *boot)
{
    char now_start[64];

    return (run_boot && boot[0] && strcmp(run_boot, boot) != 0) ||
           (kill((pid_t)pid, 0) != 0 && errno == ESRCH) ||
           (started && wp_ledger_proc_start(pid, now_start, sizeof now_start) == 0 &&
            strcmp(now_start, started) != 0);
}

static void reap(struct wp_ledger *l)
{
    char host[256] = "", boot[64], err[256];
    sqlite3_stmt *st, *up;
    int rc;

    gethostname(host, sizeof host);
    wp_ledger_boot_id(boot, sizeof boot);
    if (sqlite3_prepare_v2(l->db,
                           "SELECT id, pid, proc_start, boot_id FROM runs "
                           "WHERE status = 'running' AND host = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    if (sqlite3_prepare_v2(
            l->db,
            "UPDATE runs SET status = 'interrupted', end_s = coalesce(checkpoint_s, start_s),"
            " duration_s = coalesce(checkpoint_s, start_s) - start_s,"
            " result = '', doc = wp_pack(json_set(wp_doc(result, doc, id), '$.status', "
            "'interrupted',"
            "   '$.duration_s', coalesce(checkpoint_s, start_s) - start_s), id)"
            " WHERE id = ? AND status = 'running'",
            -1, &up, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return;
    }
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long pid = sqlite3_column_int64(st, 1);
        const char *started = (const char *)sqlite3_column_text(st, 2);
        const char *run_boot = (const char *)sqlite3_column_text(st, 3);
        if (!wp_ledger_owner_gone(pid, started, run_boot, boot))
            continue;
        sqlite3_bind_text(up, 1, (const char *)sqlite3_column_text(st, 0), -1, SQLITE_TRANSIENT);
        sqlite3_step(up);
        sqlite3_reset(up);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    (void)err;
}

#define OPEN_BUSY (-EBUSY) /* try again: SQLite would not wait */

static int try_open(const char *path, int mode, struct wp_ledger **out, char *err, size_t cap);

/* SQLite's busy handler: wait for another writer's lock in short slices,
 * WP_LEDGER_BUSY_S in all, and not at all once the process is asked to end
 * (the caller then keeps the run in the spool). Returns non-zero to wait on. */
static int busy_wait(void *ctx, int tries)
{
    struct wp_ledger *l = ctx;

    if (wp_cancelled() || tries * WP_CANCEL_POLL_MS >= WP_LEDGER_BUSY_S * 1000) {
        l->gave_up_waiting = true;
        return 0;
    }
    sqlite3_sleep(WP_CANCEL_POLL_MS);
    return 1;
}

int wp_sq_open(const char *path, int mode, struct wp_ledger **out, char *err, size_t cap)
{
    double deadline = wp_mono_s() + 30.0;
    unsigned seed = (unsigned)getpid();
    int rc;

    /* Setting WAL mode and creating the schema take locks that SQLite does not
     * wait for with its busy handler (it answers SQLITE_BUSY at once when
     * waiting could deadlock). Many runs of a sweep opening a new ledger at
     * the same moment meet that: start over after a short, random pause. */
    while ((rc = try_open(path, mode, out, err, cap)) == OPEN_BUSY && wp_mono_s() < deadline &&
           !wp_cancelled()) {
        struct timespec ts = {0, (10 + rand_r(&seed) % 40) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return rc;
}

/* Opens the database. A ledger that can only be read may sit on read-only
 * media, or belong to another user, where SQLite cannot make the WAL's
 * shared-memory file: it is then read as immutable (nothing else can be
 * writing a read-only medium; another user's running write is not seen). */
static int open_db(struct wp_ledger *l, const char *path, int *flags, char *err, size_t cap)
{
    char uri[4200];
    int version;

    if (sqlite3_open_v2(path, &l->db, *flags, NULL) == SQLITE_OK &&
        (!(*flags & SQLITE_OPEN_READONLY) ||
         pragma_int(l->db, "PRAGMA user_version", &version) == SQLITE_OK))
        return 0;
    if (!(*flags & SQLITE_OPEN_READONLY) || strlen(path) > 4000) {
        snprintf(err, cap, "cannot open %s: %s", path, sqlite3_errmsg(l->db));
        return -EIO;
    }
    sqlite3_close(l->db);
    l->db = NULL;
    if (strpbrk(path, "?#%")) { /* they would end or escape the URI's path */
        snprintf(err, cap, "cannot open %s read-only (a ?, # or %% in its path)", path);
        return -EINVAL;
    }
    snprintf(uri, sizeof uri, "file:%s?immutable=1", path);
    if (sqlite3_open_v2(uri, &l->db, *flags | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        snprintf(err, cap, "cannot open %s: %s", path, sqlite3_errmsg(l->db));
        return -EIO;
    }
    return 0;
}

static int try_open(const char *path, int mode, struct wp_ledger **out, char *err, size_t cap)
{
    struct wp_ledger *l = calloc(1, sizeof *l);
    int version = 0, flags = SQLITE_OPEN_FULLMUTEX;
    struct stat st;

    if (!l) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    l->ops = &wp_ledger_sqlite_ops;
    if (wp_ledger_check_file(path, err, cap) != 0) {
        free(l);
        return -EIO;
    }
    if (mode != WP_LEDGER_READ) {
        int rc = wp_ledger_check_place(path, err, cap);
        if (rc) {
            free(l);
            return -EIO;
        }
        rc = wp_mkdir_parents(path, 0755);
        if (rc) {
            snprintf(err, cap, "cannot create the directory of %s: %s", path, strerror(-rc));
            free(l);
            return -EIO;
        }
        if (wp_ledger_check_local(path, err, cap) != 0) {
            free(l);
            return -EIO;
        }
        flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        /* A read-only file still serves reads; writes will then fail and say so. */
        if (stat(path, &st) == 0 && access(path, W_OK) != 0)
            flags = SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_READONLY;
    } else {
        if (stat(path, &st) != 0) {
            snprintf(err, cap,
                     "no ledger at %s (runs are recorded there by wattprint run; "
                     "name another ledger or set WATTPRINT_LEDGER)",
                     path);
            free(l);
            return -EIO;
        }
        /* Writable when it may be, so that reading also marks dead runs interrupted. */
        flags |= access(path, W_OK) == 0 ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
    }
    if (open_db(l, path, &flags, err, cap) != 0)
        goto fail;
    snprintf(l->path, sizeof l->path, "%s", path);
    l->readonly = (flags & SQLITE_OPEN_READONLY) != 0;
    /* Many wattprint runs of a sweep write at once: wait for the lock, do not fail. */
    sqlite3_busy_handler(l->db, busy_wait, l);
    if (validate(l, path, &version, err, cap))
        goto fail;
    /* before the migrations: the third reads the packed documents */
    if (wp_ledger_pack_functions(l->db) != SQLITE_OK) {
        snprintf(err, cap, "%s: %s", path, sqlite3_errmsg(l->db));
        goto fail;
    }
    if (!l->readonly) {
        /* 16 KiB pages hold several 1-2 KB run rows each (4 KiB pages hold one);
         * it only takes effect on a new, empty file. */
        if ((version == 0 && wp_ledger_exec(l, "PRAGMA page_size = 16384", err, cap)) ||
            wp_ledger_exec(l, "PRAGMA journal_mode = WAL", err, cap) ||
            wp_ledger_exec(l, "PRAGMA synchronous = NORMAL", err, cap) ||
            migrate(l, version, err, cap))
            goto fail;
    } else if (version == 0) {
        snprintf(err, cap, "%s is empty and read-only", path);
        goto fail;
    } else if (version < SCHEMA_VERSION && wp_ledger_exec(l, older_view[version - 1], err, cap)) {
        goto fail; /* an older ledger read where it cannot be migrated: the view
                      lends it the columns a newer one has */
    }
    l->whole_runs = l->readonly && version < SCHEMA_VERSION;
    wp_ledger_exec(l, "PRAGMA foreign_keys = ON", err, cap);
    /* 64 MiB of page cache: rollups and bulk imports touch many index pages. */
    wp_ledger_exec(l, "PRAGMA cache_size = -65536", err, cap);
    if (!l->readonly) {
        reap(l);
        wp_spool_send(l, l->path); /* runs kept while it was locked */
        note_wal(l);
    }
    *out = l;
    return 0;
fail : {
    int code = l->db ? sqlite3_errcode(l->db) & 0xff : SQLITE_OK;
    sqlite3_close(l->db);
    free(l);
    return code == SQLITE_BUSY || code == SQLITE_LOCKED ? OPEN_BUSY : -EIO;
}
}

void wp_sq_close(struct wp_ledger *l)
{
    if (!l)
        return;
    sqlite3_finalize(l->st_upsert);
    sqlite3_finalize(l->st_insert);
    sqlite3_finalize(l->st_tag);
    sqlite3_finalize(l->st_exists);
    sqlite3_close(l->db);
    free(l);
}

int wp_sq_begin_batch(struct wp_ledger *l)
{
    char err[256];
    return wp_ledger_exec(l, "BEGIN IMMEDIATE", err, sizeof err);
}

int wp_sq_end_batch(struct wp_ledger *l)
{
    char err[256];
    return wp_ledger_exec(l, "COMMIT", err, sizeof err);
}

void wp_sq_abort_batch(struct wp_ledger *l)
{
    char err[256];
    (void)wp_ledger_exec(l, "ROLLBACK", err, sizeof err);
}

const struct wp_ledger_ops wp_ledger_sqlite_ops = {
    .name = "sqlite",
    .close = wp_sq_close,
    .begin = wp_sq_begin,
    .checkpoint = wp_sq_checkpoint,
    .finish = wp_sq_finish,
    .insert_row = wp_sq_insert_row,
    .begin_batch = wp_sq_begin_batch,
    .end_batch = wp_sq_end_batch,
    .abort_batch = wp_sq_abort_batch,
    .list = wp_sq_list,
    .get = wp_sq_get,
    .each = wp_sq_each,
    .each_values = wp_sq_each_values,
    .summary = wp_sq_summary,
    .remove = wp_sq_remove,
};
