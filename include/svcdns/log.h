/* Levelled logging to stderr: one write() per line, "level=... msg" form
 * ("subsystem: what key=value ..."). Safe from any thread. */
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

void log_msg(enum log_level level, const char *fmt, ...) SVCDNS_PRINTF(2, 3);

#define log_err(...)   log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
