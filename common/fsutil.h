/* fsutil.h: file-system helpers shared by the file-system action modules
 * (paths, wildcards, atomic replacement, recursive walks). */
#pragma once
