/* fsutil.c: file-system helpers shared by the file-system action modules. */
#include "fsutil.h"
