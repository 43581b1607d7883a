/* sigv4.c: AWS Signature Version 4 (not implemented yet). */
#include "sigv4.h"
