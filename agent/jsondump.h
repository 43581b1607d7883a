/* jsondump.h: json_dumps()'s text, byte for byte, made without
 * jansson's walk of every character (a step's megabyte of stdout is
 * encoded in each checkpoint and twice in detailedoutput.json). */
#pragma once

#include <jansson.h>

/* What json_dumps(v, flags) returns (a malloc'd string, or NULL when it
 * would fail), for the flags opentoe uses: JSON_COMPACT, JSON_INDENT(n),
 * JSON_ENCODE_ANY, JSON_PRESERVE_ORDER.  Any other flag, or a jansson
 * whose unsorted order is not insertion order, is json_dumps itself. */
char *json_dump_fast(const json_t *v, size_t flags);
