/* CSV dialects: which delimiter a file uses, read from its first lines
 * (quote-aware), and the delimiter's name for messages and descriptions. */
#include "data/loaders.h"

#define SNIFF_LINES 30

static int is_blank_char(char c) { return c == ' ' || c == '\t'; }

/* Counts c outside quotes on the line from p; *next is the next line. */
static size_t count_on_line(const char *p, const char *end, char c, const char **next) {
    size_t k = 0;
    int in_quotes = 0;
    for (; p < end; p++) {
        if (*p == '"') in_quotes = !in_quotes;
        if (!in_quotes && (*p == '\n' || *p == '\r')) break;
        k += !in_quotes && *p == c;
    }
    while (p < end && (*p == '\n' || *p == '\r')) p++;
    *next = p;
    return k;
}

/* The delimiter: of tab, ';', ',' and '|' the first found equally often on
 * each of the first lines (tab and ';' before ',', which is also a decimal
 * comma in some locales); else the one most frequent on the first line;
 * else runs of blanks when the first line has two words; else ','. */
char gsgdi_csv_sniff_delimiter(const char *p, const char *end) {
    static const char cand[4] = {'\t', ';', ',', '|'};
    size_t first[4] = {0}, consistent[4] = {1, 1, 1, 1};
    const char *q = p;
    int lines = 0;
    while (q < end && lines < SNIFF_LINES) {
        const char *next = q;
        size_t blank = 1;
        for (const char *c = q; c < end && *c != '\n' && *c != '\r'; c++)
            blank &= is_blank_char(*c);
        if (blank) {
            count_on_line(q, end, ',', &next);
            if (next == q) break;
            q = next;
            continue;
        }
        for (int k = 0; k < 4; k++) {
            const size_t n = count_on_line(q, end, cand[k], &next);
            if (lines == 0) first[k] = n;
            consistent[k] &= n == first[k];
        }
        q = next;
        lines++;
    }
    for (int k = 0; k < 4; k++)
        if (first[k] > 0 && consistent[k]) return cand[k];
    int best = -1;
    for (int k = 0; k < 4; k++)
        if (first[k] > 0 && (best < 0 || first[k] > first[best])) best = k;
    if (best >= 0) return cand[best];
    /* Words separated by blanks on the first line. */
    int words = 0, in_word = 0;
    for (q = p; q < end && *q != '\n' && *q != '\r'; q++) {
        const int b = is_blank_char(*q);
        words += !b && !in_word;
        in_word = !b;
    }
    return words >= 2 ? 0 : ',';
}

const char *gsgdi_csv_delimiter_name(char d) {
    switch (d) {
    case ',':
        return "comma";
    case '\t':
        return "tab";
    case ';':
        return "semicolon";
    case 0:
        return "blank";
    case '|':
        return "'|'";
    }
    return "custom";
}
