/* awstime.c: the AWS layer's clock (aws_now_ms) and reading the two time
 * formats AWS answers with (ISO 8601 and HTTP dates). */
#include "awstime.h"

#include <errno.h>
#include <string.h>

#include "tunables.h"

int64_t aws_now_ms(void)
{
        return monotonic_ms();
}

static int read_digits(const char *s, int n, int *ret)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return 0;
}

static int make_time(int year, int mon, int day, int hour, int min, int sec, time_t *ret)
{
        if (year < 1970 || year > 9999 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
            sec > 60)
                return -EINVAL;
        struct tm tm = {
                .tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day,
                .tm_hour = hour, .tm_min = min, .tm_sec = sec,
        };
        time_t t = timegm(&tm);
        if (t == (time_t)-1)
                return -EINVAL;
        *ret = t;
        return 0;
}

int aws_time_parse(const char *s, time_t *ret)
{
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        int year, mon = 0, day, hour, min, sec;

        if (!s)
                return -EINVAL;
        while (*s == ' ')
                s++;
        /* ISO 8601: 2026-01-02T03:04:05[.fff](Z|+00:00) */
        if (strlen(s) >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't') && s[13] == ':' &&
            s[16] == ':') {
                if (read_digits(s, 4, &year) < 0 || read_digits(s + 5, 2, &mon) < 0 || read_digits(s + 8, 2, &day) < 0 ||
                    read_digits(s + 11, 2, &hour) < 0 || read_digits(s + 14, 2, &min) < 0 || read_digits(s + 17, 2, &sec) < 0)
                        return -EINVAL;
                const char *p = s + 19;
                if (*p == '.')
                        for (p++; *p >= '0' && *p <= '9'; p++)
                                ;
                if (strcmp(p, "Z") && strcmp(p, "z") && strcmp(p, "+00:00") && strcmp(p, "-00:00") && *p)
                        return -EINVAL;
                return make_time(year, mon, day, hour, min, sec, ret);
        }
        /* IMF-fixdate: Fri, 02 Jan 2026 03:04:05 GMT */
        const char *comma = strchr(s, ',');
        if (!comma)
                return -EINVAL;
        const char *p = comma + 1;
        while (*p == ' ')
                p++;
        if (strlen(p) < 20 || p[2] != ' ' || p[6] != ' ' || p[11] != ' ' || p[14] != ':' || p[17] != ':')
                return -EINVAL;
        if (read_digits(p, 2, &day) < 0 || read_digits(p + 7, 4, &year) < 0 || read_digits(p + 12, 2, &hour) < 0 ||
            read_digits(p + 15, 2, &min) < 0 || read_digits(p + 18, 2, &sec) < 0)
                return -EINVAL;
        for (int i = 0; i < 12; i++)
                if (!strncmp(p + 3, months + 3 * i, 3))
                        mon = i + 1;
        if (!mon || strcmp(p + 20, " GMT"))
                return -EINVAL;
        return make_time(year, mon, day, hour, min, sec, ret);
}
