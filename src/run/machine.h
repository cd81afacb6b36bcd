/* The machine a run ran on, as the run JSON's "machine" object: what
 * CodeCarbon's emissions.csv and model cards ask about the hardware. */
#ifndef WP_MACHINE_H
#define WP_MACHINE_H

struct wp_machine {
    char cpu_model[128]; /* /proc/cpuinfo's first model name, "" if none */
    int cpu_count;       /* logical CPUs online */
    double ram_gib;      /* MemTotal, GiB */
    char os[160];        /* "Linux-6.1.0-18-amd64-x86_64" (uname) */
};

/* Fills m from procfs (WATTPRINT_PROCFS) and uname. Never fails: what cannot
 * be read stays empty or 0. */
void wp_machine_probe(struct wp_machine *m);

#endif
