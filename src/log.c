#include "svcdns/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level_now = LOG_LEVEL_INFO;
static atomic_bool log_journal;

/* syslog(3) priorities, which journald reads from a "<N>" line prefix
 * (sd-daemon(3)): err, warning, info, debug. */
static const int log_prio[] = {
	[LOG_LEVEL_ERR] = 3,
	[LOG_LEVEL_WARN] = 4,
	[LOG_LEVEL_INFO] = 6,
	[LOG_LEVEL_DEBUG] = 7,
};

static const char *const log_names[] = {
	[LOG_LEVEL_ERR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	atomic_store_explicit(&log_level_now, (int)level, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&log_level_now,
	                                            memory_order_relaxed);
}

int log_level_parse(const char *text, enum log_level *out)
{
	size_t i;

	for (i = 0; i < SVCDNS_ARRAY_SIZE(log_names); i++) {
		if (strcmp(text, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(text, "warning") == 0) {
		*out = LOG_LEVEL_WARN;
		return 0;
	}
	return -EINVAL;
}

bool log_detect_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev;
	unsigned long long ino;
	struct stat st;
	bool on;

	/* systemd sets JOURNAL_STREAM=DEV:INODE of the stream it connected
	 * stdout/stderr to; compare, since a child with redirected stderr
	 * inherits the variable (systemd.exec(5)). */
	on = env != NULL && sscanf(env, "%llu:%llu", &dev, &ino) == 2 &&
	     fstat(STDERR_FILENO, &st) == 0 &&
	     (unsigned long long)st.st_dev == dev &&
	     (unsigned long long)st.st_ino == ino;
	atomic_store_explicit(&log_journal, on, memory_order_relaxed);
	return on;
}

bool log_enabled(enum log_level level)
{
	return (int)level <=
	       atomic_load_explicit(&log_level_now, memory_order_relaxed);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;
	int m;
	int saved = errno;

	if (!log_enabled(level)) {
		return;
	}
	if (atomic_load_explicit(&log_journal, memory_order_relaxed)) {
		/* The journal stamps each line itself and takes the
		 * priority from the prefix. */
		n = snprintf(line, sizeof(line), "<%d>%s ", log_prio[level],
		             log_names[level]);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line),
		             "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
		             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		             tm.tm_hour, tm.tm_min, tm.tm_sec,
		             ts.tv_nsec / 1000000, log_names[level]);
	}
	if (n < 0) {
		n = 0;
	}
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0) {
		m = 0;
	}
	n += m;
	if ((size_t)n > sizeof(line) - 2) {
		n = (int)sizeof(line) - 2;
	}
	line[n++] = '\n';
	/* One write per line so that lines of several threads never mix.
	 * Again after a signal: the waker interrupts a worker that may be
	 * logging (server.c, direct UDP mode). */
	while (write(STDERR_FILENO, line, (size_t)n) < 0 && errno == EINTR) {
	}
	errno = saved;
}
