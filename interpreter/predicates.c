/* predicates.c: the operator table of conditions and assertions. */
#include "predicates.h"

#include <string.h>

const struct predicate predicates[] = {
        { "and", PF_AND, PO_LOGIC, 0, NULL },
        { "binaryExists", PF_UNARY, PO_PATH, 0, NULL },
        { "fileExists", PF_UNARY, PO_PATH, 0, NULL },
        { "fileMD5Equals", PF_PATH, PO_HASH, 32, NULL },
        { "fileSHA1Equals", PF_PATH, PO_HASH, 40, NULL },
        { "fileSHA256Equals", PF_PATH, PO_HASH, 64, NULL },
        { "fileSHA512Equals", PF_PATH, PO_HASH, 128, NULL },
        { "folderExists", PF_UNARY, PO_PATH, 0, NULL },
        { "not", PF_NOT, PO_LOGIC, 0, NULL },
        { "numberEquals", PF_VALUE, PO_NUMBER, 0, NULL },
        { "numberGreaterThan", PF_VALUE, PO_NUMBER, 0, NULL },
        { "numberGreaterThanEquals", PF_VALUE, PO_NUMBER, 0, NULL },
        { "numberLessThan", PF_VALUE, PO_NUMBER, 0, NULL },
        { "numberLessThanEquals", PF_VALUE, PO_NUMBER, 0, NULL },
        { "or", PF_OR, PO_LOGIC, 0, NULL },
        { "patternMatches", PF_VALUE, PO_REGEX, 0, NULL },
        { "stringEquals", PF_VALUE, PO_STRING, 0, NULL },
        { "stringGreaterThan", PF_VALUE, PO_STRING, 0, NULL },
        { "stringGreaterThanEquals", PF_VALUE, PO_STRING, 0, NULL },
        { "stringIsEmpty", PF_UNARY, PO_STRING, 0, NULL },
        { "stringIsWhitespace", PF_UNARY, PO_STRING, 0, NULL },
        { "stringLessThan", PF_VALUE, PO_STRING, 0, NULL },
        { "stringLessThanEquals", PF_VALUE, PO_STRING, 0, NULL },
        /* AWS's own examples spell it so; accepted with a warning. */
        { "stringlessThan", PF_VALUE, PO_STRING, 0, "stringLessThan" },
};

const size_t n_predicates = sizeof predicates / sizeof predicates[0];

const struct predicate *pred_find(const char *name)
{
        for (size_t i = 0; i < n_predicates; i++)
                if (strcmp(predicates[i].name, name) == 0)
                        return &predicates[i];
        return NULL;
}

const char *const *pred_names(void)
{
        static const char *names[sizeof predicates / sizeof predicates[0] + 1];
        if (!names[0])
                for (size_t i = 0; i < n_predicates; i++)
                        names[i] = predicates[i].name;
        return names;
}
