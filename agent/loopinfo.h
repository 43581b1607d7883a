/* loopinfo.h: a step's loop as detailedoutput.json writes it ("loop":
 * {"name", "for": {start, end, updateBy}} or {"forEach": [..] or {list,
 * delimiter}}): how many iterations it has and the value of one, for the
 * live line and the reports. */
#pragma once

#include <jansson.h>

/* The number of iterations (0: none, or not a loop), capped at LONG_MAX. */
long loop_count(const json_t *loop);
/* The value of iteration `i` as text (allocated), or NULL when there is
 * none. */
char *loop_value(const json_t *loop, long i);
