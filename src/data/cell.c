/*
 * One text cell as the readers read it: a number (strtod, blanks around it
 * allowed) or a missing-value marker. The CSV reader, the target rules and
 * the label maps all read cells through these two, so a label text finds
 * the class its number made (src/data/labels.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/loaders.h"

int gsgdi_parse_number(const char *s, size_t len, double *v) {
    while (len && (*s == ' ' || *s == '\t')) s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    char buf[256];
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    *v = strtod(buf, &end);
    return end == buf + len;
}

int gsgdi_is_missing(const char *s, size_t len) {
    while (len && (*s == ' ' || *s == '\t')) s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    static const char *const words[] = {"?", "na", "n/a", "nan", "null"};
    if (len == 0) return 1;
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (strlen(words[k]) == len && strncasecmp(s, words[k], len) == 0) return 1;
    return 0;
}
