/* action_spec.h: the static description of every action's inputs and
 * outputs, as data.  The tables themselves live in interpreter/specs.c and
 * the action numbers in interpreter/action_ids.h, both generated from
 * schemas/actions/<Action>.json by scripts/gen-action-specs.py; never edit
 * them by hand.  The checker reads these tables to validate a step's
 * inputs, the compiler puts an action's number in its ACT instruction,
 * the VM materialises defaults from them, and a module names its own
 * entry with ACTION_SPEC(). */
#pragma once

#include <stddef.h>

#include "action_ids.h"

/* Platforms an action (or one of its inputs) runs on. */
enum {
        PLAT_LINUX = 1u << 0,
        PLAT_WINDOWS = 1u << 1,
        PLAT_DARWIN = 1u << 2,
        PLAT_ALL = PLAT_LINUX | PLAT_WINDOWS | PLAT_DARWIN,
};

/* The type of one input value, as the document writes it. */
enum input_type {
        IN_STRING,      /* any non-null scalar (AWSTOE reads 755 as "755") */
        IN_BOOL,        /* true/false, or the strings "true"/"false" */
        IN_INT,         /* an integer scalar, or a string holding one */
        IN_STRING_LIST, /* a sequence of scalars */
        IN_NAME_VALUE_LIST, /* a sequence of {name: s, value: s} maps */
        IN_STRING_MAP,  /* a map of scalar to scalar (MSI properties) */
        IN_ANY,         /* scalar or sequence of scalars (SetRegistry value) */
        _IN_TYPE_MAX,
};

/* Flags of one input. */
enum {
        INF_REQUIRED = 1u << 0,
        INF_ENUM_NOCASE = 1u << 1, /* enum values compare case-insensitively */
        INF_NO_TEMPLATE = 1u << 2, /* {{ }} references are not allowed */
        INF_EXTENSION = 1u << 3,   /* opentoe's, not AWSTOE's: an error under --strict-awstoe */
};

struct input_field {
        const char *name;
        enum input_type type;
        unsigned flags;
        unsigned platforms;            /* 0 means: every platform of the action */
        const char *const *enum_values; /* NULL-terminated, or NULL */
        const char *default_json;      /* default as JSON text, or NULL */
        const char *description;
};

/* How a step's `inputs` is written. */
enum inputs_shape {
        SHAPE_MAP,        /* one mapping */
        SHAPE_LIST,       /* a sequence of mappings, each one entry */
        SHAPE_EXPRESSION, /* a comparison/logical expression (Assert) */
        _SHAPE_MAX,
};

/* Flags of an action. */
enum {
        ACT_INPUTS_OPTIONAL = 1u << 0, /* `inputs` may be omitted (Reboot, UpdateOS) */
        ACT_EXTENSION = 1u << 1,       /* opentoe-only: rejected by --strict-awstoe */
        ACT_FORCED_ONCE = 1u << 2,     /* timeoutSeconds -1 and maxAttempts 1 forced */
        ACT_NO_TIMEOUT = 1u << 3,      /* timeoutSeconds is not supported */
        ACT_SPAWNS = 1u << 4,          /* runs a child process */
        ACT_NETWORK = 1u << 5,         /* talks to the network */
        ACT_REBOOTS = 1u << 6,         /* may reboot the machine */
};

struct action_spec {
        enum action_id id;       /* its index in action_specs[] */
        const char *name;        /* "ExecuteBash", exactly as documents spell it */
        unsigned platforms;      /* PLAT_* */
        unsigned flags;          /* ACT_* */
        enum inputs_shape shape;
        const struct input_field *fields;
        size_t n_fields;
        /* Groups of inputs of which exactly one must be given, each group
         * NULL-terminated; the array of groups is NULL-terminated too. */
        const char *const *const *exactly_one_of;
        const char *const *outputs; /* NULL-terminated output names */
        const char *description;
};

/* The generated table, sorted by name (strcmp order) and indexed by
 * enum action_id. */
extern const struct action_spec action_specs[_ACTION_ID_MAX];
extern const size_t n_action_specs;

/* An action's entry by its name as documents spell it, as a constant
 * expression: `.spec = ACTION_SPEC(ExecuteBash)` in a module. */
#define ACTION_SPEC(name) (&action_specs[ACTION_ID_##name])

/* Finds an action by its exact, case-sensitive name; NULL if unknown. */
const struct action_spec *action_spec_find(const char *name);

/* Finds an input field of an action by exact name; NULL if unknown. */
const struct input_field *action_spec_field(const struct action_spec *a, const char *name);

/* True if `name` is one of the action's outputs. */
int action_spec_has_output(const struct action_spec *a, const char *name);

/* Spelling of an input type for messages ("a string", "a list of strings"). */
const char *input_type_describe(enum input_type t);
