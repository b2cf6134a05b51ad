// SPDX-License-Identifier: BSD-2-Clause
/*
 * vnet.c - the virtio-net header (virtio spec 5.1.6, legacy 10-byte form
 * and the 12-byte form with num_buffers): decode, encode, and validation
 * of a header against the frame it describes.
 *
 * Stateless and thread-safe. The header and the frame are untrusted
 * (written by another process): every field is read once, from a private
 * copy (the header into a struct, the frame's first bytes into a stack
 * buffer), and every offset is checked against the frame length before
 * it is used, so a hostile or racing writer cannot make us read outside
 * the buffers we were given.
 */
#include <errno.h>
#include <string.h>
#include "offload.h"

static const char *const drop_names[UNM_VNET_DROP__COUNT] = {
	[UNM_VNET_OK] = "ok",
	[UNM_VNET_DROP_HDR_SIZE] = "hdr_size",
	[UNM_VNET_DROP_FLAGS] = "flags",
	[UNM_VNET_DROP_GSO_TYPE] = "gso_type",
	[UNM_VNET_DROP_UFO] = "ufo",
	[UNM_VNET_DROP_CSUM_RANGE] = "csum_range",
	[UNM_VNET_DROP_GSO_NO_CSUM] = "gso_no_csum",
	[UNM_VNET_DROP_GSO_SIZE] = "gso_size",
	[UNM_VNET_DROP_HDR_LEN] = "hdr_len",
	[UNM_VNET_DROP_SHORT] = "short",
	[UNM_VNET_DROP_L2] = "l2",
	[UNM_VNET_DROP_GSO_L3] = "gso_l3",
	[UNM_VNET_DROP_BAD_IPV4] = "bad_ipv4",
	[UNM_VNET_DROP_BAD_IPV6] = "bad_ipv6",
	[UNM_VNET_DROP_IPV6_EXT] = "ipv6_ext",
	[UNM_VNET_DROP_NOT_TCP] = "not_tcp",
	[UNM_VNET_DROP_NOT_UDP] = "not_udp",
	[UNM_VNET_DROP_BAD_TCP] = "bad_tcp",
	[UNM_VNET_DROP_CSUM_L4] = "csum_l4",
	[UNM_VNET_DROP_NO_PAYLOAD] = "no_payload",
	[UNM_VNET_DROP_TOO_LONG] = "too_long",
};

