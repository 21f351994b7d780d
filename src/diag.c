#include "svcdns/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "svcdns/log.h"

static const char *diag_sev_name(enum diag_severity sev)
{
	return sev == DIAG_ERROR ? "error" : "warning";
}

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void diag_fini(struct diag *d)
{
	struct diag_entry *e = d->head;

	while (e != NULL) {
		struct diag_entry *next = e->next;

		free(e->file);
		free(e->msg);
		free(e);
		e = next;
	}
	diag_init(d);
}

void diag_add(struct diag *d, enum diag_severity sev, const char *file,
              unsigned line, unsigned col, const char *fmt, ...)
{
	struct diag_entry *e;
	char msg[512];
	va_list ap;

	if (sev == DIAG_ERROR) {
		d->errors++;
	} else {
		d->warnings++;
	}
	if (d->errors + d->warnings > DIAG_MAX_KEPT) {
		d->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		d->dropped++;
		return;
	}
	e->severity = sev;
	e->line = line;
	e->col = col;
	e->file = strdup(file ? file : "-");
	e->msg = strdup(msg);
	if (e->file == NULL || e->msg == NULL) {
		free(e->file);
		free(e->msg);
		free(e);
		d->dropped++;
		return;
	}
	if (d->tail != NULL) {
		d->tail->next = e;
	} else {
		d->head = e;
	}
	d->tail = e;
}

void diag_move(struct diag *dst, struct diag *src)
{
	if (src->head != NULL) {
		if (dst->tail != NULL) {
			dst->tail->next = src->head;
		} else {
			dst->head = src->head;
		}
		dst->tail = src->tail;
	}
	dst->errors += src->errors;
	dst->warnings += src->warnings;
	dst->dropped += src->dropped;
	diag_init(src);
}

static void diag_format(const struct diag_entry *e, char *buf, size_t cap)
{
	if (e->line != 0) {
		snprintf(buf, cap, "%s:%u:%u: %s: %s", e->file, e->line, e->col,
		         diag_sev_name(e->severity), e->msg);
	} else {
		snprintf(buf, cap, "%s: %s: %s", e->file,
		         diag_sev_name(e->severity), e->msg);
	}
}

void diag_print(const struct diag *d, FILE *out)
{
	const struct diag_entry *e;
	char buf[1024];

	for (e = d->head; e != NULL; e = e->next) {
		diag_format(e, buf, sizeof(buf));
		fprintf(out, "%s\n", buf);
	}
	if (d->dropped != 0) {
		fprintf(out, "... %u more\n", d->dropped);
	}
}

void diag_log(const struct diag *d)
{
	const struct diag_entry *e;
	char buf[1024];

	for (e = d->head; e != NULL; e = e->next) {
		diag_format(e, buf, sizeof(buf));
		log_msg(e->severity == DIAG_ERROR ? LOG_LEVEL_ERR
		                                  : LOG_LEVEL_WARN,
		        "manifest: %s", buf);
	}
	if (d->dropped != 0) {
		log_warn("manifest: ... %u more", d->dropped);
	}
}
