/* Cloud detection. DMI first: a machine not on one of the three clouds never
 * touches the network. The metadata services are link-local HTTP APIs, so
 * the requests bypass any proxy and share one deadline. */
#include "cloud.h"

#include "../util/http.h"
#include "../util/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINK_LOCAL "http://169.254.169.254"
#define MAX_ANSWER (16 * 1024)
/* Azure's documented chassis asset tag: what tells an Azure VM from Hyper-V. */
#define AZURE_TAG "7783-7084-3265-9085-8269-3286-77"

static void dmi(const char *root, const char *field, char *out, size_t cap)
{
    char path[4096];
    FILE *f;

    out[0] = '\0';
    snprintf(path, sizeof path, "%s/class/dmi/id/%s", root, field);
    if (!(f = fopen(path, "r")))
        return;
    if (!fgets(out, (int)cap, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

enum wp_cloud wp_cloud_dmi(const char *root, struct wp_cloud_info *out)
{
    static const struct {
        const char *field, *text;
        enum wp_cloud cloud;
        const char *provider;
    } rules[] = {
        {"sys_vendor", "Amazon EC2", WP_CLOUD_AWS, "aws"},
        {"bios_vendor", "Amazon EC2", WP_CLOUD_AWS, "aws"},
        {"bios_version", "amazon", WP_CLOUD_AWS, "aws"}, /* Xen-based instances */
        {"sys_vendor", "Google", WP_CLOUD_GCP, "gcp"},
        {"product_name", "Google Compute Engine", WP_CLOUD_GCP, "gcp"},
        {"chassis_asset_tag", AZURE_TAG, WP_CLOUD_AZURE, "azure"},
        {"board_asset_tag", AZURE_TAG, WP_CLOUD_AZURE, "azure"},
    };
    char v[256];

    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
        dmi(root, rules[i].field, v, sizeof v);
        if (!strstr(v, rules[i].text))
            continue;
        out->cloud = rules[i].cloud;
        snprintf(out->provider, sizeof out->provider, "%s", rules[i].provider);
        snprintf(out->evidence, sizeof out->evidence, "DMI %s \"%.100s\"", rules[i].field, v);
        if (out->cloud == WP_CLOUD_AWS) { /* on Nitro, product_name is the instance type */
            dmi(root, "product_name", v, sizeof v);
            wp_cloud_parse_name(v, strlen(v), out->instance_type, sizeof out->instance_type);
        }
        return out->cloud;
    }
    return WP_CLOUD_NONE;
}

int wp_cloud_parse_name(const char *body, size_t len, char *out, size_t cap)
{
    while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' '))
        len--;
    if (len == 0 || len >= cap || len > 63)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return -EINVAL;
    }
    memcpy(out, body, len);
    out[len] = '\0';
    return 0;
}

int wp_cloud_parse_gcp(const char *body, size_t len, int is_zone, char *out, size_t cap)
{
    const char *slash = NULL;
    char *dash;

    for (size_t i = 0; i < len; i++)
        if (body[i] == '/')
            slash = body + i;
    if (!slash || strncmp(body, "projects/", 9) != 0)
        return -EINVAL;
    if (wp_cloud_parse_name(slash + 1, len - (size_t)(slash + 1 - body), out, cap))
        return -EINVAL;
    if (is_zone) { /* a zone is its region and one more part: europe-west1-b */
        if (!(dash = strrchr(out, '-')) || dash == out)
            return -EINVAL;
        *dash = '\0';
    }
    return 0;
}

int wp_cloud_parse_azure(const char *body, size_t len, char *region, size_t rcap, char *vm,
                         size_t vcap)
{
    json_t *root = json_loadb(body, len, 0, NULL), *loc, *size;
    int rc = -EINVAL;

    if (!root)
        return -EINVAL;
    loc = json_object_get(root, "location");
    size = json_object_get(root, "vmSize");
    if (json_is_string(loc) &&
        wp_cloud_parse_name(json_string_value(loc), json_string_length(loc), region, rcap) == 0) {
        rc = 0;
        vm[0] = '\0';
        if (json_is_string(size))
            wp_cloud_parse_name(json_string_value(size), json_string_length(size), vm, vcap);
    }
    json_decref(root);
    return rc;
}

/* One GET (or method) answered 200 within what is left of the deadline. */
static int ask(const char *method, const char *url, const char *h1, const char *h2, double end_s,
               struct wp_http_response *res, char *err, size_t cap)
{
    long ms = (long)((end_s - wp_mono_s()) * 1000);
    struct wp_http_request req = {.method = method,
                                  .url = url,
                                  .headers = {h1, h2},
                                  .timeout_ms = ms,
                                  .max_body = MAX_ANSWER,
                                  .no_proxy = 1};
    int rc;

