/* yaml_events.c: the "physical limit" baseline for `opentoe validate`.
 *
 * For each file named on the command line it reads the whole file into
 * memory, then pulls every libyaml event out of it (yaml_parser_parse in a
 * loop, yaml_event_delete after each) and throws the events away.  No tree
 * is built, nothing is checked and nothing is printed but errors.  opentoe
 * has to do at least this much work for each document (it is built on the
 * same parser), so the time this takes, start-up included, is the floor
 * that bench/validate.sh compares opentoe against.
 *
 * Build: cc -O2 -o yaml_events yaml_events.c $(pkg-config --cflags --libs yaml-0.1)
 * Run:   yaml_events FILE...
 * Exit status: 0 if every file parsed, 1 if one could not be read or had a
 * YAML error (it still goes on with the others), 2 for a usage error. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Reads a whole file; returns NULL (with a message) on failure. */
static unsigned char *slurp(const char *path, size_t *ret_len)
{
        FILE *f = fopen(path, "rb");
        if (!f) {
                perror(path);
                return NULL;
        }
        size_t cap = 65536, len = 0;
        unsigned char *buf = malloc(cap);
        for (;;) {
                if (!buf) {
                        fprintf(stderr, "%s: out of memory\n", path);
                        fclose(f);
                        return NULL;
                }
                len += fread(buf + len, 1, cap - len, f);
                if (len < cap)
                        break;
                cap *= 2;
                unsigned char *bigger = realloc(buf, cap);
                if (!bigger)
                        free(buf);
                buf = bigger;
        }
        if (ferror(f)) {
                perror(path);
                free(buf);
                buf = NULL;
        }
        fclose(f);
        *ret_len = len;
        return buf;
}

/* Pulls every event; returns the number of events, or -1 on a YAML error. */
static long pull_events(const char *path, const unsigned char *buf, size_t len)
{
        yaml_parser_t parser;
        yaml_event_t event;
        long n = 0;

        if (!yaml_parser_initialize(&parser)) {
                fprintf(stderr, "%s: cannot initialise the YAML parser\n", path);
                return -1;
        }
        yaml_parser_set_input_string(&parser, buf, len);
        for (;;) {
                if (!yaml_parser_parse(&parser, &event)) {
                        fprintf(stderr, "%s:%zu:%zu: %s\n", path, parser.problem_mark.line + 1,
                                parser.problem_mark.column + 1, parser.problem ? parser.problem : "YAML error");
                        n = -1;
                        break;
                }
                yaml_event_type_t type = event.type;
                yaml_event_delete(&event);
                n++;
                if (type == YAML_STREAM_END_EVENT)
                        break;
        }
        yaml_parser_delete(&parser);
        return n;
}

int main(int argc, char **argv)
{
        int status = 0;
        bool verbose = argc > 1 && !strcmp(argv[1], "-v");

        if (argc < 2 + verbose) {
                fprintf(stderr, "usage: %s [-v] FILE...\n", argv[0]);
                return 2;
        }
        for (int i = 1 + verbose; i < argc; i++) {
                size_t len = 0;
                unsigned char *buf = slurp(argv[i], &len);
                if (!buf) {
                        status = 1;
                        continue;
                }
                long n = pull_events(argv[i], buf, len);
                if (n < 0)
                        status = 1;
                else if (verbose)
                        printf("%s: %ld events, %zu bytes\n", argv[i], n, len);
                free(buf);
        }
        return status;
}
