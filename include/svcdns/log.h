/* Levelled logging to stderr: one write() per line,
 *   2026-11-26T23:47:36.123Z info watch: reload ok gen=42 files=7 ...
 * that is time, level, "subsystem:", what happened, key=value details.
 * Under systemd (stderr is the journal) the time is left out and the line
 * starts with the "<6>" priority prefix journald reads instead. Never one
 * line per query unless the query log is on (qlog.h). Safe from any
 * thread. */
#ifndef SVCDNS_LOG_H
#define SVCDNS_LOG_H

#include <stdbool.h>

#include "svcdns/common.h"

enum log_level {
	LOG_LEVEL_ERR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Sets the most verbose level that is printed (default info). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "error", "warn", "info" or "debug". Returns 0 or -EINVAL. */
SVCDNS_MUSTCHECK int log_level_parse(const char *text, enum log_level *out);

bool log_enabled(enum log_level level);

/* Switches to the journal's line format when stderr is the stream systemd
 * named in $JOURNAL_STREAM. Returns true if it did. Call once at start-up,
 * before threads start. */
bool log_detect_journal(void);

void log_msg(enum log_level level, const char *fmt, ...) SVCDNS_PRINTF(2, 3);

#define log_err(...)   log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
