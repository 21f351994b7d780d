/* Include first in every unit test: cmocka 1.1.5 needs these headers before
 * cmocka.h, and sorted includes would otherwise reorder them. */
#ifndef SVCDNS_UNIT_H
#define SVCDNS_UNIT_H

/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#endif
