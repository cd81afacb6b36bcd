/* The training draw and the host ratio: constants derived in
 * docs/methodology.md ("The whole server"), each from a cited figure. */
#include "wall.h"

#include <math.h>
#include <string.h>

/* Dodge et al. 2022, Table 2: a 6.1B-parameter transformer on 256 A100
 * (400 W) for 8 days used 13,812 kWh of GPU energy: 281 W, 0.70 of TDP. */
#define TRAIN_DRAW    0.70
#define TRAIN_DRAW_LO 0.55
#define TRAIN_DRAW_HI 0.85

/* Elsworth et al. 2025, Table 1: host CPU and DRAM 0.06 Wh beside 0.14 Wh
 * of accelerators per prompt (0.43). Latif et al. 2025: an 8 x H100 node's
 * highest draw in training, 8.48 kW, less its GPUs at 700 W (0.51). The
 * centre is their mean; the top, the rated 10.2 kW of a DGX H100 less its
 * GPUs' 5.6 kW (0.82): every part at its rating. */
#define HOST_RATIO    0.47
#define HOST_RATIO_LO 0.43
#define HOST_RATIO_HI 0.82

/* Training: Latif et al.'s host, 2.88 kW beside 8 x 700 W, is a share of the
 * accelerators' rating (0.51), and a host does not idle down with their
 * average draw (CPUs feeding data, NICs all-reducing, fans cooling), so it is
 * added per rated watt. The band's ends: a host as light as Elsworth's per
 * joule drawn (0.43 x the 0.70 draw), and the DGX H100 rating's 0.82. */
#define TRAIN_HOST_OF_RATING    0.51
#define TRAIN_HOST_OF_RATING_LO (HOST_RATIO_LO * TRAIN_DRAW)
#define TRAIN_HOST_OF_RATING_HI HOST_RATIO_HI

struct wp_band wp_wall_train_draw(void)
{
    return (struct wp_band){TRAIN_DRAW, TRAIN_DRAW_LO, TRAIN_DRAW_HI};
}

struct wp_band wp_wall_host_ratio(void)
{
    return (struct wp_band){HOST_RATIO, HOST_RATIO_LO, HOST_RATIO_HI};
}

struct wp_band wp_wall_train_host_of_rating(void)
{
    return (struct wp_band){TRAIN_HOST_OF_RATING, TRAIN_HOST_OF_RATING_LO, TRAIN_HOST_OF_RATING_HI};
}

bool wp_wall_device_figure(const struct wp_hardware *hw)
{
    return strcmp(hw->vendor, "cpu") != 0 &&
           (strcmp(hw->power_kind, "TDP") == 0 || strcmp(hw->power_kind, "power limit") == 0);
}

/* The relative spread of a over b, 0 when either is not positive. */
static double spread(double a, double b)
{
    return a > 0 && b > 0 ? fabs(log(a / b)) : 0;
}

struct wp_band wp_band_times(double v, double v_lo, double v_hi, struct wp_band f)
{
    double down = hypot(spread(v, v_lo), spread(f.mid, f.lo)),
           up = hypot(spread(v_hi, v), spread(f.hi, f.mid)), mid = v * f.mid;
    return (struct wp_band){mid, mid * exp(-down), mid * exp(up)};
}