    if (ms < 1) {
        snprintf(err, cap, "no answer within the time allowed");
        return -ETIMEDOUT;
    }
    if ((rc = wp_http_fetch(&req, res, err, cap)) != 0)
        return rc;
    if (res->status != 200) {
        snprintf(err, cap, "HTTP status %ld", res->status);
        free(res->body);
        return -EIO;
    }
    return 0;
}

static const char *base_url(const char *var, char *buf, size_t cap)
{
    const char *v = getenv(var);
    size_t n;

    snprintf(buf, cap, "%s", v && *v ? v : LINK_LOCAL);
    n = strlen(buf);
    while (n > 0 && buf[n - 1] == '/')
        buf[--n] = '\0';
    return buf;
}

/* AWS IMDSv2: a session token (PUT), then plain-text answers. */
static int aws(struct wp_cloud_info *in, double end, char *err, size_t cap)
{
    char base[512], url[700], token[300], hdr[340];
    struct wp_http_response r;
    int rc;

    base_url("WATTPRINT_AWS_METADATA_URL", base, sizeof base);
    snprintf(url, sizeof url, "%s/latest/api/token", base);
    if (ask("PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: 60", NULL, end, &r, err, cap))
        return -EIO;
    rc = r.len > 0 && r.len < sizeof token && !memchr(r.body, '\n', r.len) ? 0 : -EPROTO;
    snprintf(token, sizeof token, "%s", rc == 0 ? r.body : "");
    free(r.body);
    if (rc) {
        snprintf(err, cap, "not an IMDSv2 token");
        return -EPROTO;
    }
    snprintf(hdr, sizeof hdr, "X-aws-ec2-metadata-token: %s", token);
    snprintf(url, sizeof url, "%s/latest/meta-data/placement/region", base);
    if (ask(NULL, url, hdr, NULL, end, &r, err, cap))
        return -EIO;
    rc = wp_cloud_parse_name(r.body, r.len, in->region, sizeof in->region);
    free(r.body);
    if (rc) {
        snprintf(err, cap, "not a region name");
        return -EPROTO;
    }
    snprintf(url, sizeof url, "%s/latest/meta-data/instance-type", base);
    if (ask(NULL, url, hdr, NULL, end, &r, err, cap) == 0) { /* the type is a bonus */
        wp_cloud_parse_name(r.body, r.len, in->instance_type, sizeof in->instance_type);
        free(r.body);
    }
    return 0;
}

static int gcp(struct wp_cloud_info *in, double end, char *err, size_t cap)
{
    static const char flavor[] = "Metadata-Flavor: Google";
    char base[512], url[700];
    struct wp_http_response r;
    int rc;

    base_url("WATTPRINT_GCP_METADATA_URL", base, sizeof base);
    snprintf(url, sizeof url, "%s/computeMetadata/v1/instance/zone", base);
    if (ask(NULL, url, flavor, NULL, end, &r, err, cap))
        return -EIO;
    rc = wp_cloud_parse_gcp(r.body, r.len, 1, in->region, sizeof in->region);
    free(r.body);
    if (rc) {
        snprintf(err, cap, "not a zone (projects/N/zones/ZONE)");
        return -EPROTO;
    }
    snprintf(url, sizeof url, "%s/computeMetadata/v1/instance/machine-type", base);
    if (ask(NULL, url, flavor, NULL, end, &r, err, cap) == 0) {
        wp_cloud_parse_gcp(r.body, r.len, 0, in->instance_type, sizeof in->instance_type);
        free(r.body);
    }
    return 0;
}

static int azure(struct wp_cloud_info *in, double end, char *err, size_t cap)
{
    char base[512], url[700];
    struct wp_http_response r;
    int rc;

    base_url("WATTPRINT_AZURE_METADATA_URL", base, sizeof base);
    snprintf(url, sizeof url, "%s/metadata/instance/compute?api-version=2021-02-01&format=json",
             base);
    if (ask(NULL, url, "Metadata: true", NULL, end, &r, err, cap))
        return -EIO;
    rc = wp_cloud_parse_azure(r.body, r.len, in->region, sizeof in->region, in->instance_type,
                              sizeof in->instance_type);
    free(r.body);
    if (rc) {
        snprintf(err, cap, "no location in the answer");
        return -EPROTO;
    }
    return 0;
}

int wp_cloud_metadata(struct wp_cloud_info *info, long budget_ms)
{
    double end = wp_mono_s() + budget_ms / 1000.0;
    char err[sizeof info->error];
    int rc;

    info->region[0] = info->error[0] = '\0';
    switch (info->cloud) {
    case WP_CLOUD_AWS:
        rc = aws(info, end, err, sizeof err);
        break;
    case WP_CLOUD_GCP:
        rc = gcp(info, end, err, sizeof err);
        break;
    case WP_CLOUD_AZURE:
        rc = azure(info, end, err, sizeof err);
        break;
    default:
        snprintf(err, sizeof err, "not on a known cloud");
        rc = -1;
    }
    if (rc) {
        info->region[0] = '\0';
        snprintf(info->error, sizeof info->error, "%s", err);
    }
    return rc;
}
