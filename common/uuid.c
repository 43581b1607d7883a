/* uuid.c: version 4 UUIDs from getrandom(2). */
#include "uuid.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int uuid_v4(char out[37])
{
        unsigned char b[16];
        int r = 0;
        ssize_t n;
        do
                n = getrandom(b, sizeof b, 0);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t)sizeof b) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                uint64_t x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
                uint64_t y = ((uint64_t)getpid() << 32) ^ (uint64_t)clock();
                memcpy(b, &x, 8);
                memcpy(b + 8, &y, 8);
                r = -EIO;
        }
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
        return r;
}
