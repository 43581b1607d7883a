/* suggest.c: picks the likeliest intended name for a misspelled one. */
#include "suggest.h"

#include <ctype.h>
#include <string.h>

#include "strbuf.h"

size_t suggest_distance(const char *a, const char *b)
{
        size_t n = strlen(a), m = strlen(b);
        if (n > 256 || m > 256)
                return (size_t)-1;
        /* Three rows of the optimal-string-alignment table. */
        size_t rows[3][257];
        size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
        for (size_t j = 0; j <= m; j++)
                prev[j] = j;
        for (size_t i = 1; i <= n; i++) {
                cur[0] = i;
                for (size_t j = 1; j <= m; j++) {
                        int ca = tolower((unsigned char)a[i - 1]);
                        int cb = tolower((unsigned char)b[j - 1]);
                        size_t cost = ca != cb;
                        size_t best = prev[j] + 1;
                        if (cur[j - 1] + 1 < best)
                                best = cur[j - 1] + 1;
                        if (prev[j - 1] + cost < best)
                                best = prev[j - 1] + cost;
                        if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                            tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < best)
                                best = prev2[j - 2] + 1;
                        cur[j] = best;
                }
                size_t *t = prev2;
                prev2 = prev;
                prev = cur;
                cur = t;
        }
        return prev[m];
}

const char *suggest_closest(const char *word, const char *const *candidates)
{
        const char *best = NULL;
        size_t best_d = (size_t)-1;
        size_t len = strlen(word);
        /* Allow about one edit per three characters, at least one. */
        size_t limit = len / 3 > 0 ? len / 3 : 1;
        if (limit > 4)
                limit = 4;
        for (size_t i = 0; candidates && candidates[i]; i++) {
                size_t d = suggest_distance(word, candidates[i]);
                if (d < best_d) {
                        best_d = d;
                        best = candidates[i];
                }
        }
        return best_d <= limit ? best : NULL;
}
