/* Diagnostics in compiler form, "file:line:col: severity: message", so that
 * editors can jump to them. Collected per manifest file. */
#ifndef SVCDNS_DIAG_H
#define SVCDNS_DIAG_H

#include <stdio.h>

#include "svcdns/common.h"

enum diag_severity {
	DIAG_ERROR,
	DIAG_WARNING,
};

struct diag_entry {
	struct diag_entry *next;
	enum diag_severity severity;
	unsigned line; /* 1-based; 0 = no position */
	unsigned col;  /* 1-based */
	char *file;    /* owns */
	char *msg;     /* owns */
};

/* At most this many entries per diag are kept; the rest are counted. */
#define DIAG_MAX_KEPT 20

struct diag {
	struct diag_entry *head; /* owns the list */
	struct diag_entry *tail;
	unsigned errors;
	unsigned warnings;
	unsigned dropped; /* entries counted but not kept */
};

void diag_init(struct diag *d);
void diag_fini(struct diag *d);

/* Records one diagnostic. line/col are 1-based (0 when unknown). */
void diag_add(struct diag *d, enum diag_severity sev, const char *file,
              unsigned line, unsigned col, const char *fmt, ...)
	SVCDNS_PRINTF(6, 7);

/* Moves every entry of src to the end of dst; src is left empty. */
void diag_move(struct diag *dst, struct diag *src);

/* Writes every entry, one per line, then "... N more" if any were dropped. */
void diag_print(const struct diag *d, FILE *out);

/* Logs every entry through log_msg at error/warn level. */
void diag_log(const struct diag *d);

#endif
