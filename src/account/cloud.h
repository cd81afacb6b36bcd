/* Which cloud a machine runs on, and where: first what the machine says of
 * itself (DMI, no network), then, only on AWS, GCP or Azure, that cloud's
 * instance metadata service, within a short budget. */
#ifndef WP_CLOUD_H
#define WP_CLOUD_H

#include <stddef.h>

enum wp_cloud { WP_CLOUD_NONE, WP_CLOUD_AWS, WP_CLOUD_GCP, WP_CLOUD_AZURE };

struct wp_cloud_info {
    enum wp_cloud cloud;
    char provider[8];       /* "aws", "gcp", "azure": the providers table's names */
    char evidence[160];     /* the DMI field that named the cloud */
    char region[64];        /* "eu-west-3", "europe-west1", "westeurope"; "" unknown */
    char instance_type[64]; /* "m5.large", "n1-standard-4", "Standard_D2s_v3"; "" */
    char error[200];        /* why the metadata service gave nothing, "" if it did */
};

/* Reads DMI under sysfs_root/class/dmi/id. Returns the cloud it names (and
 * fills provider and evidence), or WP_CLOUD_NONE. */
enum wp_cloud wp_cloud_dmi(const char *sysfs_root, struct wp_cloud_info *out);

/* Asks info->cloud's metadata service (base URL from
 * WATTPRINT_{AWS,GCP,AZURE}_METADATA_URL, else the link-local address) for
 * the region and instance type, giving up after budget_ms in all. Returns 0,
 * or a negative errno with the reason in info->error. */
int wp_cloud_metadata(struct wp_cloud_info *info, long budget_ms);

/* The answer parsers (fuzzed). A plain-text name such as AWS's region: 0 if
 * it is one token of letters, digits, '.', '_' and '-' (copied to out). */
int wp_cloud_parse_name(const char *body, size_t len, char *out, size_t cap);
/* GCP's "projects/N/zones/europe-west1-b" -> "europe-west1"; with
 * is_zone 0, the last path part ("projects/N/machineTypes/n1-standard-4"). */
int wp_cloud_parse_gcp(const char *body, size_t len, int is_zone, char *out, size_t cap);
/* Azure's compute JSON: "location" and "vmSize". */
int wp_cloud_parse_azure(const char *body, size_t len, char *region, size_t rcap, char *vm,
                         size_t vcap);

#endif
