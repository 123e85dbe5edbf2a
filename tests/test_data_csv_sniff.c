/* Delimiter detection: the mark found as often on every one of the first
 * lines, quotes looked through, ';' and tab before ','. */
#include <criterion/criterion.h>
#include <string.h>

#include "data/loaders.h"

static char sniff(const char *text) { return gsgdi_csv_sniff_delimiter(text, text + strlen(text)); }

Test(csv_sniff, finds_the_mark_found_as_often_on_each_line) {
    cr_assert_eq(sniff("a,b,c\n1,2,3\n"), ',');
    cr_assert_eq(sniff("a\tb\n1\t2\n"), '\t');
    cr_assert_eq(sniff("a|b\n1|2\n"), '|');
}

Test(csv_sniff, prefers_semicolons_to_decimal_commas) {
    cr_assert_eq(sniff("1,5;2,25\n3,0;4,75\n"), ';');
}

Test(csv_sniff, looks_through_quotes_including_quoted_line_ends) {
    cr_assert_eq(sniff("\"a;b\",c\n\"x\ny;z\",w\n1,2\n"), ',');
}

Test(csv_sniff, a_ragged_file_takes_the_most_frequent_mark_of_its_first_line) {
    cr_assert_eq(sniff("1,2,3;4\n1,2\n"), ',');
}

Test(csv_sniff, falls_back_to_blanks_then_comma) {
    cr_assert_eq(sniff("1 2  3\n4 5 6\n"), 0);
    cr_assert_eq(sniff("12\n13\n"), ',');
    cr_assert_str_eq(gsgdi_csv_delimiter_name(0), "blank");
    cr_assert_str_eq(gsgdi_csv_delimiter_name(';'), "semicolon");
}
