/* SPDX-License-Identifier: MIT */
/*
 * ublk's device parameters (UBLK_CMD_SET_PARAMS) from the LUN's geometry:
 * pure arithmetic, apart from the kernel so that it can be unit-tested.
 */
#include <errno.h>
#include <string.h>

#include "ublk.h"

/* The largest request: ublk.c's buffer arena holds two of them. */
#define UBLK_IO_BUF_MAX (1u << 20)

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static uint8_t log2_u64(uint64_t v)
{
	uint8_t s = 0;

	while (v >>= 1)
		s++;
	return s;
}

uint32_t ublk_io_buf_bytes(const struct bdev_config *cfg, uint32_t page_size)
{
	uint32_t max = cfg->max_io_bytes ? cfg->max_io_bytes : UBLK_IO_BUF_MAX;

	max = MIN(max, UBLK_IO_BUF_MAX) / page_size * page_size;
	return MAX(max, page_size);
}

static void fill_discard(const struct bdev_config *cfg, uint32_t pbs,
			 struct ublk_param_discard *d)
{
	uint64_t max = cfg->max_discard_bytes >> 9;

	d->discard_granularity = cfg->discard_granularity ? cfg->discard_granularity : pbs;
	d->discard_alignment = cfg->discard_alignment;
	/* The daemon splits a discard at the LUN's UNMAP limit anyway. */
	d->max_discard_sectors = (uint32_t)(max && max < UINT32_MAX ? max : UINT32_MAX);
	/* The kernel takes single-range discards only. */
	d->max_discard_segments = 1;
	d->max_write_zeroes_sectors = 0;
}

int ublk_params_fill(const struct bdev_config *cfg, uint32_t io_buf_bytes,
		     uint32_t page_size, struct ublk_params *p)
{
	uint32_t bs = cfg->block_size;
	uint32_t pbs = cfg->physical_block_size;
	struct ublk_param_basic *b = &p->basic;

	if (!is_pow2(bs) || bs < 512 || bs > page_size || io_buf_bytes < page_size)
		return -EINVAL;
	if (!is_pow2(pbs) || pbs < bs)
		pbs = bs;
	memset(p, 0, sizeof(*p));
	p->len = sizeof(*p);
	p->types = UBLK_PARAM_TYPE_BASIC;
	b->logical_bs_shift = log2_u64(bs);
	b->physical_bs_shift = log2_u64(pbs);
	b->io_min_shift = b->physical_bs_shift;
	b->io_opt_shift = is_pow2(cfg->opt_io_bytes) && cfg->opt_io_bytes >= pbs &&
					  cfg->opt_io_bytes <= (1u << 28)
				  ? log2_u64(cfg->opt_io_bytes)
				  : b->physical_bs_shift;
	b->max_sectors = io_buf_bytes >> 9;
	b->dev_sectors = cfg->size >> 9;
	if (cfg->read_only)
		b->attrs |= UBLK_ATTR_READ_ONLY;
	if (cfg->can_flush)
		b->attrs |= UBLK_ATTR_VOLATILE_CACHE;
	if (cfg->can_flush && cfg->can_fua)
		b->attrs |= UBLK_ATTR_FUA;
	if (cfg->can_discard && !cfg->read_only) {
		p->types |= UBLK_PARAM_TYPE_DISCARD;
		fill_discard(cfg, pbs, &p->discard);
	}
	return 0;
}