const char *unm_vnet_drop_name(enum unm_vnet_drop why)
{
	if ((unsigned)why >= UNM_VNET_DROP__COUNT || !drop_names[why])
		return "unknown";
	return drop_names[why];
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void unm_vnet_hdr_decode(const void *hdr, unsigned hlen, struct unm_vnet_hdr *h)
{
	const uint8_t *b = hdr;

	h->flags = b[0];
	h->gso_type = b[1];
	h->hdr_len = le16(b + 2);
	h->gso_size = le16(b + 4);
	h->csum_start = le16(b + 6);
	h->csum_offset = le16(b + 8);
	h->num_buffers = hlen >= UNM_VNET_HDR_LEN_MRG ? le16(b + 10) : 0;
}

void unm_vnet_hdr_encode(void *dst, unsigned hlen, const struct unm_vnet_hdr *h)
{
	uint8_t *b = dst;

	b[0] = h->flags;
	b[1] = h->gso_type;
	put_le16(b + 2, h->hdr_len);
	put_le16(b + 4, h->gso_size);
	put_le16(b + 6, h->csum_start);
	put_le16(b + 8, h->csum_offset);
	if (hlen >= UNM_VNET_HDR_LEN_MRG)
		put_le16(b + 10, h->num_buffers);
}

/* IPv6 next-header values that are extension headers (RFC 8200 4, IANA). */
static bool ipv6_is_ext(uint8_t nh)
{
	switch (nh) {
	case 0: case 43: case 44: case 50: case 51: case 60:
	case 135: case 139: case 140: case 253: case 254:
		return true;
	}
	return false;
}

/*
 * Ethernet [+ one VLAN tag] + IPv4/IPv6 in b[0..n) (the frame's first n
 * bytes). Fills l3_off, l4_off, ipv6, l4_proto. Returns a drop reason.
 */
static enum unm_vnet_drop parse_l3(const uint8_t *b, size_t n, unsigned base,
				   struct unm_vnet_info *vi)
{
	size_t l3 = 14;
	uint16_t et;

	if (n < 14)
		return UNM_VNET_DROP_SHORT;
	et = be16(b + 12);
	if (et == 0x8100 || et == 0x88a8) {
		if (n < 18)
			return UNM_VNET_DROP_SHORT;
		et = be16(b + 16);
		l3 = 18;
	}
	vi->l3_off = (uint16_t)l3;
	if (et == 0x0800) {
		size_t ihl;

		if (base == UNM_VNET_GSO_TCPV6)
			return UNM_VNET_DROP_GSO_L3;
		if (n < l3 + 20)
			return UNM_VNET_DROP_SHORT;
		ihl = (size_t)(b[l3] & 0x0f) * 4;
		if (b[l3] >> 4 != 4 || ihl < 20)
			return UNM_VNET_DROP_BAD_IPV4;
		if (n < l3 + ihl)
			return UNM_VNET_DROP_SHORT;
		/* MF set or a fragment offset: a fragment cannot be segmented */
		if (be16(b + l3 + 6) & 0x3fff)
			return UNM_VNET_DROP_BAD_IPV4;
		vi->ipv6 = 0;
		vi->l4_proto = b[l3 + 9];
		vi->l4_off = (uint16_t)(l3 + ihl);
		return UNM_VNET_OK;
	}
	if (et == 0x86dd) {
		if (base == UNM_VNET_GSO_TCPV4)
			return UNM_VNET_DROP_GSO_L3;
		if (n < l3 + 40)
			return UNM_VNET_DROP_SHORT;
		if (b[l3] >> 4 != 6)
			return UNM_VNET_DROP_BAD_IPV6;
		if (ipv6_is_ext(b[l3 + 6]))
			return UNM_VNET_DROP_IPV6_EXT;
		vi->ipv6 = 1;
		vi->l4_proto = b[l3 + 6];
		vi->l4_off = (uint16_t)(l3 + 40);
		return UNM_VNET_OK;
	}
	return UNM_VNET_DROP_L2;
}

/* TCP/UDP header at vi->l4_off and its agreement with the vnet header.
 * Fills payload_off. Returns a drop reason. */
static enum unm_vnet_drop parse_l4(const uint8_t *b, size_t n, unsigned base,
				   struct unm_vnet_info *vi)
{
	const struct unm_vnet_hdr *h = &vi->hdr;
	size_t l4 = vi->l4_off, l4hl, coff;

	if (base == UNM_VNET_GSO_UDP_L4 && vi->l4_proto != 17)
		return UNM_VNET_DROP_NOT_UDP;
	if (base != UNM_VNET_GSO_UDP_L4 && vi->l4_proto != 6)
		return UNM_VNET_DROP_NOT_TCP;
	coff = vi->l4_proto == 6 ? 16 : 6;
	if (h->csum_start != l4 || h->csum_offset != coff)
		return UNM_VNET_DROP_CSUM_L4;
	if (vi->l4_proto == 17) {
		if (n < l4 + 8)
			return UNM_VNET_DROP_SHORT;
		l4hl = 8;
	} else {
		if (n < l4 + 20)
			return UNM_VNET_DROP_SHORT;
		l4hl = (size_t)(b[l4 + 12] >> 4) * 4;
		if (l4hl < 20)
			return UNM_VNET_DROP_BAD_TCP;
		if (n < l4 + l4hl)
			return UNM_VNET_DROP_SHORT;
	}
	if (h->hdr_len && h->hdr_len < l4)
		return UNM_VNET_DROP_HDR_LEN;
	vi->payload_off = (uint16_t)(l4 + l4hl);
	return UNM_VNET_OK;
}

/* Everything a GSO frame needs beyond the header's own fields. */
static enum unm_vnet_drop parse_gso(const struct unm_frag *f, unsigned nf,
				    unsigned base, struct unm_vnet_info *vi)
{
	uint8_t b[UNM_GSO_HDR_MAX];
	size_t n, iplen, hdrs;
	enum unm_vnet_drop why;

	n = unm_frags_read(f, nf, 0, b, sizeof(b));
	why = parse_l3(b, n, base, vi);
	if (why == UNM_VNET_OK)
		why = parse_l4(b, n, base, vi);
	if (why != UNM_VNET_OK)
		return why;
	vi->payload_len = vi->frame_len - vi->payload_off;
	if (vi->payload_len == 0)
		return UNM_VNET_DROP_NO_PAYLOAD;
	/* one full segment must fit the 16-bit IP length field */
	hdrs = vi->payload_off - (vi->ipv6 ? vi->l4_off : vi->l3_off);
	if (hdrs + vi->hdr.gso_size > 0xffff)
		return UNM_VNET_DROP_GSO_SIZE;
	iplen = vi->frame_len - (vi->ipv6 ? vi->l4_off : vi->l3_off);
	if (iplen > 0xffff)
		return UNM_VNET_DROP_TOO_LONG;
	vi->nsegs = (vi->payload_len + vi->hdr.gso_size - 1) / vi->hdr.gso_size;
	return UNM_VNET_OK;
}

static int refuse(enum unm_vnet_drop *why, enum unm_vnet_drop w, int err)
{
	if (why)
		*why = w;
	return err;
}

int unm_vnet_parse(const void *hdr, unsigned hlen, const struct unm_frag *f,
		   unsigned nf, struct unm_vnet_info *info,
		   enum unm_vnet_drop *why)
{
	struct unm_vnet_info vi;
	struct unm_vnet_hdr *h = &vi.hdr;
	enum unm_vnet_drop w;
	size_t len;
	unsigned base;

	memset(&vi, 0, sizeof(vi));
	if (hlen != UNM_VNET_HDR_LEN && hlen != UNM_VNET_HDR_LEN_MRG)
		return refuse(why, UNM_VNET_DROP_HDR_SIZE, -EINVAL);
	unm_vnet_hdr_decode(hdr, hlen, h);
	len = unm_frags_len(f, nf);
	if (len > UINT32_MAX)
		return refuse(why, UNM_VNET_DROP_TOO_LONG, -EINVAL);
	vi.frame_len = (uint32_t)len;
	if (len < 14)
		return refuse(why, UNM_VNET_DROP_SHORT, -EINVAL);
	if (h->flags & ~(UNM_VNET_F_NEEDS_CSUM | UNM_VNET_F_DATA_VALID))
		return refuse(why, UNM_VNET_DROP_FLAGS, -EINVAL);
	if ((h->flags & UNM_VNET_F_NEEDS_CSUM) &&
	    ((size_t)h->csum_start + h->csum_offset + 2 > len ||
	     h->csum_start >= len))
		return refuse(why, UNM_VNET_DROP_CSUM_RANGE, -EINVAL);
	base = h->gso_type & ~UNM_VNET_GSO_ECN;
	switch (base) {
	case UNM_VNET_GSO_NONE:
		if (h->gso_type & UNM_VNET_GSO_ECN)
			return refuse(why, UNM_VNET_DROP_GSO_TYPE, -EINVAL);
		vi.nsegs = 1;
		if (info)
			*info = vi;
		return refuse(why, UNM_VNET_OK, 0);
	case UNM_VNET_GSO_TCPV4:
	case UNM_VNET_GSO_TCPV6:
		break;
	case UNM_VNET_GSO_UDP_L4:
		if (h->gso_type & UNM_VNET_GSO_ECN)
			return refuse(why, UNM_VNET_DROP_GSO_TYPE, -EINVAL);
		break;
	case UNM_VNET_GSO_UDP:
		return refuse(why, UNM_VNET_DROP_UFO, -EOPNOTSUPP);
	default:
		return refuse(why, UNM_VNET_DROP_GSO_TYPE, -EINVAL);
	}
	if (!(h->flags & UNM_VNET_F_NEEDS_CSUM))
		return refuse(why, UNM_VNET_DROP_GSO_NO_CSUM, -EINVAL);
	if (h->gso_size == 0)
		return refuse(why, UNM_VNET_DROP_GSO_SIZE, -EINVAL);
	if (h->hdr_len > len)
		return refuse(why, UNM_VNET_DROP_HDR_LEN, -EINVAL);
	w = parse_gso(f, nf, base, &vi);
	if (w != UNM_VNET_OK)
		return refuse(why, w, w == UNM_VNET_DROP_IPV6_EXT ? -EOPNOTSUPP
								  : -EINVAL);
	if (info)
		*info = vi;
	return refuse(why, UNM_VNET_OK, 0);
}
