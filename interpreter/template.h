/* template.h: `{{ }}` references inside strings.  tmpl_scan splits a
 * string into literal text and references (with their byte offsets, so
 * diagnostics can point at them); ref_parse classifies one reference:
 * a parameter or constant, an output/input chain to another step, a loop
 * variable, or a Systems Manager parameter. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum tmpl_seg_kind {
        TSEG_TEXT,
        TSEG_REF,
        TSEG_OTHER, /* tmpl_split: braces that are not a reference, kept as written */
};

struct tmpl_seg {
        enum tmpl_seg_kind kind;
        size_t offset, len; /* bytes of the whole segment in the string */
        char *text;         /* the literal text, or the trimmed expression */
        const char *note;   /* OTHER: why it is not a reference (static) */
};

struct tmpl {
        struct tmpl_seg *segs;
        size_t n;
        size_t n_refs;
};

/* Scans `s`.  Returns 0, or -EINVAL with *reterr_offset at the offending
 * "{{" and *reterr_msg saying what is wrong (unterminated or empty). */
int tmpl_scan(const char *s, size_t len, struct tmpl *ret, size_t *reterr_offset,
              const char **reterr_msg);
/* The same, for documents: never fails.  Only braces whose content has
 * the shape of a document reference (ref_shaped()) become TSEG_REF; a
 * "{{" without "}}", an empty "{{ }}" and any other content (a Go or
 * Helm template, `docker inspect -f '{{.State.Running}}'`) become
 * TSEG_OTHER segments, passed on as written, with a note saying why. */
void tmpl_split(const char *s, size_t len, struct tmpl *ret);
void tmpl_free(struct tmpl *t);
/* True if the string contains "{{" at all (a cheap pre-check). */
bool tmpl_has_refs(const char *s, size_t len);

enum ref_kind {
        REF_VARIABLE, /* {{ name }}: a parameter or constant */
        REF_CHAIN,    /* {{ phase.step.inputs[N].key }} or outputs */
        REF_LOOP,     /* {{ loop.index }} or {{ name.value }} */
        REF_SSM,      /* {{ aws:ssm:/path }} or {{ aws:ssm:resolve(x) }} */
        _REF_KIND_MAX,
};

struct ref {
        enum ref_kind kind;
        char *name;       /* VARIABLE: the name; LOOP: "loop" or the loop's name */
        char *phase;      /* CHAIN */
        char *step;       /* CHAIN */
        bool outputs;     /* CHAIN: outputs (true) or inputs (false) */
        long index;       /* CHAIN: [N], or -1 when not written */
        char *key;        /* CHAIN: the input or output name */
        bool loop_index;  /* LOOP: .index (true) or .value (false) */
        char *ssm;        /* SSM: the path, or the argument of resolve() */
        bool ssm_resolve; /* SSM: written as resolve(...) */
};

/* Parses a trimmed expression.  Returns 0, or -EINVAL with a message that
 * says which forms exist. */
int ref_parse(const char *expr, struct ref *ret, const char **reterr_msg);
void ref_free(struct ref *r);
/* Whether a trimmed expression has the shape of a document reference
 * (a name; name.name; phase.step.inputs|outputs[N].key; aws:ssm:...),
 * as opposed to the text of some other template language: parts made
 * of letters, digits, '-' and '_' (a step's name may hold spaces)
 * between dots with no space around them, and not one of the bare
 * words of Go templates (end, else, break, continue, nil). */
bool ref_shaped(const char *expr);

/* Systems Manager parameter names as GetParameter takes them: a name
 * (letters, digits, '_', '.', '-', and '/' between the levels of a
 * hierarchy, at most 15 of them; at most 1011 bytes; a hierarchy starts
 * with '/'), or an ARN arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME,
 * either followed by ":VERSION" or ":LABEL" (a label: at most 100 of
 * letters, digits, '.', '-', '_', not starting with a digit, "aws" or
 * "ssm").  /aws/reference/secretsmanager/ names may also hold the
 * characters of secret names (+=,@).  At most SSM_NAME_MAX bytes in all.
 * 0, or -EINVAL with *reterr_msg (static) saying what is wrong. */
#define SSM_NAME_MAX 2048
int ssm_name_check(const char *name, const char **reterr_msg);
