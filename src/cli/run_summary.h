/* The human summary of a run, printed on stderr by wattprint run. */
#ifndef WP_RUN_SUMMARY_H
#define WP_RUN_SUMMARY_H

#include "../run/run.h"

#include <stdio.h>

/* Prints run in readable units to f, every estimate labelled. */
void wp_summary_print(const struct wp_run *run, FILE *f);

#endif
