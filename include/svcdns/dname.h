/* Domain names in uncompressed wire form (RFC 1035 3.1): a run of length-
 * prefixed labels ending in the root label 0. Names are at most 255 octets
 * with labels of at most 63. Labels are binary (RFC 2181 11): they may hold
 * '\0' or '.', so nothing here uses C string functions on wire names.
 * Comparison is ASCII case-insensitive (RFC 4343). Pure functions: no
 * allocation, any thread. */
#ifndef SVCDNS_DNAME_H
#define SVCDNS_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svcdns/common.h"

#define DNAME_MAXLEN    255 /* octets, root label included */
#define DNAME_MAXLABEL  63
#define DNAME_MAXLABELS 127  /* not counting the root label */
#define DNAME_TEXT_MAX  1024 /* text form incl. \DDD escapes and NUL */

/* Converts presentation text ("web.shop.svc.cluster.local", trailing dot
 * optional, "." or "" for the root, "\." and "\DDD" escapes) into wire form.
 * Case is kept. Writes at most cap octets to out and the length to *len.
 * Returns 0; -EINVAL for an empty label, a bad escape, a label over 63 or a
 * name over 255 octets; -EMSGSIZE if cap is too small. */
SVCDNS_MUSTCHECK int dname_from_text(const char *text, uint8_t *out, size_t cap,
                                     size_t *len);

/* As dname_from_text for text that is not NUL-terminated. */
SVCDNS_MUSTCHECK int dname_from_text_n(const char *text, size_t text_len,
                                       uint8_t *out, size_t cap, size_t *len);

/* Writes the presentation form with a trailing dot ("." for the root),
 * escaping '.', '\\', '"', and octets outside 0x21..0x7e as \DDD. out is NUL
 * terminated. Returns 0, -EINVAL for a malformed name, -EMSGSIZE if cap is
 * too small (DNAME_TEXT_MAX always suffices). */
SVCDNS_MUSTCHECK int dname_to_text(const uint8_t *name, size_t len, char *out,
                                   size_t cap);

/* Checks that name[0..max) begins with a well-formed uncompressed name and
 * returns its length in *len. Returns 0 or -EBADMSG. */
SVCDNS_MUSTCHECK int dname_check(const uint8_t *name, size_t max, size_t *len);

/* Length of a name already known to be well-formed. */
size_t dname_len(const uint8_t *name);

/* Lower-cases A-Z in place (labels' length octets untouched). */
void dname_lower(uint8_t *name, size_t len);

/* Copies src (len octets) to dst lower-cased. */
void dname_copy_lower(uint8_t *dst, const uint8_t *src, size_t len);

/* Case-insensitive equality of two well-formed names. */
bool dname_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Number of labels, not counting the root (root -> 0). */
unsigned dname_label_count(const uint8_t *name, size_t len);

/* Fills off[] with the offset of each label's length octet, leftmost first,
 * at most max entries; returns the label count (root not counted). */
unsigned dname_label_offsets(const uint8_t *name, size_t len, uint8_t *off,
                             unsigned max);

/* True if name equals zone or lies below it, by whole labels and
 * case-insensitively ("xcluster.local" is not below "cluster.local"). When
 * true and suffix_off is not NULL, *suffix_off is the offset in name where
 * zone's labels start. */
bool dname_in_zone(const uint8_t *name, size_t len, const uint8_t *zone,
                   size_t zlen, size_t *suffix_off);

/* Hash of the lower-cased name (FNV-1a 32 or better), the same for any
 * spelling of the name. */
uint32_t dname_hash(const uint8_t *name, size_t len);

#endif
