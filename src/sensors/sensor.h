/* The sensor interface: one const ops table per backend, plus a registry.
 * A sensor discovers channels and reads each channel's cumulative energy as a
 * counter in microjoules. It knows nothing of carbon, files or the CLI. */
#ifndef WP_SENSOR_H
#define WP_SENSOR_H

#include "../util/diag.h"
#include "procstat.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wp_component {
    WP_CPU,    /* a CPU package (RAPL "package-N") */
    WP_DRAM,   /* memory attached to a package */
    WP_GPU,    /* an accelerator */
    WP_PSYS,   /* the whole SoC/platform; overlaps the packages */
    WP_CORE,   /* cores of a package: already inside it */
    WP_UNCORE, /* uncore/graphics of a package: already inside it */
    WP_COMPONENT_COUNT
};

enum wp_method { WP_MEASURED, WP_ESTIMATED };

struct wp_channel {
    const char *sensor; /* backend name, static string */
    enum wp_component component;
    enum wp_method method;
    char device[32];      /* "package-0", "dram-0", "psys", "cpu", "gpu0" */
    char part_of[32];     /* device this one lies inside, or "" */
    char share_of[32];    /* the whole device this one is the run's share of, or "" */
    bool counted;         /* false: its joules are inside another channel or overlap them */
    uint64_t range_uj;    /* the counter wraps modulo this; 0: it never wraps */
    double max_power_w;   /* upper bound of its power, to pace the sampler */
    char detail[160];     /* how the energy is obtained, for people */
    char model[64];       /* the hardware's own name (GPUs), or "" */
    char uuid[96];        /* the hardware's unique id (GPUs), or "" */
    double power_limit_w; /* the enforced power limit (GPUs), 0 if unknown */
    /* Estimated channels: the energy's low and high bounds as multiples of
     * it, from the model's validation (0: no range, a measurement). */
    double range_lo, range_hi;
};

struct wp_sensor_ops;

/* An opened sensor and its channels. The backend allocates it in probe and
 * frees it in close. */
struct wp_sensor {
    const struct wp_sensor_ops *ops;
    struct wp_channel *channels;
    int n_channels;
    void *priv;
};

enum wp_gpu_error {
    WP_GPU_OK,
    WP_GPU_BAD_SELECTION,  /* an entry of the GPU list names no GPU */
    WP_GPU_NO_ATTRIBUTION, /* attribution asked for, the library cannot do it */
};

/* What probing knows: where the hardware is and what is already covered. */
struct wp_sensor_env {
    const char *sysfs_root;
    const char *procfs_root;
    double cpu_tdp_w;     /* the CPU's TDP as given, 0 when not given */
    bool allow_estimates; /* false when only measurements will do */
    unsigned covered;     /* bit (1u << component) set once a component is measured */
    int unreadable;       /* counters that exist but could not be opened */
    const char *gpus;     /* "all", "visible" (default when NULL), "none" or a list of
                             indices and UUIDs */
    char gpu_why[512];    /* why GPU backends found nothing */
    enum wp_gpu_error gpu_error;
    char gpu_err[512];            /* what the GPU error is */
    bool no_socket;               /* do not read a wattprint serve socket (the daemon itself) */
    bool gpus_only;               /* another rank on this node measures CPU and DRAM */
    bool attribute_process;       /* the run's share: GPUs by SM utilisation, CPU and
                                     DRAM by the process tree's CPU time and memory */
    const char *only;             /* comma-separated backends to use; NULL: all */
    const _Atomic int *root_pid;  /* the measured command (0 until started); may be NULL */
    struct wp_diag diag;          /* where warnings go */
    struct wp_procstat *procstat; /* /proc/stat, opened by the first model that reads it */
};

struct wp_sensor_ops {
    const char *name;
    /* bit (1u << component) for each component it reads; a rank that
     * measures only its GPUs skips the backends without WP_GPU */
    unsigned components;
    /* Opens the backend. Returns 0 and *out, -ENODEV when absent (quietly,
     * or with a warning through env->diag), or another negative errno. */
    int (*probe)(struct wp_sensor_env *env, struct wp_sensor **out);
    /* Reads every channel's cumulative energy in microjoules at monotonic
     * time now_s. ok[i] is false where channel i failed; its value is then
     * unspecified. Must not allocate: it runs on the sampling path. */
    void (*read)(struct wp_sensor *s, double now_s, uint64_t *energy_uj, bool *ok);
    /* Releases everything probe allocated, including s. */
    void (*close)(struct wp_sensor *s);
};

extern const struct wp_sensor_ops wp_rapl_ops;
extern const struct wp_sensor_ops wp_rapl_perf_ops;
extern const struct wp_sensor_ops wp_serve_client_ops;
extern const struct wp_sensor_ops wp_nvml_ops;
extern const struct wp_sensor_ops wp_rocm_ops;
extern const struct wp_sensor_ops wp_cpu_model_ops;
extern const struct wp_sensor_ops wp_ram_model_ops;

/* With env->attribute_process, wraps a sensor whose CPU or DRAM channels are
 * the whole machine's: each becomes the run's share (counted) beside the whole
 * (device "-all", not counted). Returns 0 with *out (inner itself when it has
 * no such channel; otherwise the wrapper owns inner), or -ENOMEM (inner is
 * then closed). */
int wp_attribute_wrap(struct wp_sensor_env *env, struct wp_sensor *inner, struct wp_sensor **out);
extern const struct wp_sensor_ops wp_attribute_ops; /* the wrapper's; never probed */

/* Probes every backend in the registry's order; each may skip what an earlier
 * one already measured. On success returns the number of sensors opened
 * (possibly 0) and a malloc'd array in *out that the caller frees with
 * wp_sensors_close. Returns a negative errno on allocation failure. */
int wp_sensors_probe(struct wp_sensor_env *env, struct wp_sensor ***out);

/* A reference to the session's /proc/stat for a model's sensor (opened at the
 * first call; env keeps its own until the probe ends), or NULL when it cannot
 * be opened. */
struct wp_procstat *wp_sensor_env_procstat(struct wp_sensor_env *env);

/* True when this process is a rank of a multi-rank job whose local rank is
 * not 0 (LOCAL_RANK, SLURM_LOCALID, OMPI_COMM_WORLD_LOCAL_RANK,
 * MPI_LOCALRANKID): another rank on this node measures its CPU and DRAM, so
 * this one measures only its GPUs (env->gpus_only) and the node counts once. */
bool wp_sensors_other_rank(void);

/* Whether name is in the comma-separated list. */
bool wp_sensors_listed(const char *list, const char *name);

/* Checks that every name in the comma-separated list is a backend. Returns 0,
 * or a negative errno with the reason in err. */
int wp_sensors_check_list(const char *list, char *err, size_t cap);

/* Closes n sensors and frees the array. */
void wp_sensors_close(struct wp_sensor **s, int n);

/* Allocates a sensor with n zeroed channels. Returns NULL on failure. */
struct wp_sensor *wp_sensor_alloc(const struct wp_sensor_ops *ops, int n);

/* Frees what wp_sensor_alloc allocated (not priv). */
void wp_sensor_free(struct wp_sensor *s);

/* Appends a reason to env->gpu_why ("NVML: ...; ROCm SMI: ..."). */
void wp_sensor_gpu_why(struct wp_sensor_env *env, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

const char *wp_component_name(enum wp_component c);
const char *wp_method_name(enum wp_method m);

#endif
